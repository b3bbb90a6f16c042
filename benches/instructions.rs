//! One request row, sent a fixed number of times and nothing else: for
//! counting instructions per request with `valgrind --tool=callgrind`,
//! which repeats to the instruction whatever else the machine is doing.
//!
//! ```sh
//! cargo bench --bench instructions --no-run
//! B=$(ls target/release/deps/instructions-* | grep -v '\.d$')
//! for n in 5000 10000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null $B read_cold 4KiB $n
//! done
//! ```
//!
//! Instructions per request = the difference of the two totals ÷ 5000
//! (setup cancels out); a row minus `bare` (or `bare_nocookie`) is the
//! layer's own cost. Arguments: the row's name as in `benches/middleware.rs`,
//! the payload size (`100B`, `1KiB`, `4KiB`, `16KiB`; empty for the
//! no-cookie rows), and the number of requests. Valgrind runs no SHA-NI, so
//! HMAC rows count the portable SHA-1; compare them with their floor in the
//! same run, not with criterion's times.

#[path = "common/mod.rs"]
mod common;

use common::rows::{no_cookie_rows, rows, send, Row};

fn main() {
    // `cargo bench` runs every bench target with `--bench`: this one only
    // runs when named, under valgrind.
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (Some(name), size, n) = (args.next(), args.next().unwrap_or_default(), args.next()) else {
        eprintln!("usage: instructions <row> [<size>|\"\"] [<requests>] (see the file's docs)");
        return;
    };
    let n: usize = n.map_or(Ok(10_000), |n| n.parse()).unwrap_or_else(|_| {
        eprintln!("the number of requests is a positive integer");
        std::process::exit(2);
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let all: Vec<Row> = if size.is_empty() {
            no_cookie_rows()
        } else {
            let Some((_, len)) = common::SIZES.iter().find(|(label, _)| *label == size) else {
                eprintln!("unknown size {size}");
                std::process::exit(2);
            };
            rows(&common::payload(common::Kind::Alnum, *len)).await
        };
        let Some(row) = all.into_iter().find(|r| r.name == name) else {
            eprintln!("unknown row {name}");
            std::process::exit(2);
        };
        for _ in 0..n {
            std::hint::black_box(send(&row.router, row.cookie.as_ref()).await);
        }
    });
}
