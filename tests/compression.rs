//! The layer's compression policies; Flask reads the cookie under each.

mod common;

use common::{call, key, layer};
use http::StatusCode;
use serde_json::{json, Value};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Compression, SessionLayer};

async fn cookie_for(layer: &SessionLayer, value: Value) -> String {
    let reply = call(layer, &[], move |s| {
        s.insert("v", value.clone()).unwrap();
        StatusCode::OK
    })
    .await;
    reply
        .set_cookie("session")
        .expect("written")
        .value()
        .to_owned()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn auto_deflates_from_1536_bytes_of_json() {
    let small = json!("a".repeat(1400));
    let large = json!("a".repeat(1600));
    let auto = layer();
    assert!(
        !cookie_for(&auto, small.clone()).await.starts_with('.'),
        "1.4 KB: not worth it"
    );
    let token = cookie_for(&auto, large.clone()).await;
    assert!(token.starts_with('.'), "1.6 KB of JSON is deflated");
    let decoded = Codec::new(key()).decode(&token, now(), None).unwrap();
    assert_eq!(decoded["v"], large);
}

#[tokio::test]
async fn never_and_flask_policies() {
    let large = json!("a".repeat(1600));
    let never = layer().with_compression(Compression::Never);
    assert!(!cookie_for(&never, large.clone()).await.starts_with('.'));

    // Flask's rule: the very token Codec::encode (Flask's bytes) produces.
    let flask = layer().with_compression(Compression::Flask);
    for v in [json!("x"), json!("a".repeat(300)), large] {
        let token = cookie_for(&flask, v.clone()).await;
        let decoded = Codec::new(key()).decode(&token, now(), None).unwrap();
        assert_eq!(decoded["v"], v);
        let reencoded = Codec::new(key()).encode(&decoded, timestamp_of(&token));
        assert_eq!(reencoded, token);
    }
}

fn timestamp_of(token: &str) -> u64 {
    use base64::Engine as _;
    let signed = token.rsplit_once('.').unwrap().0;
    let ts = signed.rsplit_once('.').unwrap().1;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(ts)
        .unwrap();
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}
