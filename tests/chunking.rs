//! Large sessions: chunking, budget, cleanup and hostile chunk sets.

mod common;

use common::{call, incompressible, is_deletion, key, layer, Jar, Reply};
use http::StatusCode;
use serde_json::json;
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{OversizePolicy, Session, SessionLayer, SessionTooLarge};

const OK: StatusCode = StatusCode::OK;

fn roomy() -> SessionLayer {
    layer().with_max_total_bytes(64 * 1024)
}

/// Stores `len` incompressible bytes under "blob".
async fn store(layer: &SessionLayer, jar: &mut Jar, len: usize, seed: u64) -> Reply {
    let reply = call(layer, &jar.header(), move |s| {
        s.insert("blob", incompressible(len, seed)).unwrap();
        OK
    })
    .await;
    jar.apply(&reply);
    reply
}

async fn read_blob(layer: &SessionLayer, jar: &Jar) -> Option<String> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let out = seen.clone();
    let reply = call(layer, &jar.header(), move |s| {
        *out.lock().unwrap() = s.get::<String>("blob").unwrap();
        OK
    })
    .await;
    assert_eq!(reply.status, OK);
    let value = seen.lock().unwrap().clone();
    value
}

fn chunk_names(jar: &Jar) -> Vec<&str> {
    jar.names()
        .into_iter()
        .filter(|n| n.starts_with("session."))
        .collect()
}

#[tokio::test]
async fn grows_one_two_three_and_shrinks_three_two_one_zero() {
    let layer = roomy();
    let mut jar = Jar::default();
    for (len, chunks) in [(2000, 0), (5000, 2), (9000, 3), (5000, 2), (2000, 0)] {
        let reply = store(&layer, &mut jar, len, len as u64).await;
        assert_eq!(chunk_names(&jar).len(), chunks, "{len}: {:?}", jar.names());
        let base = &jar.cookies["session"];
        if chunks == 0 {
            assert!(!base.starts_with("chunks-"), "a plain Flask token");
        } else {
            assert_eq!(base, &format!("chunks-{chunks}"));
        }
        for line in reply.set_cookie_lines() {
            assert!(line.len() <= 4093, "{} bytes: {line:.60}", line.len());
        }
        assert_eq!(
            read_blob(&layer, &jar).await,
            Some(incompressible(len, len as u64))
        );
    }
    let reply = call(&layer, &jar.header(), |s| {
        s.clear();
        OK
    })
    .await;
    jar.apply(&reply);
    assert!(
        jar.names().is_empty(),
        "logout removes every cookie: {:?}",
        jar.names()
    );
}

#[tokio::test]
async fn shrinking_expires_exactly_the_stale_chunks_with_the_same_attributes() {
    let layer = roomy()
        .with_domain("example.com")
        .unwrap()
        .with_path("/shop");
    let mut jar = Jar::default();
    store(&layer, &mut jar, 9000, 1).await;
    let reply = store(&layer, &mut jar, 5000, 2).await;
    let deleted: Vec<_> = reply
        .set_cookies()
        .into_iter()
        .filter(is_deletion)
        .collect();
    assert_eq!(deleted.len(), 1);
    let stale = &deleted[0];
    assert_eq!(stale.name(), "session.3");
    assert_eq!(stale.domain(), Some("example.com"));
    assert_eq!(stale.path(), Some("/shop"));
    assert_eq!(stale.secure(), Some(true));
    assert_eq!(stale.expires_datetime().unwrap().unix_timestamp(), 0);
}

#[tokio::test]
async fn a_missing_or_foreign_chunk_means_no_session() {
    let layer = roomy();
    let mut jar = Jar::default();
    store(&layer, &mut jar, 9000, 7).await;
    let mut other = Jar::default();
    store(&layer, &mut other, 9000, 8).await;

    let mut dropped = jar.clone();
    dropped.cookies.remove("session.2");
    assert_eq!(read_blob(&layer, &dropped).await, None);

    let mut mixed = jar.clone();
    mixed
        .cookies
        .insert("session.2".into(), other.cookies["session.2"].clone());
    assert_eq!(read_blob(&layer, &mixed).await, None);

    let mut swapped = jar.clone();
    let (one, two) = (
        jar.cookies["session.1"].clone(),
        jar.cookies["session.2"].clone(),
    );
    swapped.cookies.insert("session.1".into(), two);
    swapped.cookies.insert("session.2".into(), one);
    assert_eq!(read_blob(&layer, &swapped).await, None);

    let mut emptied = jar.clone();
    emptied.cookies.insert("session.3".into(), String::new());
    assert_eq!(read_blob(&layer, &emptied).await, None);
}

