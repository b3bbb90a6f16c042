//! Hostile input against a real axum server on loopback, sent as raw bytes
//! over TCP so that malformed headers reach the server as written.
//!
//! Every request must get a served response (a status line: the server
//! neither panicked nor dropped the connection) and an empty session: no
//! 500 except the documented over-budget one. A few requests are refused by
//! hyper itself before the session layer runs (a header section over its
//! limit, too many header lines, bytes that are not HTTP): a 4xx served by
//! hyper is accepted for those, and asserted as such.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Key, Session, SessionLayer};

#[path = "hostile/review.rs"]
mod review;

const SECRET: &str = "hostile-suite-secret-key-0123456789abcdef";
/// The layer's budget here: room for 3-chunk sessions.
const BUDGET: usize = 32 * 1024;

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `len` pseudo-random base62 characters: zlib cannot shrink them much.
fn incompressible(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % 62) as usize])
        })
        .collect()
}

// ---------------------------------------------------------------- signing

/// itsdangerous' signature with Flask's derivation, over any payload text:
/// lets the suite forge *validly signed* cookies whose payload is hostile.
fn sign_text(payload_text: &str, ts: u64) -> String {
    let ts_bytes = ts.to_be_bytes();
    let first = ts_bytes.iter().position(|b| *b != 0).unwrap_or(8);
    sign_message(format!(
        "{payload_text}.{}",
        URL_SAFE_NO_PAD.encode(&ts_bytes[first..])
    ))
}

/// `message` followed by `.` and its signature.
fn sign_message(mut message: String) -> String {
    let mut derive = <Hmac<Sha1> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    derive.update(b"cookie-session");
    let derived = derive.finalize().into_bytes();
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&derived).unwrap();
    mac.update(message.as_bytes());
    message.push('.');
    message.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    message
}

fn sign_raw(raw: &[u8], ts: u64) -> String {
    sign_text(&URL_SAFE_NO_PAD.encode(raw), ts)
}

fn sign_compressed(raw: &[u8], ts: u64) -> String {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(raw).unwrap();
    sign_text(
        &format!(".{}", URL_SAFE_NO_PAD.encode(z.finish().unwrap())),
        ts,
    )
}

/// A real cookie for `session`, as the layer would write it.
fn token(session: Value) -> String {
    Codec::new(key()).encode(session.as_object().unwrap(), now())
}

/// `token` split into `n` chunk cookies: `[("session", "chunks-n"), ("session.1", …), …]`.
fn chunked(token: &str, n: usize) -> Vec<(String, String)> {
    let size = token.len().div_ceil(n);
    let mut out = vec![("session".to_owned(), format!("chunks-{n}"))];
    for (i, part) in token.as_bytes().chunks(size).enumerate() {
        out.push((
            format!("session.{}", i + 1),
            String::from_utf8(part.to_vec()).unwrap(),
        ));
    }
    assert_eq!(out.len(), n + 1);
    out
}

fn line(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

// ----------------------------------------------------------------- server

async fn read(session: Session) -> Json<Value> {
    let keys = session.keys();
    for k in &keys {
        let _ = session.get_value(k);
    }
    Json(json!({ "len": session.len(), "keys": keys }))
}

async fn write(session: Session) -> Json<Value> {
    let n: u64 = session.get("n").ok().flatten().unwrap_or(0) + 1;
    session.insert("n", n).unwrap();
    Json(json!({ "len": session.len(), "n": n }))
}

async fn untouched() -> &'static str {
    "untouched"
}

async fn grow(session: Session, Query(q): Query<HashMap<String, usize>>) -> Json<Value> {
    let len = q.get("len").copied().unwrap_or(1000);
    let seed = q.get("seed").copied().unwrap_or(0) as u64;
    session.insert("blob", incompressible(len, seed)).unwrap();
    Json(json!({ "len": session.len() }))
}

