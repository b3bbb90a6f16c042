//! Flask's `save_session` decision table, replayed through `SessionLayer`.
//!
//! Each row of `tests/fixtures/flask_save_table.json` records what a real
//! Flask 3.1.3 app did for one (request cookie, view action, config)
//! combination. Request cookies are re-minted here at the current time,
//! because cookies stored in a fixture would expire.

#[path = "common/flask.rs"]
mod flask_common;

use std::convert::Infallible;
use std::time::Duration;

use cookie::Cookie;
use flask_common::{cases, key, load_fixture, str_field, u64_field, unix_now, Report};
use http::{header, Request, Response, StatusCode};
use serde_json::Value;
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Session, SessionLayer};

/// What the layer answered, reduced to what the fixture records.
#[derive(Debug)]
struct Outcome {
    status: u16,
    set_cookies: Vec<String>,
    vary_cookie: bool,
}

fn layer(secret_hex: &str, row: &Value, save_on_server_error: Option<bool>) -> SessionLayer {
    let config = &row["config"];
    // Flask's defaults: SESSION_COOKIE_SECURE False, SAMESITE None.
    let layer = SessionLayer::new(key(secret_hex))
        .with_secure(false)
        .without_same_site()
        .with_max_age(Duration::from_secs(u64_field(config, "permanent_lifetime")))
        .with_refresh_each_request(config["refresh_each_request"].as_bool().unwrap());
    match save_on_server_error {
        Some(save) => layer.with_save_on_server_error(save),
        None => layer,
    }
}

/// The request cookie for a row, minted now by our codec from Flask's
/// tagged payload.
fn request_cookie(codec: &Codec, row: &Value, now: u64) -> Option<String> {
    let request = row["request_cookie"].as_object()?;
    let tagged = request["tagged"].as_object().unwrap();
    let lifetime = u64_field(&row["config"], "permanent_lifetime");
    let state = request["state"].as_str().unwrap();
    let minted_at = if state == "expired" {
        now - lifetime - 60
    } else {
        now
    };
    let mut value = codec.encode(tagged, minted_at);
    if state == "tampered" {
        // A middle signature character: all six of its bits are used, so
        // the value stays canonical base64 and only the MAC breaks.
        let at = value.rfind('.').unwrap() + 10;
        let replacement = if &value[at..=at] == "A" { "B" } else { "A" };
        value.replace_range(at..=at, replacement);
    }
    Some(value)
}

fn perform(session: &Session, action: &str) {
    match action {
        "read" => {
            let _ = session.get_value("a");
        }
        "write" | "write_then_500" => session.insert("w", 1).unwrap(),
        "clear" => session.clear(),
        "pop_missing" => {
            session.remove("missing");
        }
        "remove_present" => {
            session.remove("a");
        }
        "make_permanent" => session.set_permanent(true),
        other => panic!("unknown action {other:?}"),
    }
}

async fn run(layer: SessionLayer, action: &'static str, cookie: Option<String>) -> Outcome {
    let service = ServiceBuilder::new().layer(layer).service(service_fn(
        move |req: Request<String>| async move {
            // As in the Flask view, "none" never touches the session.
            if action != "none" {
                let session = req
                    .extensions()
                    .get::<Session>()
                    .cloned()
                    .expect("SessionLayer installed");
                perform(&session, action);
            }
            let status = if action == "write_then_500" {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            };
            let mut response = Response::new(String::from("ok"));
            *response.status_mut() = status;
            Ok::<_, Infallible>(response)
        },
    ));
    let mut request = Request::builder().uri("/");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("session={cookie}"));
    }
    let response = service
        .oneshot(request.body(String::new()).unwrap())
        .await
        .unwrap();
    Outcome {
        status: response.status().as_u16(),
        set_cookies: response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect(),
        vary_cookie: response
            .headers()
            .get_all(header::VARY)
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("cookie")),
    }
}

fn action_name(row: &Value) -> &'static str {
    match str_field(row, "action") {
        "none" => "none",
        "read" => "read",
        "write" => "write",
        "clear" => "clear",
        "pop_missing" => "pop_missing",
        "remove_present" => "remove_present",
        "make_permanent" => "make_permanent",
        "write_then_500" => "write_then_500",
        other => panic!("unknown action {other:?}"),
    }
}