#[tokio::test]
async fn chunks_may_arrive_in_split_cookie_headers() {
    let layer = roomy();
    let mut jar = Jar::default();
    store(&layer, &mut jar, 9000, 3).await;
    let headers: Vec<String> = jar
        .cookies
        .iter()
        .rev()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let out = seen.clone();
    call(&layer, &headers, move |s| {
        *out.lock().unwrap() = s.get::<String>("blob").unwrap();
        OK
    })
    .await;
    assert_eq!(seen.lock().unwrap().clone(), Some(incompressible(9000, 3)));
}

#[tokio::test]
async fn a_stale_plain_base_beside_chunks_is_read_as_a_token_and_the_chunks_expire() {
    let layer = roomy();
    let mut chunked = Jar::default();
    store(&layer, &mut chunked, 9000, 4).await;
    let mut jar = Jar::default();
    store(&layer, &mut jar, 100, 5).await;
    for i in 1..=3 {
        let name = format!("session.{i}");
        jar.cookies
            .insert(name.clone(), chunked.cookies[&name].clone());
    }
    assert_eq!(read_blob(&layer, &jar).await, Some(incompressible(100, 5)));
    store(&layer, &mut jar, 200, 6).await;
    assert_eq!(
        jar.names(),
        ["session"],
        "the write expired the stale chunks"
    );
}

#[tokio::test]
async fn unusable_markers_mean_no_session_and_never_a_500() {
    let layer = roomy();
    let mut jar = Jar::default();
    store(&layer, &mut jar, 9000, 9).await;
    for marker in [
        "chunks-0",
        "chunks-4",
        "chunks-100",
        "chunks-18446744073709551616",
        "chunks--1",
        "chunks-x",
        "chunks-",
    ] {
        let mut bad = jar.clone();
        bad.cookies.insert("session".into(), marker.into());
        assert_eq!(read_blob(&layer, &bad).await, None, "{marker}");
    }
}

#[tokio::test]
async fn lowering_max_chunks_does_not_log_out_larger_sessions() {
    // The setting bounds what the layer writes; reading accepts any count
    // the format allows, or every user with a larger session is logged out.
    let layer = roomy();
    let mut jar = Jar::default();
    store(&layer, &mut jar, 9000, 9).await;
    assert!(jar.names().len() > 3, "{:?}", jar.names());
    let capped = roomy().with_max_chunks(2);
    assert_eq!(
        read_blob(&capped, &jar).await,
        Some(incompressible(9000, 9)),
        "a session written in more chunks than the new cap still reads"
    );
}

async fn lines_for(layer: &SessionLayer, len: usize) -> Vec<String> {
    call(layer, &[], move |s| {
        s.insert("b", incompressible(len, 11)).unwrap();
        OK
    })
    .await
    .set_cookie_lines()
}

#[tokio::test]
async fn the_per_cookie_limit_is_exact() {
    // Find a payload whose single Set-Cookie line is a little under 4093
    // bytes, then pad the Path (which does not change the token) to land on
    // exactly 4093, and one byte more.
    let layer = roomy();
    let mut found = None;
    for len in (2500..4000).step_by(10) {
        let lines = lines_for(&layer, len).await;
        if lines.len() == 1 && (4040..=4093).contains(&lines[0].len()) {
            found = Some((len, lines[0].len()));
            break;
        }
    }
    let (len, line_len) = found.expect("a payload just under the limit");
    let pad = "p".repeat(4093 - line_len);
    let exact = lines_for(&layer.clone().with_path(format!("/{pad}")), len).await;
    assert_eq!(exact.len(), 1, "{exact:?}");
    assert_eq!(exact[0].len(), 4093);
    let over = lines_for(&layer.with_path(format!("/{pad}p")), len).await;
    assert_eq!(over.len(), 3, "4094 bytes: base marker + 2 chunks");
    assert!(over[0].starts_with("session=chunks-2;"));
    assert!(over.iter().all(|l| l.len() <= 4093));
}

