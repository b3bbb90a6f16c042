//! A cookie inspector for a mixed fleet: what is in a session cookie, which
//! key signed it, how old it is, and — when it is refused — exactly why.
//!
//! ```sh
//! # one cookie value, the format guessed:
//! cargo run --example inspect -- --secret "$SECRET_KEY" 'eyJ1c2VyX2lkIjo0Mn0.ZVPxAA.…'
//! # a whole Cookie header (chunks joined), old keys too, Django's format:
//! cargo run --example inspect -- --format django --secret "$NEW" --fallback "$OLD" \
//!     'Cookie: sessionid=…; csrftoken=…'
//! # from stdin, at a given time:
//! pbpaste | cargo run --example inspect -- --secret "$SECRET_KEY" --now 1700000060 -
//! ```
//!
//! It prints the format, the key that verified the cookie (current or
//! fallback n), the signing time, its age and the expiry rule the framework
//! applies, whether the payload was compressed, each cookie's size against
//! the layer's budget, and the session as pretty JSON exactly as the Python
//! side wrote it (integers beyond 64 bits, `NaN`, lone surrogates). A
//! refused cookie gets its reason — bad signature, expired by N s, dated N s
//! in the future, a missing chunk, malformed — on stderr, and exit status 1
//! (2 for a usage error).
//!
//! Everything here is built on the public [`Codec`] API.

use std::io::Read as _;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use tower_cookie_session::codec::{Codec, DecodeErrorKind, Key, RawSession};

/// The layer's default per-cookie budget (`SessionLayer::with_max_cookie_bytes`).
const COOKIE_BUDGET: usize = 4093;
const DAY: u64 = 86_400;

/// What the inspector knows of each format: one row per framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Flask,
    Starlette,
    Django,
    Encrypted,
}

struct Facts {
    name: &'static str,
    cookie: &'static str,
    /// The age past which the framework refuses the cookie.
    max_age: u64,
    /// Whether a timestamp in the future is accepted (Django's is).
    future_ok: bool,
    rule: &'static str,
}

impl Format {
    const ALL: [Self; 4] = [Self::Flask, Self::Starlette, Self::Django, Self::Encrypted];

    fn facts(self) -> Facts {
        match self {
            Self::Flask => Facts {
                name: "flask (also Quart's)",
                cookie: "session",
                max_age: 31 * DAY,
                future_ok: false,
                rule: "Flask checks PERMANENT_SESSION_LIFETIME (31 days) on every cookie, permanent or not",
            },
            Self::Starlette => Facts {
                name: "starlette",
                cookie: "session",
                max_age: 14 * DAY,
                future_ok: false,
                rule: "SessionMiddleware's max_age (14 days)",
            },
            Self::Django => Facts {
                name: "django (signed_cookies)",
                cookie: "sessionid",
                max_age: 14 * DAY,
                future_ok: true,
                rule: "SESSION_COOKIE_AGE (14 days); a future timestamp is accepted",
            },
            Self::Encrypted => Facts {
                name: "encrypted (SessionLayer::encrypted)",
                cookie: "session",
                max_age: 31 * DAY,
                future_ok: false,
                rule: "the layer's default lifetime (31 days)",
            },
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "flask" | "quart" => Self::Flask,
            "starlette" | "fastapi" => Self::Starlette,
            "django" => Self::Django,
            "encrypted" => Self::Encrypted,
            _ => return None,
        })
    }

    fn codec(self, key: Key, cookie: &str) -> Codec {
        match self {
            Self::Flask => Codec::new(key),
            Self::Starlette => Codec::starlette(key),
            Self::Django => Codec::django(key),
            Self::Encrypted => Codec::encrypted(key, cookie),
        }
    }
}

#[derive(Debug)]
struct Args {
    secrets: Vec<String>,
    format: Option<Format>,
    name: Option<String>,
    max_age: Option<u64>,
    now: u64,
    input: String,
}

