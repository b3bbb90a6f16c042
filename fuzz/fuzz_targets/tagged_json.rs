//! Any JSON object as a session in tagged form: reading every key, writing
//! it back, re-inserting every natural value never panics, and nothing
//! changes on the way.
#![no_main]

use fuzz_support::{codec, SEED_TS};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tower_cookie_session::Session;

fuzz_target!(|data: &[u8]| {
    let Ok(map) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let codec = codec();
    let token = codec.encode(&map, SEED_TS);
    assert_eq!(
        codec.decode(&token, SEED_TS, None).as_ref(),
        Ok(&map),
        "decode(encode(m)) == m"
    );

    let session = Session::from_tagged(map);
    let natural: Vec<(String, Value)> = session
        .keys()
        .into_iter()
        .map(|k| {
            let v = session.get_value(&k).expect("a listed key has a value");
            let _ = session.get::<String>(&k);
            let _ = session.get::<Vec<(String, String)>>(&k);
            (k, v)
        })
        .collect();
    let _ = session.is_permanent();
    let _ = session.encoded_len();

    // What is written reads back as the same natural values.
    let tagged = session.to_tagged();
    let back = codec
        .decode(&codec.encode(&tagged, SEED_TS), SEED_TS, None)
        .expect("our own cookie");
    assert_eq!(back, tagged);
    let reread = Session::from_tagged(back);
    for (k, v) in &natural {
        assert_eq!(reread.get_value(k).as_ref(), Some(v), "key {k:?}");
    }

    // A handler storing the natural values it read stores the same values.
    let fresh = Session::default();
    for (k, v) in &natural {
        fresh.insert(k, v).expect("a JSON value is JSON");
    }
    for (k, v) in &natural {
        assert_eq!(fresh.get_value(k).as_ref(), Some(v), "re-inserted {k:?}");
    }
    let tagged = fresh.to_tagged();
    let back = codec
        .decode(&codec.encode(&tagged, SEED_TS), SEED_TS, None)
        .expect("our own cookie");
    assert_eq!(back, tagged);
    let _ = fresh.encoded_len();
});
