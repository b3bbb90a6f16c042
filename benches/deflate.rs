//! Deflate backends on the request rows' payload (alphanumeric JSON at
//! ~100 B, 1 KiB, 4 KiB and 32 KiB), zlib format (what Flask's
//! `zlib.compress` writes), levels 1 and 6, each with its state reused across
//! calls as the codec reuses its `Compress`: C zlib through flate2 (the
//! crate's backend, `reset` + `compress_vec`), `miniz_oxide`'s
//! `CompressorOxide` (`reset` + `compress`), libdeflate (`libdeflater`,
//! one-shot `zlib_compress` with a reused `Compressor`) and zlib-rs (its own
//! `Deflate`, `reset` + `compress`; flate2 keeps C zlib). Every output is
//! inflated with C zlib and checked against the input. Ends with a table of
//! output bytes.
//!
//! ```sh
//! cargo bench --bench deflate -- --warm-up-time 1 --measurement-time 2
//! ```

mod common;

use std::hint::black_box;
use std::io::Read as _;

use common::{payload, Kind, SIZES};
use criterion::Criterion;
use miniz_oxide::deflate::core::{
    compress as miniz_compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};

/// One backend at one level, with its reused state and output buffer.
/// `compress` writes the zlib stream of its input into `out` and returns its
/// length.
type Compressor = Box<dyn FnMut(&[u8], &mut Vec<u8>) -> usize>;

/// Room for any zlib stream of `n` bytes (stored blocks plus header and
/// trailer, with margin).
fn bound(n: usize) -> usize {
    n + n / 8 + 64
}

fn zlib(level: u32) -> Compressor {
    let mut z = flate2::Compress::new(flate2::Compression::new(level), true);
    Box::new(move |input, out| {
        z.reset();
        out.clear();
        let status = z
            .compress_vec(input, out, flate2::FlushCompress::Finish)
            .expect("deflate");
        assert_eq!(status, flate2::Status::StreamEnd);
        out.len()
    })
}

fn miniz(level: i32) -> Compressor {
    let mut d = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
        level, 15, 0,
    )));
    Box::new(move |input, out| {
        d.reset();
        out.resize(bound(input.len()), 0);
        let (status, read, written) = miniz_compress(&mut d, input, out, TDEFLFlush::Finish);
        assert_eq!((status, read), (TDEFLStatus::Done, input.len()));
        written
    })
}

fn libdeflate(level: i32) -> Compressor {
    let mut c = libdeflater::Compressor::new(
        libdeflater::CompressionLvl::new(level).expect("a valid level"),
    );
    Box::new(move |input, out| {
        out.resize(bound(input.len()), 0);
        c.zlib_compress(input, out).expect("room for the output")
    })
}

fn zlib_rs(level: i32) -> Compressor {
    let mut d = zlib_rs::Deflate::new(level, true, 15);
    Box::new(move |input, out| {
        d.reset();
        out.resize(bound(input.len()), 0);
        let status = d
            .compress(input, out, zlib_rs::DeflateFlush::Finish)
            .expect("deflate");
        assert_eq!(status, zlib_rs::Status::StreamEnd);
        usize::try_from(d.total_out()).expect("fits")
    })
}

fn backends() -> Vec<(&'static str, Compressor)> {
    vec![
        ("zlib_l1", zlib(1)),
        ("zlib_l6", zlib(6)),
        ("miniz_l1", miniz(1)),
        ("miniz_l6", miniz(6)),
        ("libdeflate_l1", libdeflate(1)),
        ("libdeflate_l6", libdeflate(6)),
        ("zlibrs_l1", zlib_rs(1)),
        ("zlibrs_l6", zlib_rs(6)),
    ]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    // (size, backend, output bytes, identical to C zlib at the same level)
    let mut sizes = Vec::new();
    for (label, target) in SIZES {
        let json = serde_json::to_vec(&payload(Kind::Alnum, target)).expect("JSON");
        let mut outputs: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut group = c.benchmark_group(format!("deflate_{label}"));
        for (name, mut compress) in backends() {
            let mut out = Vec::with_capacity(bound(json.len()));
            let n = compress(&json, &mut out);
            let mut back = Vec::new();
            flate2::read::ZlibDecoder::new(&out[..n])
                .read_to_end(&mut back)
                .expect("a zlib stream");
            assert_eq!(back, json, "{name} round-trips");
            outputs.push((name, out[..n].to_vec()));
            group.bench_function(name, |b| {
                b.iter(|| compress(black_box(&json), &mut out));
            });
        }
        group.finish();
        for (name, out) in &outputs {
            let level = &name[name.len() - 2..];
            let reference = outputs
                .iter()
                .find(|(n, _)| *n == format!("zlib_{level}"))
                .map(|(_, o)| o);
            sizes.push((label, json.len(), *name, out.len(), reference == Some(out)));
        }
    }
    c.final_summary();

    println!("\nOutput bytes (zlib format; input: the alnum JSON payload):\n");
    println!("| size | JSON bytes | backend | output bytes | % of JSON | same bytes as C zlib |");
    println!("|---|---|---|---|---|---|");
    for (label, json, name, bytes, same) in sizes {
        println!(
            "| {label} | {json} | {name} | {bytes} | {:.1}% | {} |",
            100.0 * bytes as f64 / json as f64,
            match (name.starts_with("zlib_"), same) {
                (true, _) => "(reference)",
                (false, true) => "yes",
                (false, false) => "no",
            }
        );
    }
}
