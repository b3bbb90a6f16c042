//! Load test: many concurrent clients on loopback against a real axum
//! server, each with its own cookie jar and keep-alive connection, each
//! incrementing a counter stored in a session padded to span three chunk
//! cookies. At the end every counter equals its client's number of
//! requests (nothing lost), no request failed, and the process' resident
//! memory stayed flat after warm-up.
//!
//! ```text
//! cargo test --release --test load -- --ignored --nocapture          # 64 clients x 300 requests
//! LOAD_CLIENTS=32 LOAD_REQUESTS=50 cargo test --test load -- --ignored # the short CI form
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tower_cookie_session::{Key, Session, SessionLayer};

/// Incompressible padding: with zlib's ~25% saving on base62 this makes a
/// token of about 10 KB, written as `session=chunks-3` plus three chunks.
const PAD_LEN: usize = 10_000;
/// The layer's budget, raised for the three chunks.
const BUDGET: usize = 16 * 1024;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pad(client: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = (client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..PAD_LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % 62) as usize])
        })
        .collect()
}

/// `VmRSS` and `VmHWM` (peak) of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `GET /inc?client=C`: checks the padding belongs to this client (a
/// session mixed up between clients would be caught), increments `n`.
async fn inc(
    session: Session,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, usize>>,
) -> (StatusCode, String) {
    let client = q.get("client").copied().unwrap_or(0);
    match session.get::<String>("pad") {
        Ok(Some(p)) if p == pad(client) => {}
        Ok(None) if session.is_empty() => session.insert("pad", pad(client)).unwrap(),
        _ => return (StatusCode::CONFLICT, "wrong or damaged session".into()),
    }
    let n: u64 = session.get("n").ok().flatten().unwrap_or(0) + 1;
    session.insert("n", n).unwrap();
    (StatusCode::OK, n.to_string())
}

async fn server() -> SocketAddr {
    let layer = SessionLayer::new(Key::generate())
        .with_secure(false)
        .with_max_total_bytes(BUDGET);
    let app = Router::new().route("/inc", get(inc)).layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// One browser: a keep-alive connection and a cookie jar.
struct Client {
    id: usize,
    conn: BufReader<TcpStream>,
    jar: BTreeMap<String, String>,
    chunks_seen: usize,
}

impl Client {
    async fn connect(addr: SocketAddr, id: usize) -> Self {
        Self {
            id,
            conn: BufReader::new(TcpStream::connect(addr).await.unwrap()),
            jar: BTreeMap::new(),
            chunks_seen: 0,
        }
    }

    /// One request; the counter the server answered, or an error.
    async fn inc(&mut self) -> Result<u64, String> {
        let mut req = format!(
            "GET /inc?client={} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            self.id
        );
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
        }
        req.push_str("\r\n");
        self.conn
            .get_mut()
            .write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut status_line = String::new();
        self.conn
            .read_line(&mut status_line)
            .await
            .map_err(|e| e.to_string())?;
        let status = status_line.get(9..12).unwrap_or("").to_owned();
        let mut content_length = 0;
        loop {
            let mut l = String::new();
            self.conn
                .read_line(&mut l)
                .await
                .map_err(|e| e.to_string())?;
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((name, value)) = l.split_once(':') else {
                return Err(format!("bad header line {l:?}"));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().map_err(|_| "bad length".to_owned())?;
            } else if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or("");
                let (k, v) = pair.split_once('=').ok_or("bad Set-Cookie")?;
                if v.is_empty() && value.contains("Max-Age=0") {
                    self.jar.remove(k);
                } else {
                    self.jar.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let mut body = vec![0; content_length];
        self.conn
            .read_exact(&mut body)
            .await
            .map_err(|e| e.to_string())?;
        self.chunks_seen = self.chunks_seen.max(self.jar.len().saturating_sub(1));
        let body = String::from_utf8_lossy(&body);
        if status != "200" {
            return Err(format!("status {status}: {body}"));
        }
        body.parse().map_err(|_| format!("bad body {body:?}"))
    }
}

/// Every client sends `requests` increments in sequence, concurrently
/// with the others; returns the number of failed or wrong answers.
async fn run(clients: &mut Vec<Client>, requests: usize, start: u64) -> usize {
    let errors = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = std::mem::take(clients)
        .into_iter()
        .map(|mut client| {
            let errors = Arc::clone(&errors);
            tokio::spawn(async move {
                for i in 0..requests as u64 {
                    match client.inc().await {
                        Ok(n) if n == start + i + 1 => {}
                        Ok(n) => {
                            eprintln!(
                                "client {}: counter {n}, expected {}",
                                client.id,
                                start + i + 1
                            );
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            eprintln!("client {}: {e}", client.id);
                            errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
                client
            })
        })
        .collect();
    for task in tasks {
        clients.push(task.await.unwrap());
    }
    errors.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test, tens of seconds: run with --ignored (LOAD_CLIENTS, LOAD_REQUESTS bound it)"]
async fn concurrent_clients_lose_nothing_and_memory_stays_flat() {
    let clients_n = env("LOAD_CLIENTS", 64);
    let requests = env("LOAD_REQUESTS", 300).max(10);
    let warm_up = requests / 5;
    let (rss_start, _) = memory_kib();
    let addr = server().await;
    let mut clients = Vec::with_capacity(clients_n);
    for id in 0..clients_n {
        clients.push(Client::connect(addr, id).await);
    }

    let started = Instant::now();
    let mut errors = run(&mut clients, warm_up, 0).await;
    let (rss_warm, _) = memory_kib();
    errors += run(&mut clients, requests - warm_up, warm_up as u64).await;
    let elapsed = started.elapsed();
    let (rss_end, rss_peak) = memory_kib();

    let total = clients_n * requests;
    let chunks = clients.iter().map(|c| c.chunks_seen).min().unwrap_or(0);
    println!(
        "load: {clients_n} clients x {requests} requests = {total} requests in {:.1} s ({:.0} req/s), \
         {errors} errors, {chunks} chunk cookies per session; \
         VmRSS start {rss_start} KiB, after warm-up {rss_warm} KiB, end {rss_end} KiB, peak (VmHWM) {rss_peak} KiB",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(1e-9),
    );
    assert_eq!(errors, 0, "failed or lost requests");
    assert_eq!(chunks, 3, "sessions span three chunks");

    // Nothing lost: a final request from every client sees exactly its count.
    let final_counts = run(&mut clients, 1, requests as u64).await;
    assert_eq!(
        final_counts, 0,
        "a counter differs from its number of requests"
    );

    // Flat memory: after warm-up the resident set may not keep growing with
    // the number of requests (allocator noise aside).
    let growth = rss_end.saturating_sub(rss_warm);
    assert!(
        growth < 64 * 1024,
        "VmRSS grew by {growth} KiB after warm-up ({rss_warm} -> {rss_end} KiB)"
    );
}