fn usage() -> &'static str {
    "usage: inspect --secret KEY [--fallback OLD_KEY]... [--format flask|quart|starlette|django|encrypted]\n\
     \x20              [--name COOKIE] [--max-age SECONDS] [--now UNIX_TIME] <cookie value | 'Cookie: …' header | ->"
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut args = args.into_iter();
    let mut secrets = Vec::new();
    let (mut fallbacks, mut format, mut name, mut max_age, mut now, mut input) =
        (Vec::new(), None, None, None, None, None);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--secret" => secrets.push(value("--secret")?),
            "--fallback" => fallbacks.push(value("--fallback")?),
            "--format" => {
                let v = value("--format")?;
                format = Some(Format::parse(&v).ok_or(format!("unknown format {v:?}"))?);
            }
            "--name" => name = Some(value("--name")?),
            "--max-age" => {
                max_age = Some(
                    value("--max-age")?
                        .parse()
                        .map_err(|e| format!("--max-age: {e}"))?,
                )
            }
            "--now" => now = Some(value("--now")?.parse().map_err(|e| format!("--now: {e}"))?),
            "-h" | "--help" => return Err(String::new()),
            _ if input.is_none() && (arg == "-" || !arg.starts_with("--")) => input = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if secrets.len() != 1 {
        return Err("exactly one --secret (older keys go in --fallback)".into());
    }
    secrets.extend(fallbacks);
    let input = match input.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| e.to_string())?;
            text
        }
        Some(text) => text.to_owned(),
    };
    let now = now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    Ok(Args {
        secrets,
        format,
        name,
        max_age,
        now,
        input: input.trim().to_owned(),
    })
}

/// The cookies that make up the session: `(name, value)` of the base
/// cookie, then of each chunk it names.
fn cookies_of(input: &str, name: &str) -> Result<Vec<(String, String)>, String> {
    let header = input
        .strip_prefix("Cookie:")
        .or_else(|| input.strip_prefix("cookie:"));
    let is_header =
        header.is_some() || input.contains(';') || input.starts_with(&format!("{name}="));
    if !is_header {
        return Ok(vec![(name.to_owned(), input.to_owned())]);
    }
    let header = header.unwrap_or(input).trim();
    let pairs: Vec<(String, String)> = cookie::Cookie::split_parse(header)
        .flatten()
        .map(|c| (c.name().to_owned(), c.value_trimmed().to_owned()))
        .collect();
    let find = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let base = find(name).ok_or(format!(
        "malformed: the header holds no cookie named {name:?}"
    ))?;
    let mut cookies = vec![(name.to_owned(), base.clone())];
    if let Some(count) = base.strip_prefix("chunks-") {
        let n: usize = count
            .parse()
            .map_err(|_| format!("malformed: chunk marker {base:?}"))?;
        for i in 1..=n {
            let chunk = format!("{name}.{i}");
            let value = find(&chunk).ok_or(format!("missing chunk {i} of {n} ({chunk})"))?;
            cookies.push((chunk, value));
        }
    }
    Ok(cookies)
}

/// The token the cookies carry: the base value, or its chunks joined.
fn token_of(cookies: &[(String, String)]) -> String {
    if cookies.len() == 1 {
        cookies[0].1.clone()
    } else {
        cookies[1..].iter().map(|(_, v)| v.as_str()).collect()
    }
}

struct Found {
    format: Format,
    /// 0: the current key; n: fallback n.
    key: usize,
    session: RawSession,
}

/// The first format and key under which `token` verifies, ignoring age
/// (judged afterwards, to say by how much). `Err` holds the best reason.
fn verify(
    token: &str,
    formats: &[Format],
    secrets: &[String],
    name: &str,
) -> Result<Found, String> {
    let mut malformed = true;
    for &format in formats {
        for (i, secret) in secrets.iter().enumerate() {
            let key = Key::new(secret).map_err(|e| e.to_string())?;
            let cookie = if format == Format::Encrypted {
                name
            } else {
                format.facts().cookie
            };
            // No age limit, and "now" beyond any timestamp: signature and payload only.
            match format
                .codec(key, cookie)
                .decode_lossless(token, u64::MAX, None)
            {
                Ok(session) => {
                    return Ok(Found {
                        format,
                        key: i,
                        session,
                    })
                }
                Err(e) if e.kind() == DecodeErrorKind::BadPayload => {
                    return Err(format!(
                        "bad payload: the signature verifies ({}, {}) but {e}",
                        format.facts().name,
                        which(i)
                    ))
                }
                Err(e) if e.kind() != DecodeErrorKind::Malformed => malformed = false,
                Err(_) => {}
            }
        }
    }
    let tried: Vec<&str> = formats.iter().map(|f| f.facts().name).collect();
    Err(if malformed {
        format!("malformed: not a signed token of {}", tried.join(", "))
    } else {
        format!(
            "bad signature: no key ({} tried) verifies it as {}",
            secrets.len(),
            tried.join(", ")
        )
    })
}