/// A real server on 127.0.0.1, port chosen by the OS; stops with the test's runtime.
async fn server() -> SocketAddr {
    let layer = SessionLayer::new(key())
        .with_secure(false)
        .with_max_total_bytes(BUDGET);
    let app = Router::new()
        .route("/read", get(read))
        .route("/write", get(write))
        .route("/untouched", get(untouched))
        .route("/grow", get(grow));
    // The same routes behind a twin layer without the decode cache, so
    // that cookies this server wrote are verified and parsed again.
    let app = app
        .clone()
        .layer(layer.clone())
        .nest("/nocache", app.layer(layer.with_decode_cache_bytes(0)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

// ----------------------------------------------------------------- client

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// Session length the `/read` handler saw.
    fn session_len(&self) -> u64 {
        assert_eq!(self.status, 200, "{self:?}");
        self.json()["len"].as_u64().unwrap()
    }

    /// `(name, value)` of every `Set-Cookie`; value `None` for a deletion.
    fn set_cookies(&self) -> Vec<(String, Option<String>)> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                let deleted = value.is_empty() && v.contains("Max-Age=0");
                (name.to_owned(), (!deleted).then(|| value.to_owned()))
            })
            .collect()
    }

    /// The cookies a browser would now hold, from this reply alone.
    fn kept(&self) -> Vec<(String, String)> {
        self.set_cookies()
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }
}

/// Sends `raw` and reads until the server closes. `None` if the connection
/// ended without a status line (what a panicking handler would cause).
async fn exchange(addr: SocketAddr, raw: Vec<u8>) -> Option<Reply> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    // Write concurrently: a server refusing early may stop reading.
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&raw).await;
        let _ = wr.flush().await;
        wr
    });
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 20 s");
    writer.abort();
    parse(&buf)
}

