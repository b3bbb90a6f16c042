//! Starlette's and Django's save decisions, replayed through
//! `SessionLayer::starlette` and `SessionLayer::django`.
//!
//! Each row of `tests/fixtures/{starlette,django}_save_table.json` records
//! what the real framework's middleware answered, from its own test client,
//! for one (request cookie, view action, config) combination
//! (`tests/frameworks/gen_vectors.py`). Request cookies are re-minted here
//! at the current time, because stored cookies would expire.
//!
//! Where the layer deliberately differs, the row's expectation is rewritten
//! by [`Divergence`], each with its reason; every other row must match.

#[path = "common/flask.rs"]
mod flask_common;

use std::convert::Infallible;

use cookie::Cookie;
use flask_common::{cases, load_fixture, str_field, unix_now, Report};
use http::{header, Request, Response, StatusCode};
use serde_json::{Map, Value};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Key, Session, SessionLayer};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Framework {
    Starlette,
    Django,
}

impl Framework {
    fn fixture(self) -> Value {
        load_fixture(match self {
            Self::Starlette => "starlette_save_table.json",
            Self::Django => "django_save_table.json",
        })
    }

    fn codec(self, secret: &str) -> Codec {
        let key = Key::new(secret).unwrap();
        match self {
            Self::Starlette => Codec::starlette(key),
            Self::Django => Codec::django(key),
        }
    }

    fn cookie_name(self) -> &'static str {
        match self {
            Self::Starlette => "session",
            Self::Django => "sessionid",
        }
    }

    fn max_age(self, row: &Value) -> u64 {
        let config = &row["config"];
        config["max_age"]
            .as_u64()
            .or_else(|| config["SESSION_COOKIE_AGE"].as_u64())
            .expect("max age")
    }

    /// The layer as the row's framework was configured; `Secure` off as in
    /// the framework's defaults, so attributes compare one to one.
    fn layer(self, secret: &str, row: &Value, save_on_server_error: bool) -> SessionLayer {
        let key = Key::new(secret).unwrap();
        let layer = match self {
            Self::Starlette => SessionLayer::starlette(key),
            Self::Django => SessionLayer::django(key)
                .with_refresh_each_request(row["config"]["SESSION_SAVE_EVERY_REQUEST"] == true),
        };
        layer
            .with_secure(false)
            .with_save_on_server_error(save_on_server_error)
    }
}

/// A deliberate difference from the framework, applied to the row's
/// expected outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Divergence {
    /// Django's `session.clear()` keeps the session key and writes a signed
    /// `{}`; `Session::clear` is Django's `flush()`, what `logout()` calls:
    /// its rows are the `flush` rows, replayed separately.
    DjangoClearIsFlush,
    /// Django answers an accessed session that is empty because its cookie
    /// was bad (or, with `SESSION_SAVE_EVERY_REQUEST`, any empty one) with a
    /// freshly signed `{}`. The layer writes nothing for a session nobody
    /// changed: both sides read the client's cookie as an empty session.
    NoEmptyRewrite,
    /// The framework writes on a 5xx response; the layer only when
    /// `with_save_on_server_error(true)` (replayed both ways).
    ServerError,
}

fn divergence(framework: Framework, row: &Value) -> Option<Divergence> {
    let action = str_field(row, "action");
    if framework == Framework::Django && action == "clear" {
        return Some(Divergence::DjangoClearIsFlush);
    }
    let rewrites_empty = row["set_cookie"]["deleted"] == false
        && row["set_cookie"]["session"]
            .as_object()
            .is_some_and(Map::is_empty);
    if rewrites_empty {
        return Some(Divergence::NoEmptyRewrite);
    }
    if action == "write_then_500" && !row["set_cookie"].is_null() {
        return Some(Divergence::ServerError);
    }
    None
}

/// The request cookie for a row, minted now by our codec.
fn request_cookie(framework: Framework, codec: &Codec, row: &Value, now: u64) -> Option<String> {
    let request = row["request_cookie"].as_object()?;
    let state = request["state"].as_str().unwrap();
    if state == "garbage" {
        return Some("garbage-value-123".to_owned());
    }
    let session = request["session"].as_object().cloned().unwrap_or_default();
    let minted_at = match state {
        "expired" => now - framework.max_age(row) - 60,
        "future" => now + 60,
        "valid" | "valid_empty" | "tampered" => now,
        other => panic!("unknown request state {other}"),
    };
    let mut value = codec.encode(&session, minted_at);
    if state == "tampered" {
        // As the generator: the signature's 10th character, replaced by the
        // next base64url character (all its six bits are used).
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let separator = if framework == Framework::Django {
            ':'
        } else {
            '.'
        };
        let at = value.rfind(separator).unwrap() + 1 + 10;
        let old = value.as_bytes()[at];
        let next = ALPHABET[(ALPHABET.iter().position(|c| *c == old).unwrap() + 1) % 64];
        value.replace_range(at..=at, std::str::from_utf8(&[next]).unwrap());
    }
    Some(value)
}

