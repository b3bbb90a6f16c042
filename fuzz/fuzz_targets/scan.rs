//! The structural scan of a verified payload, against serde_json.
//!
//! Whatever serde_json reads as an object, the scan reads too, with the
//! same keys and, for each key, a value text serde_json reads as the same
//! value (the last of repeated keys, as Python and serde_json keep). What
//! the scan accepts, the layer writes back as a payload the scan accepts
//! again, and (when serde_json can read both) as the same object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tower_cookie_session::fuzzing::{flask_rewrite, scan_object, unescape};

fuzz_target!(|data: &[u8]| {
    let ours = scan_object(data);
    let theirs = serde_json::from_slice::<Map<String, Value>>(data);
    if let Ok(theirs) = &theirs {
        let members = ours
            .as_ref()
            .unwrap_or_else(|| panic!("serde_json reads it, the scan does not"));
        let text = std::str::from_utf8(data).expect("serde_json read UTF-8");
        let mut seen = Map::new();
        for (key, value) in members {
            let key = unescape(&text[key.clone()]);
            let value: Value = serde_json::from_str(&text[value.clone()])
                .expect("a value serde_json read as part of the object");
            seen.insert(key, value);
        }
        assert_eq!(&seen, theirs, "the members are serde_json's");
    }
    if ours.is_some() {
        let Some(written) = flask_rewrite(data) else {
            // Only a lone top-level tag is refused after a successful scan.
            return;
        };
        assert!(scan_object(&written).is_some(), "the rewrite scans");
        let again = flask_rewrite(&written).expect("the rewrite is a session");
        assert_eq!(again, written, "a rewrite is stable");
        if let (Ok(theirs), Ok(back)) = (
            &theirs,
            serde_json::from_slice::<Map<String, Value>>(&written),
        ) {
            let lone_tag = theirs.len() == 1 && theirs.keys().all(|k| k.starts_with(' '));
            if !lone_tag {
                assert_eq!(&back, theirs, "the rewrite holds the same object");
            }
        }
    }
});
