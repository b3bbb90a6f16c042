//! `Codec::encode` / `Codec::decode` at ~100 B, 1 KiB, 4 KiB and 16 KiB, on
//! pseudo-random alphanumeric, compressible and least-compressible payloads,
//! side by side with the floor (serde_json + base64url + HMAC-SHA1, no
//! compression) on the alphanumeric payload.
//!
//! ```sh
//! cargo bench --bench codec -- --warm-up-time 1 --measurement-time 3
//! ```

mod common;

use std::hint::black_box;

use common::{json_len, payload, Floor, Kind, MAX_AGE, NOW, SECRET, SIZES, TS};
use criterion::Criterion;
use tower_cookie_session::codec::Codec;
use tower_cookie_session::Key;

fn main() {
    let codec = Codec::new(Key::new(SECRET).expect("non-empty"));
    let floor = Floor::new();
    let mut c = Criterion::default().configure_from_args();

    println!("| payload | size | JSON bytes | token bytes | compressed | floor token bytes |");
    println!("|---|---|---|---|---|---|");
    for kind in Kind::ALL {
        for (label, target) in SIZES {
            let map = payload(kind, target);
            let token = codec.encode(&map, TS);
            println!(
                "| {} | {label} | {} | {} | {} | {} |",
                kind.label(),
                json_len(&map),
                token.len(),
                token.starts_with('.'),
                floor.sign(&map).len()
            );
        }
    }

    for kind in Kind::ALL {
        for (label, target) in SIZES {
            let map = payload(kind, target);
            let token = codec.encode(&map, TS);
            assert_eq!(codec.decode(&token, NOW, Some(MAX_AGE)).as_ref(), Ok(&map));
            let mut group = c.benchmark_group(format!("codec_{}_{label}", kind.label()));
            group.bench_function("encode", |b| {
                b.iter(|| codec.encode(black_box(&map), TS));
            });
            group.bench_function("decode", |b| {
                b.iter(|| codec.decode(black_box(&token), NOW, Some(MAX_AGE)));
            });
            if kind == Kind::Alnum {
                let floor_token = floor.sign(&map);
                group.bench_function("floor_sign", |b| b.iter(|| floor.sign(black_box(&map))));
                group.bench_function("floor_verify", |b| {
                    b.iter(|| floor.verify(black_box(&floor_token)));
                });
            }
            group.finish();
        }
    }
    c.final_summary();
}