fn parse(buf: &[u8]) -> Option<Reply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    if let Some((_, len)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        body.truncate(len.parse().ok()?);
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// A GET with each of `cookie_lines` as its own `Cookie` header, raw bytes.
fn request(path: &str, cookie_lines: &[&[u8]]) -> Vec<u8> {
    let mut raw =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n").into_bytes();
    for l in cookie_lines {
        raw.extend_from_slice(b"Cookie: ");
        raw.extend_from_slice(l);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw
}

async fn send(addr: SocketAddr, path: &str, cookie_lines: &[&[u8]]) -> Reply {
    exchange(addr, request(path, cookie_lines))
        .await
        .unwrap_or_else(|| {
            panic!(
                "no response to {path} with {} Cookie line(s)",
                cookie_lines.len()
            )
        })
}

/// The request reached the handler and the session it saw was empty.
async fn assert_empty(addr: SocketAddr, cookie_line: &[u8]) {
    assert_eq!(
        read_len(addr, &[cookie_line]).await,
        0,
        "{:.200}",
        String::from_utf8_lossy(cookie_line)
    );
}

/// The session length `/read` sees, with and without the decode cache
/// (both must agree).
async fn read_len(addr: SocketAddr, cookie_lines: &[&[u8]]) -> u64 {
    let cached = send(addr, "/read", cookie_lines).await.session_len();
    let uncached = send(addr, "/nocache/read", cookie_lines)
        .await
        .session_len();
    assert_eq!(cached, uncached, "the decode cache changed the answer");
    cached
}

/// The same cookies also survive the write and the untouched paths: a
/// write answers 200 with a fresh session (n = 1), the untouched route 200.
async fn assert_empty_everywhere(addr: SocketAddr, cookie_line: &[u8]) {
    assert_empty(addr, cookie_line).await;
    let reply = send(addr, "/write", &[cookie_line]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["n"],
        1,
        "{:.200}",
        String::from_utf8_lossy(cookie_line)
    );
    let reply = send(addr, "/untouched", &[cookie_line]).await;
    assert_eq!(reply.status, 200);
}

/// The server still answers normally (after hostile requests).
async fn assert_alive(addr: SocketAddr) {
    let first = send(addr, "/write", &[]).await;
    assert_eq!(first.status, 200);
    let jar = line(&first.kept());
    let second = send(addr, "/write", &[jar.as_bytes()]).await;
    assert_eq!(second.json()["n"], 2);
}

/// Real chunk cookies written by the server for a blob of `len` bytes.
async fn served_chunks(addr: SocketAddr, len: usize, seed: u64) -> Vec<(String, String)> {
    let reply = send(addr, &format!("/grow?len={len}&seed={seed}"), &[]).await;
    assert_eq!(reply.status, 200);
    let kept = reply.kept();
    assert!(kept[0].1.starts_with("chunks-"), "{kept:?}");
    kept
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn garbage_cookie_values_are_empty_sessions() {
    let addr = server().await;
    let real = token(json!({"user_id": 1}));
    let other_key = Codec::new(Key::new("another-secret-key-0123456789abcdef").unwrap())
        .encode(json!({"admin": true}).as_object().unwrap(), now());
    let other_salt = Codec::new(key())
        .with_salt("other-salt")
        .encode(json!({"admin": true}).as_object().unwrap(), now());
    let long_junk = "A".repeat(4000);
    let values: Vec<String> = vec![
        String::new(),
        "garbage".into(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b.c".into(),
        ".a.b.c".into(),
        "eyJhIjoxfQ".into(),
        "eyJhIjoxfQ..".into(),
        "eyJhIjoxfQ.ZVPxAA.".into(),
        "eyJhIjoxfQ==.ZVPxAA==.e6maAnB5EaHOGVBYCzI827N87LM=".into(),
        "=".into(),
        "%00%ff%0d%0a".into(),
        "\\x00".into(),
        "chunks-".into(),
        "\"".into(),
        "\"\"".into(),
        long_junk.clone(),
        format!("{long_junk}.{long_junk}.{long_junk}"),
        format!("{real}x"),
        format!("x{real}"),
        format!("{real}."),
        format!(".{real}"),
        real.replace('.', ".."),
        real.to_uppercase(),
        other_key,
        other_salt,
        "\u{e9}\u{1f600}".into(),
    ];
    for v in &values {
        assert_empty_everywhere(addr, format!("session={v}").as_bytes()).await;
    }
    // Control: the real cookie is read, quoted too (Werkzeug unquotes).
    assert_eq!(
        read_len(addr, &[format!("session={real}").as_bytes()]).await,
        1
    );
    let quoted = format!("session=\"{real}\"");
    assert_eq!(read_len(addr, &[quoted.as_bytes()]).await, 1);
    assert_alive(addr).await;
}

#[tokio::test]
async fn non_utf8_cookie_headers_are_served() {
    let addr = server().await;
    let real = token(json!({"user_id": 1}));
    for raw in [
        &b"session=\xff\xfe\xfd"[..],
        b"session=\x80",
        b"\xff=\xff; session=\xc3\x28",
        b"session=eyJhIjoxfQ.\xff.\xff",
        b"\xe9\xe9\xe9",
    ] {
        assert_empty_everywhere(addr, raw).await;
    }
    // A session cookie is still read when *another* cookie holds raw bytes.
    let mixed = [&b"latin1=caf\xe9; session="[..], real.as_bytes()].concat();
    assert_eq!(read_len(addr, &[&mixed]).await, 1);
    // … but not when its own value carries them.
    let own = [b"session=", real.as_bytes(), b"\xff"].concat();
    assert_empty(addr, &own).await;
    assert_alive(addr).await;
}

#[tokio::test]
async fn a_thousand_cookies_in_one_request() {
    let addr = server().await;
    let real = token(json!({"user_id": 1}));
    let others: Vec<String> = (0..1000).map(|i| format!("c{i}=v{i}")).collect();

    // 1 000 unrelated cookies around a real session: still read.
    let mut cookies = others.clone();
    cookies.insert(500, format!("session={real}"));
    assert_eq!(read_len(addr, &[cookies.join("; ").as_bytes()]).await, 1);

    // 1 000 chunk-like names and a marker: empty.
    let mut chunks: Vec<String> = (0..1000).map(|i| format!("session.{i}=x{i}")).collect();
    chunks.push("session=chunks-99".into());
    assert_empty_everywhere(addr, chunks.join("; ").as_bytes()).await;

    // 1 000 session cookies: the first wins (Werkzeug), so junk first is empty.
    let dupes: Vec<String> = (0..1000).map(|i| format!("session=junk{i}")).collect();
    let mut with_real = dupes.clone();
    with_real.push(format!("session={real}"));
    assert_empty_everywhere(addr, with_real.join("; ").as_bytes()).await;

    // 1 000 separate Cookie header lines: hyper allows 100 header lines and
    // answers 431 itself; the layer never runs. Served, not a crash.
    let lines: Vec<&[u8]> = others.iter().map(|c| c.as_bytes()).collect();
    let reply = send(addr, "/read", &lines).await;
    assert_eq!(reply.status, 431, "hyper's header-count limit");
    // 90 lines fit, and the session in one of them is found.
    let mut some: Vec<Vec<u8>> = others[..89]
        .iter()
        .map(|c| c.clone().into_bytes())
        .collect();
    some.push(format!("session={real}").into_bytes());
    let refs: Vec<&[u8]> = some.iter().map(Vec::as_slice).collect();
    assert_eq!(read_len(addr, &refs).await, 1);
    assert_alive(addr).await;
}

#[tokio::test]
async fn a_60_kib_cookie_header_is_served() {
    let addr = server().await;
    // One 60 KiB value. hyper's HTTP/1 head limit is ~400 KiB, so this
    // reaches the layer (a 431 from hyper would be acceptable too: a served
    // refusal, not a crash).
    let big = format!("session={}", "A".repeat(60 * 1024));
    let reply = send(addr, "/read", &[big.as_bytes()]).await;
    match reply.status {
        200 => assert_eq!(reply.session_len(), 0),
        431 => {}
        other => panic!("status {other}"),
    }
    // 60 KiB spread over 99 junk chunks and a marker: joined, rejected.
    let mut pairs = vec![("session".to_owned(), "chunks-99".to_owned())];
    for i in 1..=99 {
        pairs.push((format!("session.{i}"), incompressible(620, i)));
    }
    let header = line(&pairs);
    assert!(header.len() > 60 * 1024);
    assert_empty_everywhere(addr, header.as_bytes()).await;
    // 1 MiB: over hyper's limit, refused by hyper before the layer (431),
    // or the connection is reset while we still write. Either way the
    // server survives.
    let huge = format!("session={}", "B".repeat(1 << 20));
    if let Some(reply) = exchange(addr, request("/read", &[huge.as_bytes()])).await {
        assert_eq!(reply.status, 431);
    }
    assert_alive(addr).await;
}

#[tokio::test]
async fn duplicate_session_cookies() {
    let addr = server().await;
    let a = token(json!({"who": "a"}));
    let b = token(json!({"who": "b", "x": 1}));
    // The first cookie of the name wins, as in Werkzeug (and browsers send
    // the most specific path first).
    assert_empty(addr, format!("session=junk; session={a}").as_bytes()).await;
    let ab = format!("session={a}; session={b}");
    assert_eq!(read_len(addr, &[ab.as_bytes()]).await, 1, "a wins");
    let ba = format!("session={b}; session={a}");
    assert_eq!(read_len(addr, &[ba.as_bytes()]).await, 2, "b wins");
    // Across two Cookie header lines, the same rule.
    let (lb, la) = (format!("session={b}"), format!("session={a}"));
    assert_eq!(read_len(addr, &[lb.as_bytes(), la.as_bytes()]).await, 2);
    assert_eq!(
        read_len(addr, &[b"session=", la.as_bytes()]).await,
        0,
        "an empty first value wins too"
    );
    assert_alive(addr).await;
}

#[tokio::test]
async fn unusable_chunk_markers() {
    let addr = server().await;
    let real = served_chunks(addr, 9000, 1).await;
    assert_eq!(real.len(), 4, "marker + 3 chunks");
    // Control: the real set reads.
    assert_eq!(read_len(addr, &[line(&real).as_bytes()]).await, 1);
    let mut many = real.clone();
    for i in 4..=99 {
        many.push((format!("session.{i}"), "x".into()));
    }
    for marker in [
        "chunks-0",
        "chunks-1",
        "chunks-2",
        "chunks-4",
        "chunks-99",
        "chunks-100",
        "chunks-999",
        "chunks-18446744073709551616",
        "chunks-18446744073709551615",
        "chunks--1",
        "chunks--3",
        "chunks-+3",
        "chunks- 3",
        "chunks-3 x",
        "chunks-0x3",
        "chunks-3.0",
        "chunks-abc",
        "chunks-",
        "chunks",
        "CHUNKS-3",
        "chunks-\u{663}",
    ] {
        for set in [&real, &many] {
            let mut pairs = set.clone();
            pairs[0].1 = marker.to_owned();
            assert_empty_everywhere(addr, line(&pairs).as_bytes()).await;
        }
        // A marker alone, with no chunk at all.
        assert_empty_everywhere(addr, format!("session={marker}").as_bytes()).await;
    }
    assert_alive(addr).await;
}

#[tokio::test]
async fn missing_repeated_and_reordered_chunks() {
    let addr = server().await;
    let real = served_chunks(addr, 9000, 2).await;
    let other = served_chunks(addr, 9000, 3).await;
    let len_of = |pairs: Vec<(String, String)>| async move {
        read_len(addr, &[line(&pairs).as_bytes()]).await
    };
    // Missing: each chunk in turn.
    for i in 1..=3 {
        let mut pairs = real.clone();
        pairs.remove(i);
        assert_eq!(len_of(pairs).await, 0, "session.{i} missing");
    }
    // Repeated: a foreign copy first wins and breaks the signature…
    let mut pairs = real.clone();
    pairs.insert(2, ("session.2".into(), other[2].1.clone()));
    assert_eq!(len_of(pairs).await, 0);
    // … an identical copy changes nothing; a later foreign copy is ignored.
    let mut pairs = real.clone();
    pairs.push(real[2].clone());
    pairs.push(("session.3".into(), other[3].1.clone()));
    assert_eq!(len_of(pairs).await, 1);
    // Reordered values under the right names: rejected.
    let mut pairs = real.clone();
    let (one, two) = (pairs[1].1.clone(), pairs[2].1.clone());
    pairs[1].1 = two;
    pairs[2].1 = one;
    assert_eq!(len_of(pairs).await, 0);
    // Reordered cookies (names kept): read, the index is in the name.
    let mut pairs = real.clone();
    pairs.reverse();
    assert_eq!(len_of(pairs).await, 1);
    // An emptied chunk, a chunk under a non-canonical name.
    let mut pairs = real.clone();
    pairs[3].1.clear();
    assert_eq!(len_of(pairs).await, 0);
    let mut pairs = real.clone();
    pairs[1].0 = "session.01".into();
    assert_eq!(len_of(pairs).await, 0);
    // A chunk moved to its own Cookie header line: still read (HTTP/2 style).
    let head = line(&real[..3]);
    let tail = line(&real[3..]);
    assert_eq!(read_len(addr, &[head.as_bytes(), tail.as_bytes()]).await, 1);
    assert_alive(addr).await;
}

#[tokio::test]
async fn chunks_from_two_generations() {
    let addr = server().await;
    let old = served_chunks(addr, 9000, 4).await; // 3 chunks
    let new = served_chunks(addr, 5000, 5).await; // 2 chunks
    assert_eq!((old.len(), new.len()), (4, 3));
    // New marker, an old first chunk: rejected.
    let mixed = vec![new[0].clone(), old[1].clone(), new[2].clone()];
    assert_empty_everywhere(addr, line(&mixed).as_bytes()).await;
    // Old marker over two new chunks and the old third: rejected.
    let mixed = vec![
        old[0].clone(),
        new[1].clone(),
        new[2].clone(),
        old[3].clone(),
    ];
    assert_empty_everywhere(addr, line(&mixed).as_bytes()).await;
    // New set plus the old, stale third chunk: the new session is read
    // (the marker says 2), and a write expires the stale chunk.
    let mut stale = new.clone();
    stale.push(old[3].clone());
    assert_eq!(read_len(addr, &[line(&stale).as_bytes()]).await, 1);
    let reply = send(addr, "/write", &[line(&stale).as_bytes()]).await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .set_cookies()
        .contains(&("session.3".to_owned(), None)));
    assert_alive(addr).await;
}

#[tokio::test]
async fn validly_signed_hostile_payloads() {
    let addr = server().await;
    let t = now();
    let mut deep_arrays = "[".repeat(100_000);
    deep_arrays.push_str(&"]".repeat(100_000));
    let mut deep_objects = "{\"a\":".repeat(100_000);
    deep_objects.push('1');
    deep_objects.push_str(&"}".repeat(100_000));
    let deep_inside = format!("{{\"x\":{deep_arrays}}}");
    let deep_tags = format!(
        "{{\"x\":{}1{}}}",
        "{\" t\":[".repeat(20_000),
        "]}".repeat(20_000)
    );
    let mut payloads: Vec<(&str, Vec<u8>)> = vec![
        ("array", b"[]".to_vec()),
        ("number", b"42".to_vec()),
        ("null", b"null".to_vec()),
        ("string", b"\"ab\"".to_vec()),
        ("true", b"true".to_vec()),
        ("empty", Vec::new()),
        ("truncated", b"{\"a\":".to_vec()),
        ("not utf-8", b"{\"a\":\"\xff\"}".to_vec()),
        ("trailing", b"{\"a\":1} x".to_vec()),
        ("bad literal", b"{\"a\":nan}".to_vec()),
        ("top-level tuple", b"{\" t\":[1,2]}".to_vec()),
        ("top-level bytes", b"{\" b\":\"AA==\"}".to_vec()),
        ("deep arrays", deep_arrays.into_bytes()),
    ];
    // A zlib bomb: 2 MiB of JSON whitespace, over the 1 MiB inflate cap.
    let mut bomb = b"{".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 2 << 20));
    bomb.push(b'}');
    payloads.push(("zlib bomb", bomb));
    for (what, raw) in &payloads {
        let compressed = sign_compressed(raw, t);
        assert!(
            compressed.len() < 4000,
            "{what}: {} bytes",
            compressed.len()
        );
        assert_empty_everywhere(addr, format!("session={compressed}").as_bytes()).await;
        if raw.len() < 2000 {
            assert_empty_everywhere(addr, format!("session={}", sign_raw(raw, t)).as_bytes()).await;
        }
    }
    // What Python writes and serde_json cannot hold is a session all the
    // same: carried as written, and written back unchanged beside a new key.
    let carried: Vec<(&str, Vec<u8>)> = vec![
        ("NaN", b"{\"a\":NaN}".to_vec()),
        ("Infinity", b"{\"a\":[Infinity,-Infinity]}".to_vec()),
        ("1e999", b"{\"a\":1e999}".to_vec()),
        ("lone surrogate", b"{\"a\":\"\\ud800\"}".to_vec()),
        ("deep objects", deep_objects.into_bytes()),
        ("deep inside an object", deep_inside.into_bytes()),
        ("deep Flask tuples", deep_tags.into_bytes()),
    ];
    for (what, raw) in &carried {
        let cookie = format!("session={}", sign_compressed(raw, t));
        assert_eq!(read_len(addr, &[cookie.as_bytes()]).await, 1, "{what}");
        assert_write_keeps(addr, &cookie, raw).await;
    }
    // Claimed compressed, but not zlib; and a truncated zlib stream.
    assert_empty_everywhere(
        addr,
        format!("session={}", sign_text(".eyJhIjoxfQ", t)).as_bytes(),
    )
    .await;
    let good = sign_compressed(&[b"{\"a\":\"".as_slice(), &[b'x'; 500], b"\"}"].concat(), t);
    let payload = good.split('.').nth(1).unwrap();
    let cut = &payload[..payload.len() - 8];
    assert_empty_everywhere(
        addr,
        format!("session={}", sign_text(&format!(".{cut}"), t)).as_bytes(),
    )
    .await;
    // Control: the signer is right, a validly signed object is read.
    let ok = sign_compressed(b"{\"a\":1,\"b\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}", t);
    assert_eq!(
        read_len(addr, &[format!("session={ok}").as_bytes()]).await,
        2
    );
    assert_alive(addr).await;
}

#[tokio::test]
async fn expired_and_future_timestamps() {
    let addr = server().await;
    let payload = b"{\"user_id\":1}";
    let t = now();
    let max_age = 31 * 24 * 3600;
    // Control: now, and just inside the max age.
    for ts in [t, t - max_age + 60] {
        let cookie = format!("session={}", sign_raw(payload, ts));
        assert_eq!(read_len(addr, &[cookie.as_bytes()]).await, 1);
    }
    for ts in [t - max_age - 60, 0, 1, t + 3600, t + 86_400 * 365, u64::MAX] {
        assert_empty_everywhere(
            addr,
            format!("session={}", sign_raw(payload, ts)).as_bytes(),
        )
        .await;
    }
    // A 9-byte timestamp, and an empty one.
    let nine = URL_SAFE_NO_PAD.encode([1u8; 9]);
    let body = URL_SAFE_NO_PAD.encode(payload);
    for stamp in [nine.as_str(), "", "ZVPxAA==", "ZVPx+A", "!"] {
        let forged = sign_message(format!("{body}.{stamp}"));
        assert_empty_everywhere(addr, format!("session={forged}").as_bytes()).await;
    }
    assert_alive(addr).await;
}

#[tokio::test]
async fn malformed_http_is_refused_by_hyper_or_served() {
    let addr = server().await;
    let cases: Vec<Vec<u8>> = vec![
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie session=1\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie: session=\x00abc\r\nConnection: close\r\n\r\n"
            .to_vec(),
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie: a=\rb\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /read HTTP/1.1\nHost: x\nCookie: session=abc\nConnection: close\n\n".to_vec(),
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie: session=a\r\n b\r\nConnection: close\r\n\r\n"
            .to_vec(),
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie:\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie: ;;;; ; =; ==; session\r\nConnection: close\r\n\r\n"
            .to_vec(),
        b"GET /read HTTP/1.1\r\nHost: x\r\nCookie: session=\x7f\r\nConnection: close\r\n\r\n".to_vec(),
        [
            b"GET /read HTTP/1.1\r\nHost: x\r\nCookie: ".as_slice(),
            "n".repeat(10_000).as_bytes(),
            b"=session\r\nConnection: close\r\n\r\n",
        ]
        .concat(),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage-tls-hello\r\n\r\n".to_vec(),
    ];
    for raw in cases {
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(80)]).into_owned();
        let reply = exchange(addr, raw).await.unwrap_or_else(|| {
            // hyper may close without a response on bytes that are not HTTP
            // at all; the server must still be alive (checked below).
            Reply {
                status: 400,
                headers: Vec::new(),
                body: Vec::new(),
            }
        });
        match reply.status {
            200 => assert_eq!(reply.session_len(), 0, "{shown}"),
            400 | 431 => {}
            other => panic!("status {other} for {shown}"),
        }
        assert_alive(addr).await;
    }
}