fn perform(session: &Session, action: &str) {
    match action {
        "read" => {
            let _ = session.get_value("a");
        }
        "write" | "write_then_500" => session.insert("w", 1).unwrap(),
        "clear" | "flush" => session.clear(),
        "pop_missing" => {
            session.remove("missing");
        }
        "remove_present" => {
            session.remove("a");
        }
        other => panic!("unknown action {other:?}"),
    }
}

#[derive(Debug)]
struct Outcome {
    status: u16,
    set_cookies: Vec<String>,
    vary_cookie: bool,
}

impl Outcome {
    fn of<B>(response: &Response<B>) -> Self {
        Self {
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
}

async fn run(
    layer: SessionLayer,
    name: &'static str,
    action: String,
    cookie: Option<String>,
) -> Outcome {
    let service =
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(move |req: Request<String>| {
                let action = action.clone();
                async move {
                    if action != "none" {
                        let session = req.extensions().get::<Session>().cloned().unwrap();
                        perform(&session, &action);
                    }
                    let mut response = Response::new(String::from("ok"));
                    if action == "write_then_500" {
                        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    Ok::<_, Infallible>(response)
                }
            }));
    let mut request = Request::builder().uri("/");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("{name}={cookie}"));
    }
    let response = service
        .oneshot(request.body(String::new()).unwrap())
        .await
        .unwrap();
    Outcome::of(&response)
}

/// Lowercased attribute names, sorted.
fn attribute_names(line: &str) -> Vec<String> {
    let mut names: Vec<String> = line
        .split(';')
        .skip(1)
        .map(|a| a.split('=').next().unwrap().trim().to_ascii_lowercase())
        .collect();
    names.sort_unstable();
    names
}

/// Compares the layer's `Set-Cookie` with the framework's (`expected`,
/// the row's `set_cookie`); returns the differences.
fn compare(
    framework: Framework,
    codec: &Codec,
    row: &Value,
    expected: &Value,
    outcome: &Outcome,
) -> Vec<String> {
    if expected.is_null() {
        return if outcome.set_cookies.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "expected no Set-Cookie, got {:?}",
                outcome.set_cookies
            )]
        };
    }
    let [line] = outcome.set_cookies.as_slice() else {
        return vec![format!(
            "expected one Set-Cookie, got {:?}",
            outcome.set_cookies
        )];
    };
    let cookie = match Cookie::parse(line.as_str()) {
        Ok(c) => c,
        Err(e) => return vec![format!("unparsable Set-Cookie {line:?}: {e}")],
    };
    let mut diffs = Vec::new();
    if cookie.name() != framework.cookie_name() {
        diffs.push(format!("cookie name {:?}", cookie.name()));
    }
    let theirs = expected["raw"].as_str().unwrap();
    let (ours_names, their_names) = (attribute_names(line), attribute_names(theirs));
    if expected["deleted"] == true {
        if cookie.value() != expected["value"].as_str().unwrap() {
            diffs.push(format!(
                "deletion value {:?}, framework sent {theirs:?}",
                cookie.value()
            ));
        }
        if cookie.expires_datetime().map(|t| t.unix_timestamp()) != Some(0) {
            diffs.push(format!("deletion without Expires at the epoch: {line:?}"));
        }
        // Flags on a deleted cookie change nothing: the layer keeps HttpOnly
        // where Django drops it.
        let without_flags = |names: &[String]| -> Vec<String> {
            names.iter().filter(|n| *n != "httponly").cloned().collect()
        };
        if without_flags(&ours_names) != without_flags(&their_names) {
            diffs.push(format!(
                "deletion attributes {line:?}, framework sent {theirs:?}"
            ));
        }
        return diffs;
    }
    if ours_names != their_names {
        diffs.push(format!("attributes {line:?}, framework sent {theirs:?}"));
    }
    if cookie.max_age().map(|m| m.whole_seconds()) != Some(framework.max_age(row) as i64) {
        diffs.push(format!("Max-Age in {line:?}"));
    }
    let want = expected["session"].as_object().unwrap();
    // The layer signs at its own "now"; allow for the second turning.
    match codec.decode(cookie.value(), unix_now() + 1, Some(framework.max_age(row))) {
        Ok(got) if &got == want => {}
        other => diffs.push(format!("payload: expected {want:?}, got {other:?}")),
    }
    diffs
}

