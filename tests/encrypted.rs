//! `SessionLayer::encrypted`: round trips at every size (chunked too), any
//! single changed byte of any cookie or chunk rejected, keys and rotation,
//! the cookie name bound in, expiry and clock skew, no compression unless
//! asked, no key material in `Debug`, the client cannot read the session.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{call, incompressible, is_deletion, Jar};
use http::StatusCode;
use tower_cookie_session::{Compression, Key, Session, SessionInfo, SessionLayer};

const OK: StatusCode = StatusCode::OK;
const SECRET: &str = "encrypted-sessions-test-secret-0123456789";

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

/// Large enough for a 16 KiB session, chunked.
fn layer() -> SessionLayer {
    SessionLayer::encrypted(key()).with_max_total_bytes(40 * 1024)
}

async fn write_blob(layer: &SessionLayer, jar: &mut Jar, blob: String) -> common::Reply {
    let reply = call(layer, &jar.header(), move |s: &Session| {
        s.insert("blob", &blob).unwrap();
        s.insert("user_id", 7).unwrap();
        OK
    })
    .await;
    jar.apply(&reply);
    reply
}

/// What the handler sees for the jar's cookies: the blob's length, if any.
async fn read_blob(layer: &SessionLayer, headers: &[String]) -> Option<usize> {
    let seen = Arc::new(AtomicU64::new(u64::MAX));
    let out = Arc::clone(&seen);
    call(layer, headers, move |s: &Session| {
        if let Ok(Some(blob)) = s.get::<String>("blob") {
            out.store(blob.len() as u64, Ordering::SeqCst);
        }
        OK
    })
    .await;
    match seen.load(Ordering::SeqCst) {
        u64::MAX => None,
        n => Some(n as usize),
    }
}

#[tokio::test]
async fn round_trips_at_every_size_chunked_too() {
    for (size, chunked) in [(100, false), (1024, false), (4096, true), (16 * 1024, true)] {
        let layer = layer();
        let mut jar = Jar::default();
        write_blob(&layer, &mut jar, incompressible(size, size as u64)).await;
        let chunks = jar
            .names()
            .iter()
            .filter(|n| n.starts_with("session."))
            .count();
        assert_eq!(chunks > 0, chunked, "{size}: {:?}", jar.names());
        assert_eq!(read_blob(&layer, &jar.header()).await, Some(size), "{size}");
    }
}

#[tokio::test]
async fn any_changed_byte_of_any_cookie_or_chunk_is_rejected() {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for size in [300, 4500] {
        let layer = layer();
        let mut jar = Jar::default();
        write_blob(&layer, &mut jar, incompressible(size, 3)).await;
        assert_eq!(read_blob(&layer, &jar.header()).await, Some(size));
        let mut tried = 0;
        for name in jar
            .names()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
        {
            let value = jar.cookies[&name].clone();
            if value.starts_with("chunks-") {
                continue; // the marker: covered by the chunking suite
            }
            for at in 0..value.len() {
                let mut changed = value.clone().into_bytes();
                let i = B64.iter().position(|c| *c == changed[at]).unwrap();
                changed[at] = B64[(i + 1) % 64];
                let mut forged = jar.clone();
                forged
                    .cookies
                    .insert(name.clone(), String::from_utf8(changed).unwrap());
                assert_eq!(
                    read_blob(&layer, &forged.header()).await,
                    None,
                    "{name}[{at}]"
                );
                tried += 1;
            }
        }
        assert!(tried > size, "{tried} forgeries for {size} bytes");
    }
}

#[tokio::test]
async fn keys_rotate_and_the_cookie_name_is_bound_in() {
    let mut jar = Jar::default();
    write_blob(&layer(), &mut jar, "x".repeat(10)).await;
    let header = jar.header();
    let wrong = SessionLayer::encrypted(Key::new("another secret entirely, 32+ bytes").unwrap());
    assert_eq!(read_blob(&wrong, &header).await, None, "wrong key");
    let rotated =
        SessionLayer::encrypted(Key::new("the new secret, at least 32 bytes long").unwrap())
            .with_fallback_keys([key()]);
    assert_eq!(
        read_blob(&rotated, &header).await,
        Some(10),
        "fallback decrypts"
    );
    // The rotated layer encrypts with its main key: the old layer cannot read that.
    let mut rewritten = jar.clone();
    write_blob(&rotated, &mut rewritten, "y".repeat(10)).await;
    assert_eq!(read_blob(&layer(), &rewritten.header()).await, None);
    assert_eq!(read_blob(&rotated, &rewritten.header()).await, Some(10));
    // The same key under another cookie name: the moved cookie fails.
    let renamed = SessionLayer::encrypted(key())
        .with_cookie_name("other")
        .unwrap();
    let moved = vec![format!("other={}", jar.cookies["session"])];
    assert_eq!(read_blob(&renamed, &moved).await, None, "renamed");
}