#[tokio::test]
async fn over_budget_is_a_500_that_writes_nothing() {
    let layer = layer();
    let mut jar = Jar::default();
    store(&layer, &mut jar, 3000, 12).await;
    let before = jar.clone();
    let reply = store(&layer, &mut jar, 20_000, 13).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, None, "the handler's body is not sent");
    assert!(reply.set_cookies().is_empty());
    assert_eq!(jar.cookies, before.cookies);
    assert_eq!(
        read_blob(&layer, &jar).await,
        Some(incompressible(3000, 12)),
        "previous session intact"
    );

    let pass = layer.with_oversize_policy(OversizePolicy::PassThrough);
    let reply = store(&pass, &mut jar, 20_000, 13).await;
    assert_eq!(reply.status, OK);
    assert_eq!(reply.body.as_deref(), Some("handler body"));
    assert!(reply.set_cookies().is_empty());
}

#[tokio::test]
async fn the_500_carries_the_numbers() {
    use tower::{service_fn, Layer, ServiceExt};
    let svc = layer().layer(service_fn(|req: http::Request<()>| async move {
        req.extensions()
            .get::<Session>()
            .unwrap()
            .insert("b", incompressible(20_000, 1))
            .unwrap();
        Ok::<_, std::convert::Infallible>(http::Response::new(()))
    }));
    let res = svc.oneshot(http::Request::new(())).await.unwrap();
    let err = res
        .extensions()
        .get::<SessionTooLarge>()
        .expect("error attached");
    assert!(err.needed() > 20_000 && err.allowed() == 7168, "{err}");
}

#[tokio::test]
async fn encoded_len_predicts_the_request_bytes() {
    let layer = roomy();
    let mut jar = Jar::default();
    let predicted = std::sync::Arc::new(std::sync::Mutex::new(0));
    let out = predicted.clone();
    let reply = call(&layer, &[], move |s| {
        s.insert("blob", incompressible(9000, 14)).unwrap();
        *out.lock().unwrap() = s.encoded_len().unwrap();
        OK
    })
    .await;
    jar.apply(&reply);
    let actual: usize = jar
        .cookies
        .iter()
        .map(|(k, v)| k.len() + 1 + v.len() + 2)
        .sum();
    assert_eq!(*predicted.lock().unwrap(), actual);
    let over = call(&layer.clone().with_max_total_bytes(7168), &[], |s| {
        s.insert("blob", incompressible(9000, 14)).unwrap();
        assert!(s.encoded_len().is_err());
        OK
    })
    .await;
    assert_eq!(over.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn host_prefixed_chunks_keep_the_prefix_rules() {
    let layer = roomy().with_cookie_name("__Host-session").unwrap();
    let mut jar = Jar::default();
    let reply = store(&layer, &mut jar, 9000, 15).await;
    assert_eq!(
        jar.names(),
        [
            "__Host-session",
            "__Host-session.1",
            "__Host-session.2",
            "__Host-session.3"
        ]
    );
    for c in reply.set_cookies() {
        assert_eq!(c.secure(), Some(true), "{}", c.name());
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.domain(), None);
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let out = seen.clone();
    call(&layer, &jar.header(), move |s| {
        *out.lock().unwrap() = s.get::<String>("blob").unwrap();
        OK
    })
    .await;
    assert_eq!(seen.lock().unwrap().clone(), Some(incompressible(9000, 15)));
}

#[tokio::test]
async fn compression_comes_before_chunking() {
    let layer = roomy();
    let mut jar = Jar::default();
    let reply = call(&layer, &[], |s| {
        s.insert("blob", "abc".repeat(5000)).unwrap();
        OK
    })
    .await;
    jar.apply(&reply);
    assert_eq!(
        jar.names(),
        ["session"],
        "15 KB of repetitive JSON deflates into one cookie"
    );
    assert!(jar.cookies["session"].starts_with('.'));
    let decoded = Codec::new(key())
        .decode(&jar.cookies["session"], u64::MAX / 2, None)
        .unwrap();
    assert_eq!(decoded["blob"], json!("abc".repeat(5000)));
}
