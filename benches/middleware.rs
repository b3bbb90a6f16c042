//! Full requests through an axum `Router` with `SessionLayer`, side by side
//! in one process with a bare router (no-op layer, same `Cookie` header),
//! tower-sessions + `MemoryStore` (read + write, and read only), axum-extra's `SignedCookieJar` and
//! `PrivateCookieJar` (beside the encrypted layer), and the
//! floor (the least work a signed JSON cookie needs). Ends with a table of
//! overheads and ratios computed from this run's medians, and an interleaved
//! A/B timing of the sub-microsecond overheads (untouched, read), which on a
//! shared machine drift more between two criterion rows than they measure.
//!
//! ```sh
//! cargo bench --bench middleware -- --warm-up-time 1 --measurement-time 3
//! ```

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use common::rows::{self, send, Row};
use common::{payload, Floor, Kind, SIZES};
use criterion::{BenchmarkGroup, Criterion};

fn bench_rows(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    rows: &[Row],
) {
    for row in rows {
        group.bench_function(row.name, |b| {
            b.to_async(rt)
                .iter(|| async { black_box(send(&row.router, row.cookie.as_ref()).await) });
        });
    }
}

fn main() {
    let started = SystemTime::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut c = Criterion::default().configure_from_args();

    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let mut paired_rows = Vec::new();

    let no_cookie = rows::no_cookie_rows();
    let mut group = c.benchmark_group("req_nocookie");
    bench_rows(&mut group, &rt, &no_cookie);
    group.finish();
    if bench_mode {
        let delta = paired(&rt, &no_cookie[0], &no_cookie[1]);
        paired_rows.push(("–", no_cookie[1].name, delta));
        let delta = paired(&rt, &no_cookie[2], &no_cookie[3]);
        paired_rows.push(("–", no_cookie[3].name, delta));
    }

    let floor = Floor::new();
    for (label, target) in SIZES {
        let map = payload(Kind::Alnum, target);
        let rows = rt.block_on(rows::rows(&map));
        let token = floor.sign(&map);
        let mut group = c.benchmark_group(format!("req_{label}"));
        if target > 8 * 1024 {
            group.sample_size(50);
        }
        bench_rows(&mut group, &rt, &rows);
        group.bench_function("floor_sign", |b| b.iter(|| floor.sign(black_box(&map))));
        group.bench_function("floor_verify", |b| {
            b.iter(|| floor.verify(black_box(&token)));
        });
        group.bench_function("floor_hmac_b64", |b| {
            b.iter(|| floor.verify_bytes(black_box(&token)));
        });
        let token_z = floor.sign_deflate(&map);
        group.bench_function("floor_sign_deflate", |b| {
            b.iter(|| floor.sign_deflate(black_box(&map)));
        });
        group.bench_function("floor_verify_inflate", |b| {
            b.iter(|| floor.verify_inflate(black_box(&token_z)));
        });
        group.finish();
        if bench_mode {
            let find = |name: &str| rows.iter().find(|r| r.name == name).expect("the row");
            for (base, name) in [
                ("bare", "untouched"),
                ("bare", "untouched_norefresh"),
                ("bare_cold", "untouched_cold"),
                ("bare", "read"),
            ] {
                paired_rows.push((label, name, paired(&rt, find(base), find(name))));
            }
            let bare_ts = rows.iter().find(|r| r.name == "bare_ts").expect("bare_ts");
            let ts_read = rows
                .iter()
                .find(|r| r.name == "tower_sessions_read")
                .expect("the row");
            paired_rows.push((label, ts_read.name, paired(&rt, bare_ts, ts_read)));
        }
    }
    c.final_summary();
    summary(started);
    if !paired_rows.is_empty() {
        println!("\nInterleaved A/B (101 alternating batches of ~1 ms each, row − bare with the same Cookie header; target for untouched: ≤ 100 ns):\n");
        println!("| size | row | Δ median | Δ 25th–75th percentile |");
        println!("|---|---|---|---|");
        for (size, name, (p25, p50, p75)) in paired_rows {
            println!(
                "| {size} | {name} | {} | {} – {} |",
                fmt_ns(Some(p50)),
                fmt_ns(Some(p25)),
                fmt_ns(Some(p75))
            );
        }
    }
}

/// Nanoseconds per request of `row`, in one batch of `n`.
fn batch(rt: &tokio::runtime::Runtime, row: &Row, n: usize) -> f64 {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            black_box(send(&row.router, row.cookie.as_ref()).await);
        }
        start.elapsed().as_nanos() as f64 / n as f64
    })
}

/// `row` − `base` per request: quartiles over alternating batches, so that
/// load drifting on a shared machine hits both sides alike.
fn paired(rt: &tokio::runtime::Runtime, base: &Row, row: &Row) -> (f64, f64, f64) {
    const ROUNDS: usize = 101;
    let estimate = batch(rt, base, 50).max(batch(rt, row, 50));
    let n = ((1_000_000.0 / estimate) as usize).clamp(10, 5_000);
    let mut deltas: Vec<f64> = (0..ROUNDS)
        .map(|i| {
            if i % 2 == 0 {
                let b = batch(rt, base, n);
                batch(rt, row, n) - b
            } else {
                let r = batch(rt, row, n);
                r - batch(rt, base, n)
            }
        })
        .collect();
    deltas.sort_by(f64::total_cmp);
    (
        deltas[ROUNDS / 4],
        deltas[ROUNDS / 2],
        deltas[3 * ROUNDS / 4],
    )
}