/// Compares the layer's Set-Cookie with Flask's; returns the differences.
fn compare_set_cookie(codec: &Codec, row: &Value, outcome: &Outcome, now: u64) -> Vec<String> {
    let expected = &row["set_cookie"];
    let mut diffs = Vec::new();
    if expected.is_null() {
        if !outcome.set_cookies.is_empty() {
            diffs.push(format!(
                "expected no Set-Cookie, got {:?}",
                outcome.set_cookies
            ));
        }
        return diffs;
    }
    let [header] = outcome.set_cookies.as_slice() else {
        diffs.push(format!(
            "expected one Set-Cookie, got {:?}",
            outcome.set_cookies
        ));
        return diffs;
    };
    let cookie = match Cookie::parse(header.as_str()) {
        Ok(c) => c,
        Err(e) => return vec![format!("unparsable Set-Cookie {header:?}: {e}")],
    };
    if cookie.name() != "session" {
        diffs.push(format!("cookie name {:?}", cookie.name()));
    }
    let expires = cookie.expires_datetime().map(|t| t.unix_timestamp());
    let deleted = cookie.value().is_empty()
        && (cookie.max_age().is_some_and(|m| m.is_zero())
            || expires.is_some_and(|e| e < now as i64));
    if deleted != (expected["deleted"] == true) {
        diffs.push(format!(
            "deleted: expected {}, got {header:?}",
            expected["deleted"]
        ));
    }
    if expires.is_some() != (expected["has_expires"] == true) {
        diffs.push(format!(
            "Expires present: expected {}, got {header:?}",
            expected["has_expires"]
        ));
    }
    if let (Some(want), Some(got)) = (expected["expires_in"].as_i64(), expires) {
        let delta = got - now as i64;
        if (delta - want).abs() > 5 {
            diffs.push(format!("Expires in {delta} s, expected {want} s"));
        }
    }
    // Attribute names only (values such as Expires differ by design);
    // Flask sends no Secure or SameSite by default and Max-Age only to delete.
    let mut attributes: Vec<&str> = header
        .split(';')
        .skip(1)
        .map(|a| a.split('=').next().unwrap().trim())
        .collect();
    attributes.sort_unstable();
    if attributes != expected["attributes"].as_array().unwrap().as_slice() {
        diffs.push(format!(
            "attributes {attributes:?}, Flask sent {}",
            expected["attributes"]
        ));
    }
    if cookie.path() != Some("/") {
        diffs.push(format!(
            "Path is not / (Flask's APPLICATION_ROOT): {header:?}"
        ));
    }
    if let Some(want) = expected["tagged"].as_object() {
        let lifetime = u64_field(&row["config"], "permanent_lifetime");
        // The layer signs at its own "now", which may be a second later.
        match codec.decode(cookie.value(), unix_now(), Some(lifetime)) {
            Ok(got) if &got == want => {}
            other => diffs.push(format!("payload: expected {want:?}, got {other:?}")),
        }
    }
    diffs
}

#[tokio::test]
async fn layer_writes_what_flask_save_session_writes() {
    let fixture = load_fixture("flask_save_table.json");
    let secret = str_field(&fixture, "secret_hex");
    let codec = Codec::new(key(secret));
    let saves_on_500 = fixture["notes"]["flask_saves_when_view_raises"] == true;
    let rows = cases(&fixture, "rows");
    let mut report = Report::default();
    let mut server_errors = 0;

    for row in rows {
        let name = str_field(row, "name");
        let action = action_name(row);
        let now = unix_now();
        let cookie = request_cookie(&codec, row, now);
        // Flask saves the session on a 500 (it does even when the view
        // raises); the layer does so only when asked to.
        let save_on_500 = (action == "write_then_500").then_some(true);
        let outcome = run(layer(secret, row, save_on_500), action, cookie.clone()).await;

        report.check(
            u64::from(outcome.status) == u64_field(row, "status"),
            || format!("{name}: status {}", outcome.status),
        );
        report.check(outcome.vary_cookie == (row["vary_cookie"] == true), || {
            format!(
                "{name}: Vary: Cookie expected {}, got {outcome:?}",
                row["vary_cookie"]
            )
        });
        let diffs = compare_set_cookie(&codec, row, &outcome, now);
        report.check(diffs.is_empty(), || format!("{name}: {}", diffs.join("; ")));

        if action == "write_then_500" {
            server_errors += 1;
            assert!(
                saves_on_500,
                "fixture: Flask did not save on 500, revisit this test"
            );
            let default = run(layer(secret, row, None), action, cookie).await;
            report.check(default.set_cookies.is_empty(), || {
                format!(
                    "{name}: default layer wrote on a 500: {:?}",
                    default.set_cookies
                )
            });
        }
    }
    assert!(server_errors > 0, "no write_then_500 rows");
    report.finish("save table", 3 * rows.len() + server_errors);
}

#[test]
fn table_covers_every_action_and_request_state() {
    let fixture = load_fixture("flask_save_table.json");
    let rows = cases(&fixture, "rows");
    for action in [
        "none",
        "read",
        "write",
        "clear",
        "pop_missing",
        "remove_present",
        "make_permanent",
        "write_then_500",
    ] {
        assert!(
            rows.iter().any(|r| r["action"] == action),
            "no {action} row"
        );
    }
    for state in ["valid", "valid_permanent", "tampered", "expired"] {
        assert!(
            rows.iter().any(|r| r["request_cookie"]["state"] == state),
            "no {state} row"
        );
    }
    assert!(rows.iter().any(|r| r["request_cookie"].is_null()));
}