async fn replay(framework: Framework) {
    let fixture = framework.fixture();
    let secret = str_field(&fixture, "secret");
    let codec = framework.codec(secret);
    let rows = cases(&fixture, "rows");
    let mut report = Report::default();
    let mut checks = 0;
    let mut diverged = 0;
    for row in rows {
        let name = str_field(row, "name");
        let action = str_field(row, "action").to_owned();
        let now = unix_now();
        let cookie = request_cookie(framework, &codec, row, now);
        let divergence = divergence(framework, row);
        let mut expected = row["set_cookie"].clone();
        let mut expected_vary = row["vary_cookie"] == true;
        let mut save_on_500 = false;
        match divergence {
            Some(Divergence::DjangoClearIsFlush) => {
                diverged += 1;
                continue;
            }
            Some(Divergence::NoEmptyRewrite) => {
                diverged += 1;
                expected = Value::Null;
                // Django's Vary comes with its write, or with the access.
                expected_vary = action != "none";
            }
            Some(Divergence::ServerError) => save_on_500 = true,
            None => {}
        }
        let layer = framework.layer(secret, row, save_on_500);
        let outcome = run(
            layer,
            framework.cookie_name(),
            action.clone(),
            cookie.clone(),
        )
        .await;
        report.check(
            u64::from(outcome.status) == row["status"].as_u64().unwrap(),
            || format!("{name}: status {}", outcome.status),
        );
        report.check(outcome.vary_cookie == expected_vary, || {
            format!("{name}: Vary: Cookie expected {expected_vary}, got {outcome:?}")
        });
        let diffs = compare(framework, &codec, row, &expected, &outcome);
        report.check(diffs.is_empty(), || format!("{name}: {}", diffs.join("; ")));
        checks += 3;
        if divergence == Some(Divergence::ServerError) {
            diverged += 1;
            let default = framework.layer(secret, row, false);
            let outcome = run(default, framework.cookie_name(), action, cookie).await;
            report.check(outcome.set_cookies.is_empty(), || {
                format!("{name}: the default layer wrote on a 500: {outcome:?}")
            });
            checks += 1;
        }
    }
    // Most rows are the framework's behaviour exactly.
    assert!(
        diverged * 3 < rows.len(),
        "{diverged} of {} rows diverge",
        rows.len()
    );
    report.finish(&format!("{framework:?} save table"), checks);
}

#[tokio::test]
async fn starlette_layer_writes_what_starlettes_middleware_writes() {
    replay(Framework::Starlette).await;
}

#[tokio::test]
async fn django_layer_writes_what_djangos_middleware_writes() {
    replay(Framework::Django).await;
}

#[test]
fn tables_cover_every_action_and_request_state() {
    for framework in [Framework::Starlette, Framework::Django] {
        let fixture = framework.fixture();
        let rows = cases(&fixture, "rows");
        for action in [
            "none",
            "read",
            "write",
            "clear",
            "pop_missing",
            "remove_present",
            "write_then_500",
        ] {
            assert!(
                rows.iter().any(|r| r["action"] == action),
                "{framework:?}: no {action} row"
            );
        }
        for state in [
            "valid",
            "valid_empty",
            "tampered",
            "expired",
            "future",
            "garbage",
        ] {
            assert!(
                rows.iter().any(|r| r["request_cookie"]["state"] == state),
                "{framework:?}: no {state} row"
            );
        }
        assert!(rows.iter().any(|r| r["request_cookie"].is_null()));
    }
    let django = Framework::Django.fixture();
    assert!(cases(&django, "rows")
        .iter()
        .any(|r| r["action"] == "flush"));
}