/// Where criterion writes its estimates, found as criterion finds it.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let metadata = std::env::var_os("CARGO").and_then(|cargo| {
        std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()
    });
    metadata
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|v| v["target_directory"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// Median (ns) of `group/name` if this process measured it.
fn median(group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(name)
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn fmt_ns(ns: Option<f64>) -> String {
    match ns {
        Some(ns) if ns.abs() >= 10_000.0 => format!("{:.1} µs", ns / 1000.0),
        Some(ns) => format!("{ns:.0} ns"),
        None => "–".to_owned(),
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}"))
}

fn summary(since: SystemTime) {
    let m = |group: &str, name: &str| median(group, name, since);
    let sub = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
    let div = |a: Option<f64>, b: Option<f64>| Some(a? / b?);
    let measured = SIZES
        .iter()
        .any(|(label, _)| m(&format!("req_{label}"), "bare").is_some());
    if !measured {
        return; // `--test` mode, or a filter that left out the bare rows
    }
    // Δ of a row over the bare router sent the same Cookie header.
    let delta = |g: &str, name: &str| {
        let bare = match name {
            n if n.starts_with("enc_") => "bare_enc",
            n if n.starts_with("private_") => "bare_private",
            n if n.ends_with("_cold") => "bare_cold",
            n if n.starts_with("tower_sessions") => "bare_ts",
            n if n.starts_with("jar") => "bare_jar",
            _ => "bare",
        };
        sub(m(g, name), m(g, bare))
    };

    println!(
        "\n## Summary (medians of this run; Δ = row − bare router with the same Cookie header)\n"
    );
    let no_cookie = sub(
        m("req_nocookie", "ours_nocookie"),
        m("req_nocookie", "bare_nocookie"),
    );
    println!(
        "no cookie: bare {}, layer Δ {} (target ≤ 100 ns)\n",
        fmt_ns(m("req_nocookie", "bare_nocookie")),
        fmt_ns(no_cookie)
    );
    println!("Targets (cold: decode cache off and Compression::Never; default: Auto, cache on):\n");
    println!("| size | untouched cold Δ (≤ 250 ns) | read cold Δ / t-s read Δ (≤ 0.75; 1 at 100 B) | r+w cold Δ / t-s r+w Δ (≤ 0.75) | default r+w Δ / deflate floor (≤ 1.5) |");
    println!("|---|---|---|---|---|");
    for (label, _) in SIZES {
        let g = format!("req_{label}");
        let d = |name| delta(&g, name);
        let floor_z = m(&g, "floor_sign_deflate")
            .zip(m(&g, "floor_verify_inflate"))
            .map(|(sign, verify)| sign + verify);
        let cell = |a: Option<f64>, b: Option<f64>| {
            format!("{} / {} = {}", fmt_ns(a), fmt_ns(b), fmt_ratio(div(a, b)))
        };
        println!(
            "| {label} | {} | {} | {} | {} |",
            fmt_ns(d("untouched_cold")),
            cell(d("read_cold"), d("tower_sessions_read")),
            cell(d("read_write_cold"), d("tower_sessions")),
            cell(d("read_write"), floor_z),
        );
    }
    println!("\nEvery row of ours (hit: the shared layer's cache knows the token; flask: Compression::Flask):\n");
    println!("| size | bare | untouched Δ hit / cold / no refresh | read Δ hit / cold | read+write Δ default / cold / flask | floor sign+verify / with deflate |");
    println!("|---|---|---|---|---|---|");
    for (label, _) in SIZES {
        let g = format!("req_{label}");
        let d = |name| fmt_ns(delta(&g, name));
        let floor = m(&g, "floor_sign")
            .zip(m(&g, "floor_verify"))
            .map(|(sign, verify)| sign + verify);
        let floor_z = m(&g, "floor_sign_deflate")
            .zip(m(&g, "floor_verify_inflate"))
            .map(|(sign, verify)| sign + verify);
        println!(
            "| {label} | {} | {} / {} / {} | {} / {} | {} / {} / {} | {} / {} |",
            fmt_ns(m(&g, "bare")),
            d("untouched"),
            d("untouched_cold"),
            d("untouched_norefresh"),
            d("read"),
            d("read_cold"),
            d("read_write"),
            d("read_write_cold"),
            d("read_write_flask"),
            fmt_ns(floor),
            fmt_ns(floor_z),
        );
    }
    println!("\nEncrypted (`SessionLayer::encrypted`, AES-256-GCM-SIV) beside signed, and axum-extra's PrivateCookieJar (AES-256-GCM) doing the same work (JSON parse, read one key; + write one key, serialize, encrypt):\n");
    println!("| size | signed read cold Δ | encrypted read Δ hit / cold | private jar read Δ | signed r+w cold Δ | encrypted r+w Δ hit / cold | private jar r+w Δ |");
    println!("|---|---|---|---|---|---|---|");
    for (label, _) in SIZES {
        let g = format!("req_{label}");
        let d = |name| fmt_ns(delta(&g, name));
        println!(
            "| {label} | {} | {} / {} | {} | {} | {} / {} | {} |",
            d("read_cold"),
            d("enc_read"),
            d("enc_read_cold"),
            d("private_jar_read"),
            d("read_write_cold"),
            d("enc_read_write"),
            d("enc_read_write_cold"),
            d("private_jar_json"),
        );
    }
    println!("\nThe peers (Δ over their own bare router):\n");
    println!("| size | tower-sessions read | tower-sessions r+w | jar add+get | jar + JSON |");
    println!("|---|---|---|---|---|");
    for (label, _) in SIZES {
        let g = format!("req_{label}");
        let d = |name| fmt_ns(delta(&g, name));
        println!(
            "| {label} | {} | {} | {} | {} |",
            d("tower_sessions_read"),
            d("tower_sessions"),
            d("jar_add_get"),
            d("jar_json"),
        );
    }
}