#[tokio::test]
async fn over_budget_is_the_only_500_and_writes_nothing() {
    let addr = server().await;
    let real = served_chunks(addr, 9000, 6).await;
    let reply = send(addr, "/grow?len=40000&seed=1", &[line(&real).as_bytes()]).await;
    assert_eq!(reply.status, 500, "the documented over-budget answer");
    assert!(reply.body.is_empty());
    assert!(reply.set_cookies().is_empty(), "nothing written");
    // The client's previous cookies still hold the previous session.
    assert_eq!(read_len(addr, &[line(&real).as_bytes()]).await, 1);
    assert_alive(addr).await;
}

/// Integers beyond 64 bits (Python ints are unbounded) are carried as
/// written. (Regression: first serde_json read them as rounded `f64`s and
/// wrote floats back; then such sessions were refused whole, logging the
/// user out of the Rust side.)
#[tokio::test]
async fn integers_beyond_64_bits_are_carried_unchanged() {
    let addr = server().await;
    for raw in [
        &b"{\"v\":18446744073709551616}"[..],
        b"{\"v\":-9223372036854775809}",
        b"{\"v\":123456789012345678901234567890}",
        b"{\"a\":[1,{\"b\":-18446744073709551616}]}",
        b"{\"v\":18446744073709551615}",
        b"{\"v\":1.8446744073709552e+19}",
        b"{\"v\":\"18446744073709551616\"}",
    ] {
        let cookie = format!("session={}", sign_raw(raw, now()));
        assert_eq!(
            read_len(addr, &[cookie.as_bytes()]).await,
            1,
            "{}",
            String::from_utf8_lossy(raw)
        );
        assert_write_keeps(addr, &cookie, raw).await;
    }
}