/// Django's per-session expiry (`set_expiry`, `_session_expiry`): the
/// `expiry_rows` of the Django table, replayed with the layer's clock
/// frozen where Django's was, so every `Set-Cookie` must be Django's byte
/// for byte (value, `Max-Age`, `Expires`).
///
/// One deliberate difference: Django's signed-cookie backend checks only
/// `SESSION_COOKIE_AGE` on read (Django ticket #19201), so it still accepts
/// a session past its own expiry (a negative one, a date gone by); the
/// layer holds a session to the lifetime its cookie was given, and reads
/// it as no session.
#[tokio::test]
async fn django_layer_honours_set_expiry_as_djangos_middleware_does() {
    const T0: u64 = 1_700_000_000;
    let fixture = Framework::Django.fixture();
    let secret = str_field(&fixture, "secret");
    let codec = Framework::Django.codec(secret);
    let rows = cases(&fixture, "expiry_rows");
    let mut report = Report::default();
    let mut checks = 0;
    let mut past_own_expiry = 0;
    for row in rows {
        let name = str_field(row, "name");
        let action = str_field(row, "action").to_owned();
        let request = row["request_cookie"]["session"].as_object().cloned();
        let cookie = request.as_ref().map(|s| codec.encode(s, T0));
        let layer = Framework::Django
            .layer(secret, row, false)
            .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(T0));
        let outcome = run_expiry(layer, action, cookie).await;
        let expiry = request
            .as_ref()
            .and_then(|s| s.get("_session_expiry"))
            .cloned();
        let own_expiry_past = match &expiry {
            Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n < 0),
            Some(Value::String(s)) => s.as_str() < "2023-11-14T22:13:20",
            _ => false,
        };
        if own_expiry_past {
            past_own_expiry += 1;
            let keeps_it = outcome.set_cookies.iter().any(|line| {
                let cookie = Cookie::parse(line.as_str()).unwrap();
                codec
                    .decode(cookie.value(), T0, None)
                    .is_ok_and(|s| s.contains_key("_session_expiry"))
            });
            report.check(!keeps_it, || {
                format!("{name}: a session past its own expiry was kept: {outcome:?}")
            });
            checks += 1;
            continue;
        }
        let expected = &row["set_cookie"];
        if expected.is_null() {
            report.check(outcome.set_cookies.is_empty(), || {
                format!("{name}: expected no Set-Cookie, got {outcome:?}")
            });
            checks += 1;
            continue;
        }
        let theirs = expected["raw"].as_str().unwrap();
        let [line] = outcome.set_cookies.as_slice() else {
            report.check(false, || {
                format!("{name}: expected {theirs:?}, got {outcome:?}")
            });
            checks += 1;
            continue;
        };
        let ours = Cookie::parse(line.as_str()).unwrap();
        let django = Cookie::parse(theirs).unwrap();
        // The request cookie was minted from a `serde_json::Map` (keys
        // sorted), so the payloads are compared as sessions, not bytes.
        let session = |value: &str| codec.decode(value, T0, None).ok();
        report.check(
            session(ours.value()).is_some() && session(ours.value()) == session(django.value()),
            || format!("{name}: value {line:?}, Django sent {theirs:?}"),
        );
        report.check(ours.max_age() == django.max_age(), || {
            format!("{name}: Max-Age in {line:?}, Django sent {theirs:?}")
        });
        report.check(ours.expires_datetime() == django.expires_datetime(), || {
            format!("{name}: Expires in {line:?}, Django sent {theirs:?}")
        });
        report.check(outcome.vary_cookie == (row["vary_cookie"] == true), || {
            format!("{name}: Vary in {outcome:?}")
        });
        checks += 4;
    }
    assert!(
        past_own_expiry * 4 < rows.len(),
        "{past_own_expiry} rows diverge"
    );
    report.finish("Django set_expiry table", checks);
}

/// One request whose view does what the row's action says (`set_expiry`
/// as the session key Django keeps it under).
async fn run_expiry(layer: SessionLayer, action: String, cookie: Option<String>) -> Outcome {
    let service =
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(move |req: Request<String>| {
                let action = action.clone();
                async move {
                    let session = req.extensions().get::<Session>().cloned().unwrap();
                    match action.as_str() {
                        "none" => {}
                        "read" => {
                            let _ = session.get_value("a");
                        }
                        "write" => session.insert("w", 1).unwrap(),
                        set_expiry => {
                            let value = match set_expiry {
                                "set_expiry_0" => Some(Value::from(0)),
                                "set_expiry_300" => Some(Value::from(300)),
                                // `set_expiry(timedelta | datetime)` stores its
                                // `isoformat()`.
                                "set_expiry_timedelta_1d" | "set_expiry_datetime_1d" => {
                                    Some(Value::from("2023-11-15T22:13:20+00:00"))
                                }
                                "set_expiry_none_after_0" => None,
                                other => panic!("unknown action {other:?}"),
                            };
                            match value {
                                Some(v) => session.insert("_session_expiry", v).unwrap(),
                                None => {
                                    session.remove("_session_expiry");
                                }
                            }
                            session.insert("w", 1).unwrap();
                        }
                    }
                    Ok::<_, Infallible>(Response::new(String::from("ok")))
                }
            }));
    let mut request = Request::builder().uri("/");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("sessionid={cookie}"));
    }
    let response = service
        .oneshot(request.body(String::new()).unwrap())
        .await
        .unwrap();
    Outcome::of(&response)
}