#[tokio::test]
async fn expiry_is_authenticated_and_future_timestamps_beyond_the_skew_are_refused() {
    let offset = Arc::new(AtomicU64::new(0));
    let clocked = |offset: &Arc<AtomicU64>| {
        let offset = Arc::clone(offset);
        layer()
            .with_max_age(Duration::from_secs(600))
            .with_clock(move || {
                SystemTime::now() + Duration::from_secs(offset.load(Ordering::SeqCst))
            })
    };
    let mut jar = Jar::default();
    write_blob(&clocked(&offset), &mut jar, "z".repeat(5)).await;
    let header = jar.header();
    offset.store(600, Ordering::SeqCst);
    assert_eq!(
        read_blob(&clocked(&offset), &header).await,
        Some(5),
        "age == max age"
    );
    offset.store(602, Ordering::SeqCst);
    assert_eq!(read_blob(&clocked(&offset), &header).await, None, "expired");
    // Written by a node 30 s ahead: beyond the default 5 s skew.
    let ahead =
        SessionLayer::encrypted(key()).with_clock(|| SystemTime::now() + Duration::from_secs(30));
    let mut from_ahead = Jar::default();
    write_blob(&ahead, &mut from_ahead, "w".repeat(5)).await;
    assert_eq!(
        read_blob(&layer(), &from_ahead.header()).await,
        None,
        "future"
    );
    let tolerant = layer().with_clock_skew(Duration::from_secs(60));
    assert_eq!(read_blob(&tolerant, &from_ahead.header()).await, Some(5));
}

#[tokio::test]
async fn the_client_cannot_read_the_session_and_nothing_is_compressed_unasked() {
    let text = "secret-csrf-token ".repeat(200);
    let mut jar = Jar::default();
    write_blob(&layer(), &mut jar, text.clone()).await;
    let joined: String = jar
        .cookies
        .iter()
        .filter(|(n, _)| n.starts_with("session."))
        .map(|(_, v)| v.as_str())
        .collect();
    let raw = URL_SAFE_NO_PAD.decode(&joined).unwrap();
    assert_eq!(raw[0], 1, "version byte");
    assert!(!raw.windows(6).any(|w| w == b"secret"), "plaintext visible");
    // Uncompressed: at least as long as the JSON it holds.
    assert!(
        raw.len() > text.len(),
        "{} bytes for {}",
        raw.len(),
        text.len()
    );
    // Compression is an explicit opt-in, and it works.
    let compressing = layer().with_compression(Compression::Auto);
    let mut small = Jar::default();
    write_blob(&compressing, &mut small, text.clone()).await;
    assert_eq!(small.names(), ["session"], "deflated into one cookie");
    assert_eq!(
        read_blob(&compressing, &small.header()).await,
        Some(text.len())
    );
}

#[tokio::test]
async fn lifecycle_options_apply_to_encrypted_sessions() {
    let layer = layer()
        .with_validator(|info: &SessionInfo| !matches!(info.get::<u64>("user_id"), Ok(Some(7))));
    let mut jar = Jar::default();
    write_blob(&layer, &mut jar, "v".repeat(3)).await;
    let reply = call(&layer, &jar.header(), |s: &Session| {
        assert!(s.is_empty(), "revoked by the validator");
        OK
    })
    .await;
    assert!(is_deletion(&reply.set_cookie("session").unwrap()));
}

#[test]
fn debug_shows_no_key_material() {
    let layer = SessionLayer::encrypted(Key::new("topsecret-topsecret-topsecret-0123").unwrap())
        .with_fallback_keys([Key::new("oldsecret-oldsecret-oldsecret-0123").unwrap()]);
    let shown = format!("{layer:?} {layer:#?}");
    assert!(!shown.contains("secret-"), "{shown}");
    assert!(
        shown.contains("AES-256-GCM-SIV") && shown.contains("keys: 2"),
        "{shown}"
    );
    // No byte arrays either (a derived key would print as one).
    assert!(!shown.contains("[0") && !shown.contains(", 1"), "{shown}");
    let _ = UNIX_EPOCH;
}