/// The JSON text inside a token the layer wrote.
fn payload_text(token: &str) -> String {
    use std::io::Read as _;
    let (signed, _) = token.rsplit_once('.').unwrap();
    let (payload, _) = signed.rsplit_once('.').unwrap();
    let text = match payload.strip_prefix('.') {
        Some(compressed) => {
            let bytes = URL_SAFE_NO_PAD.decode(compressed).unwrap();
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        }
        None => URL_SAFE_NO_PAD.decode(payload).unwrap(),
    };
    String::from_utf8(text).unwrap()
}

/// `/write` adds `"n"` to the session in `cookie`, whose JSON is `raw` (one
/// key, written compactly): every other byte comes back as it was.
async fn assert_write_keeps(addr: SocketAddr, cookie: &str, raw: &[u8]) {
    let reply = send(addr, "/write", &[cookie.as_bytes()]).await;
    assert_eq!(reply.status, 200);
    let (_, token) = reply
        .kept()
        .into_iter()
        .find(|(k, _)| k == "session")
        .expect("a write");
    let written = payload_text(&token);
    let member = std::str::from_utf8(&raw[1..raw.len() - 1]).unwrap();
    assert!(
        written.contains(member),
        "{member:.200} lost in {written:.200}"
    );
    assert!(written.contains("\"n\":1"), "{written:.200}");
}

/// Any split of a valid token reads, including a single chunk behind
/// `chunks-1` (which the layer never writes): the signature covers the
/// joined token, so how it was cut is not a security boundary.
#[tokio::test]
async fn hand_split_tokens_read() {
    let addr = server().await;
    let t = token(json!({"blob": incompressible(3000, 9), "n": 1}));
    for n in [1, 2, 5, 40] {
        let pairs = chunked(&t, n);
        assert_eq!(read_len(addr, &[line(&pairs).as_bytes()]).await, 2, "{n}");
    }
}