fn which(key: usize) -> String {
    if key == 0 {
        "the current key".to_owned()
    } else {
        format!("fallback key {key}")
    }
}

fn rfc3339(ts: u64) -> String {
    i64::try_from(ts)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "out of range".to_owned())
}

/// JSON text indented for reading: whitespace added outside strings only,
/// so every value stays as written.
fn pretty(json: &str) -> String {
    let (mut out, mut depth, mut in_string, mut escaped) = (String::new(), 0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// The report for an accepted cookie, or the reason it is refused.
fn inspect(args: &Args) -> Result<String, String> {
    let formats: Vec<Format> = args.format.map_or(Format::ALL.to_vec(), |f| vec![f]);
    let name = args.name.clone().unwrap_or_else(|| {
        args.format
            .map_or("session", |f| f.facts().cookie)
            .to_owned()
    });
    // Without a format, a header's `sessionid` says Django.
    let name = if args.format.is_none() && args.name.is_none() && args.input.contains("sessionid=")
    {
        "sessionid".to_owned()
    } else {
        name
    };
    let cookies = cookies_of(&args.input, &name)?;
    let token = token_of(&cookies);
    let found = verify(&token, &formats, &args.secrets, &name)?;
    let facts = found.format.facts();
    let max_age = args.max_age.unwrap_or(facts.max_age);
    let ts = found.session.timestamp();
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<12} {text}\n"));
    line("format:", facts.name.to_owned());
    line(
        "verified by:",
        format!(
            "{} (of {} key{})",
            which(found.key),
            args.secrets.len(),
            if args.secrets.len() == 1 { "" } else { "s" }
        ),
    );
    line("signed at:", format!("{ts} ({})", rfc3339(ts)));
    let verdict = if ts > args.now {
        let ahead = ts - args.now;
        line("age:", format!("dated {ahead} s in the future"));
        (!facts.future_ok).then(|| {
            format!(
                "dated {ahead} s in the future (clock skew?); {} refuses it",
                facts.name
            )
        })
    } else {
        let age = args.now - ts;
        line("age:", format!("{age} s"));
        (age > max_age).then(|| {
            format!(
                "expired by {} s (age {age} s, max age {max_age} s)",
                age - max_age
            )
        })
    };
    line(
        "expiry rule:",
        format!("{}; max age {max_age} s", facts.rule),
    );
    let permanent = found.session.get_json("_permanent") == Some("true");
    if found.format == Format::Flask {
        line(
            "permanent:",
            if permanent {
                "yes (Expires set, 31 days)".into()
            } else {
                "no (a browser-session cookie)".into()
            },
        );
    }
    line(
        "compressed:",
        if found.session.is_compressed() {
            "yes (zlib)".into()
        } else {
            "no".into()
        },
    );
    for (cookie, value) in &cookies {
        let size = cookie.len() + 1 + value.len();
        line(
            "cookie:",
            format!(
                "{cookie}: {size} bytes of the {COOKIE_BUDGET}-byte budget{}",
                if size > COOKIE_BUDGET { " (OVER)" } else { "" }
            ),
        );
    }
    out.push_str(&format!(
        "session ({} key{}):\n{}\n",
        found.session.len(),
        if found.session.len() == 1 { "" } else { "s" },
        pretty(&found.session.to_json())
    ));
    match verdict {
        Some(reason) => Err(format!("{out}refused: {reason}")),
        None => Ok(out),
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("inspect: {e}");
            }
            eprintln!("{}", usage());
            return ExitCode::from(2);
        }
    };
    match inspect(&args) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(report) => {
            // The report of a verified but refused cookie goes to stdout;
            // the reason always to stderr.
            let (body, reason) = report
                .rsplit_once("refused: ")
                .map_or(("", report.as_str()), |(b, r)| (b, r));
            print!("{body}");
            eprintln!("refused: {}", reason.trim_start_matches("refused: "));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn args(
        secret: String,
        fallbacks: Vec<String>,
        format: &str,
        now: u64,
        max_age: Option<u64>,
        input: &str,
    ) -> Args {
        let mut secrets = vec![secret];
        secrets.extend(fallbacks);
        Args {
            secrets,
            format: Format::parse(format),
            name: None,
            max_age,
            now,
            input: input.to_owned(),
        }
    }

    /// A hex key as text; `None` for a binary key, which a command line
    /// cannot carry.
    fn hex(text: &str) -> Option<String> {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        String::from_utf8(bytes).ok()
    }

    /// Every cookie the frameworks' own code wrote (`tests/fixtures`): the
    /// inspector accepts the valid ones with their timestamp and session,
    /// and refuses the rest.
    #[test]
    fn reads_every_framework_vector() {
        let mut checked = 0;
        for (file, format) in [
            ("starlette_codec.json", "starlette"),
            ("django_codec.json", "django"),
            ("flask_codec.json", "flask"),
        ] {
            let v = fixture(file);
            for case in v["valid"].as_array().unwrap() {
                let Some((secret, fallbacks)) = secrets(case) else {
                    continue;
                };
                if !default_config(case) {
                    continue;
                }
                let a = args(
                    secret,
                    fallbacks,
                    format,
                    case["now"].as_u64().unwrap(),
                    case["max_age"].as_u64().or(Some(u64::MAX)), // null: no limit
                    case["cookie"].as_str().unwrap(),
                );
                let report = inspect(&a).unwrap_or_else(|e| panic!("{file} {}: {e}", case["name"]));
                let ts = case["timestamp"]
                    .as_u64()
                    .or_else(|| case["now"].as_u64())
                    .unwrap();
                if case["timestamp"].is_u64() {
                    assert!(report.contains(&format!("signed at:   {ts}")), "{report}");
                }
                checked += 1;
            }
            for case in v["rejected"].as_array().unwrap() {
                let Some((secret, fallbacks)) = secrets(case) else {
                    continue;
                };
                if !default_config(case) {
                    continue;
                }
                let a = args(
                    secret,
                    fallbacks,
                    format,
                    case["now"].as_u64().unwrap(),
                    case["max_age"].as_u64(),
                    case["cookie"].as_str().unwrap(),
                );
                let kind = case["expected_kind"].as_str().unwrap_or("any");
                let Err(refused) = inspect(&a) else {
                    // Vectors the framework itself accepts (Django's mojibake).
                    assert_eq!(kind, "any", "{file} {}: accepted", case["name"]);
                    continue;
                };
                let reason = refused.rsplit("refused: ").next().unwrap_or(&refused);
                let ok = match kind {
                    "expired" => reason.starts_with("expired by") || reason.starts_with("dated"),
                    "bad_signature" => reason.starts_with("bad signature"),
                    "malformed" => reason.starts_with("malformed"),
                    "bad_payload" => reason.starts_with("bad payload"),
                    "malformed_or_bad_signature" => {
                        reason.starts_with("malformed") || reason.starts_with("bad signature")
                    }
                    _ => true,
                };
                assert!(ok, "{file} {}: expected {kind}, got {reason}", case["name"]);
                checked += 1;
            }
        }
        assert!(checked > 50, "{checked}");
    }

    /// The inspector reads each framework's default configuration; the
    /// Flask vectors also cover other digests, derivations and salts.
    fn default_config(case: &Value) -> bool {
        !(case.get("key_derivation").is_some_and(|d| d != "hmac")
            || case.get("digest").is_some_and(|d| d != "sha1")
            || case.get("salt").is_some_and(|s| s != "cookie-session"))
    }

    fn secrets(case: &Value) -> Option<(String, Vec<String>)> {
        let secret = match case["secret"].as_str() {
            Some(s) => s.to_owned(),
            None => hex(case["secret_hex"].as_str()?)?,
        };
        let fallbacks = match (
            case["fallbacks"].as_array(),
            case["fallbacks_hex"].as_array(),
        ) {
            (Some(f), _) => f
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
            (None, Some(f)) => f.iter().map(|s| hex(s.as_str()?)).collect::<Option<_>>()?,
            (None, None) => Vec::new(),
        };
        Some((secret, fallbacks))
    }

    #[test]
    fn says_which_key_and_why_it_refuses() {
        let old = Key::new("old-key").unwrap();
        let token = Codec::new(old).encode(
            serde_json::json!({"big": 1, "_permanent": true})
                .as_object()
                .unwrap(),
            1_700_000_000,
        );
        let a = |now, input: &str| {
            args(
                "new-key".into(),
                vec!["x".into(), "old-key".into()],
                "flask",
                now,
                None,
                input,
            )
        };
        let report = inspect(&a(1_700_000_060, &token)).unwrap();
        assert!(
            report.contains("fallback key 2 (of 3 keys)") && report.contains("age:         60 s"),
            "{report}"
        );
        assert!(report.contains("permanent:   yes"), "{report}");
        let expired = inspect(&a(1_700_000_000 + 31 * DAY + 5, &token)).unwrap_err();
        assert!(
            expired.ends_with("refused: expired by 5 s (age 2678405 s, max age 2678400 s)"),
            "{expired}"
        );
        let future = inspect(&a(1_699_999_990, &token)).unwrap_err();
        assert!(
            future.contains("refused: dated 10 s in the future"),
            "{future}"
        );
        let bad = inspect(&args(
            "nobody".into(),
            vec![],
            "flask",
            1_700_000_060,
            None,
            &token,
        ))
        .unwrap_err();
        assert!(bad.starts_with("bad signature"), "{bad}");
        assert!(inspect(&a(0, "not a cookie"))
            .unwrap_err()
            .starts_with("malformed"));
    }

    #[test]
    fn joins_chunks_from_a_header_and_names_a_missing_one() {
        let codec = Codec::new(Key::new("k").unwrap());
        let token = codec.encode(
            serde_json::json!({"n": 18}).as_object().unwrap(),
            1_700_000_000,
        );
        let (a, b) = token.split_at(10);
        let header = format!("Cookie: other=1; session=chunks-2; session.2={b}; session.1={a}");
        let report = inspect(&args(
            "k".into(),
            vec![],
            "flask",
            1_700_000_001,
            None,
            &header,
        ))
        .unwrap();
        assert!(
            report.contains("session.1: ") && report.contains("session.2: "),
            "{report}"
        );
        let missing = format!("session=chunks-2; session.1={a}");
        let refused = inspect(&args(
            "k".into(),
            vec![],
            "flask",
            1_700_000_001,
            None,
            &missing,
        ))
        .unwrap_err();
        assert_eq!(refused, "missing chunk 2 of 2 (session.2)");
    }

    #[test]
    fn shows_values_as_python_wrote_them() {
        // Flask's cookie for {"big": 2**64}: a serde_json Map cannot hold it.
        let cookie = "eyJiaWciOjE4NDQ2NzQ0MDczNzA5NTUxNjE2fQ.ZVPxAA.M5jaVvWZbTIdoSBRZCwnHjk8BGE";
        let report = inspect(&args(
            "secret".into(),
            vec![],
            "",
            1_700_000_000,
            None,
            cookie,
        ))
        .unwrap();
        assert!(report.contains("\"big\": 18446744073709551616"), "{report}");
        assert!(report.contains("format:      flask"), "{report}");
        assert_eq!(
            pretty(r#"{"a":[1,{"b":"x,y:{"}],"c":{}}"#),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x,y:{\"\n    }\n  ],\n  \"c\": {}\n}"
        );
    }

    #[test]
    fn opens_encrypted_cookies_given_the_key() {
        let codec = Codec::encrypted(
            Key::new("enc-key-0123456789abcdef0123456789").unwrap(),
            "session",
        );
        let token = codec.encode(
            serde_json::json!({"user": 7}).as_object().unwrap(),
            1_700_000_000,
        );
        let report = inspect(&args(
            "enc-key-0123456789abcdef0123456789".into(),
            vec![],
            "",
            1_700_000_001,
            None,
            &token,
        ))
        .unwrap();
        assert!(
            report.contains("encrypted") && report.contains("\"user\": 7"),
            "{report}"
        );
    }
}
