//! Heap allocations per request for every request row of `benches/middleware.rs`,
//! and per call for the codec and the floor, counted by a wrapping global
//! allocator. Counts, not times: deterministic, so one run is enough.
//!
//! ```sh
//! cargo bench --bench allocations
//! ```

mod common;

use std::alloc::System;
use std::hint::black_box;

use common::rows::{self, send, Row};
use common::{payload, Floor, Kind, MAX_AGE, NOW, SECRET, SIZES, TS};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::Key;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations and allocated bytes per call of `f`, after three warm-up calls
/// (thread-local compressor state, lazily built tables).
fn count(iterations: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..3 {
        f();
    }
    let region = Region::new(GLOBAL);
    for _ in 0..iterations {
        f();
    }
    let stats = region.change();
    let n = iterations as f64;
    (
        (stats.allocations + stats.reallocations) as f64 / n,
        stats.bytes_allocated as f64 / n,
    )
}

fn request(rt: &tokio::runtime::Runtime, iterations: usize, row: &Row) -> (f64, f64) {
    count(iterations, || {
        rt.block_on(async { drop(black_box(send(&row.router, row.cookie.as_ref()).await)) });
    })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only check that every row runs.
    let iterations = if std::env::args().any(|a| a == "--bench") {
        200
    } else {
        2
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    println!("allocations (allocs + reallocs) and bytes allocated per request, {iterations} requests per row");
    println!("Δ = row − the bare router sent the same Cookie header\n");
    println!("| size | row | allocs | bytes | Δ allocs | Δ bytes |");
    println!("|---|---|---|---|---|---|");
    let print = |size: &str, name: &str, (a, b): (f64, f64), base: (f64, f64)| {
        println!(
            "| {size} | {name} | {a:.1} | {b:.0} | {:+.1} | {:+.0} |",
            a - base.0,
            b - base.1
        );
    };

    let no_cookie = rows::no_cookie_rows();
    let base = request(&rt, iterations, &no_cookie[0]);
    let others_base = request(&rt, iterations, &no_cookie[2]);
    for row in &no_cookie {
        let base = if row.name.ends_with("othercookies") {
            others_base
        } else {
            base
        };
        print("–", row.name, request(&rt, iterations, row), base);
    }
    for (label, target) in SIZES {
        let map = payload(Kind::Alnum, target);
        let rows = rt.block_on(rows::rows(&map));
        let bases: Vec<(&str, (f64, f64))> = ["bare", "bare_ts", "bare_jar"]
            .iter()
            .map(|name| {
                let row = rows.iter().find(|r| r.name == *name).expect("bare rows");
                (*name, request(&rt, iterations, row))
            })
            .collect();
        for row in &rows {
            let base = match row.name {
                "bare_ts" | "tower_sessions" | "tower_sessions_read" => bases[1].1,
                "bare_jar" | "jar_add_get" | "jar_json" => bases[2].1,
                _ => bases[0].1,
            };
            print(label, row.name, request(&rt, iterations, row), base);
        }
    }

    println!("\n| size | op | allocs | bytes |");
    println!("|---|---|---|---|");
    let codec = Codec::new(Key::new(SECRET).expect("non-empty"));
    let floor = Floor::new();
    for (label, target) in SIZES {
        let map = payload(Kind::Alnum, target);
        let token = codec.encode(&map, TS);
        let floor_token = floor.sign(&map);
        let ops: [(&str, &mut dyn FnMut()); 4] = [
            ("codec encode", &mut || {
                drop(black_box(codec.encode(&map, TS)))
            }),
            ("codec decode", &mut || {
                drop(black_box(codec.decode(&token, NOW, Some(MAX_AGE))));
            }),
            ("floor sign", &mut || drop(black_box(floor.sign(&map)))),
            ("floor verify", &mut || {
                drop(black_box(floor.verify(&floor_token)))
            }),
        ];
        for (name, f) in ops {
            let (a, b) = count(iterations, f);
            println!("| {label} | {name} | {a:.1} | {b:.0} |");
        }
    }
}
