//! Full requests through an axum `Router` with `SessionLayer`, side by side
//! in one process with a bare router (no-op layer, same `Cookie` header),
//! tower-sessions + `MemoryStore`, axum-extra's `SignedCookieJar`, and the
//! floor (the least work a signed JSON cookie needs). Ends with a table of
//! overheads and ratios computed from this run's medians.
//!
//! ```sh
//! cargo bench --bench middleware -- --warm-up-time 1 --measurement-time 3
//! ```

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

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

    let mut group = c.benchmark_group("req_nocookie");
    bench_rows(&mut group, &rt, &rows::no_cookie_rows());
    group.finish();

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
        group.finish();
    }
    c.final_summary();
    summary(started);
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

    println!(
        "\n## Summary (medians of this run; Δ = row − bare router with the same Cookie header)\n"
    );
    let no_cookie = sub(
        m("req_nocookie", "ours_nocookie"),
        m("req_nocookie", "bare_nocookie"),
    );
    println!(
        "no cookie: bare {}, layer Δ {}\n",
        fmt_ns(m("req_nocookie", "bare_nocookie")),
        fmt_ns(no_cookie)
    );
    println!("| size | bare | untouched Δ | untouched, no refresh Δ | read Δ | read+write Δ | floor sign+verify | r+w Δ / floor | tower-sessions Δ | r+w Δ / t-s Δ | jar add+get Δ | r+w Δ / jar Δ | jar + JSON Δ |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (label, _) in SIZES {
        let g = format!("req_{label}");
        let bare = m(&g, "bare");
        let delta = |name| sub(m(&g, name), bare);
        let rw = delta("read_write");
        let floor = m(&g, "floor_sign")
            .zip(m(&g, "floor_verify"))
            .map(|(sign, verify)| sign + verify);
        let ts = sub(m(&g, "tower_sessions"), m(&g, "bare_ts"));
        let jar = sub(m(&g, "jar_add_get"), m(&g, "bare_jar"));
        let jar_json = sub(m(&g, "jar_json"), m(&g, "bare_jar"));
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            fmt_ns(bare),
            fmt_ns(delta("untouched")),
            fmt_ns(delta("untouched_norefresh")),
            fmt_ns(delta("read")),
            fmt_ns(rw),
            fmt_ns(floor),
            fmt_ratio(div(rw, floor)),
            fmt_ns(ts),
            fmt_ratio(div(rw, ts)),
            fmt_ns(jar),
            fmt_ratio(div(rw, jar)),
            fmt_ns(jar_json),
        );
    }
}
