//! Sessions in signed cookies that Flask, Quart, Starlette/FastAPI and
//! Django read and write too, as a tower middleware and an axum extractor.
//!
//! * **It speaks Flask.** The cookie is Flask's format (itsdangerous
//!   `URLSafeTimedSerializer`, salt `cookie-session`, HMAC-SHA1, tagged
//!   JSON, zlib, a signed timestamp, fallback keys), byte for byte with
//!   [`Compression::Flask`]; the default [`Compression::Auto`] only deflates
//!   differently, and Flask reads it all the same. A Flask app and a Rust
//!   service with the same secret share one session, both ways.
//! * **And Quart, Starlette/FastAPI and Django.** [`SessionLayer::quart`],
//!   [`SessionLayer::starlette`] and [`SessionLayer::django`] speak those
//!   frameworks' cookies, with their save rules and defaults; keys keep
//!   their insertion order, as a Python dict does, so a Rust write is the
//!   framework's bytes.
//!
//!   ```
//!   use tower_cookie_session::{Key, SessionLayer};
//!
//!   // Django's SECRET_KEY, with SESSION_ENGINE = "…signed_cookies".
//!   let layer = SessionLayer::django(Key::new("django-insecure-…").unwrap());
//!   # let _ = layer;
//!   ```
//! * **It holds large sessions.** A session too large for one cookie is
//!   split over `session.1` … `session.N` under a byte budget; a session over
//!   the budget is a clear error, never a cookie the browser silently drops.
//! * **It is cheap.** The cookie is decoded on first use only; no boxing,
//!   no store, no lock held across `.await`.
//!
//! # Quick start (axum)
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::get, Router};
//! use tower_cookie_session::{Error, Expiry, Key, Session, SessionLayer};
//!
//! async fn counter(session: Session) -> Result<String, Error> {
//!     let n = session.update_or("counter", 0_u64, |n| n + 1)?;
//!     Ok(format!("{n} visits"))
//! }
//!
//! let key = Key::new("the same SECRET_KEY as the Flask app").unwrap();
//! let sessions = SessionLayer::new(key)
//!     .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)));
//! sessions.validate().expect("a valid configuration");
//! let app: Router = Router::new().route("/", get(counter)).layer(sessions);
//! ```
//!
//! # Plain tower
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_cookie_session::{Key, Session, SessionLayer};
//!
//! # tokio_test_block_on(async {
//! let svc = ServiceBuilder::new()
//!     .layer(SessionLayer::new(Key::generate()).with_secure(false))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let session = req.extensions().get::<Session>().unwrap();
//!         session.insert("user_id", 42).unwrap();
//!         Ok::<_, Infallible>(Response::new(String::new()))
//!     }));
//!
//! let res = svc.oneshot(Request::new(String::new())).await.unwrap();
//! let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
//! assert!(set_cookie.starts_with("session=eyJ1c2VyX2lkIjo0Mn0."));
//! assert_eq!(res.headers()["vary"], "Cookie");
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # When is the cookie written?
//!
//! As the framework's middleware writes it; for Flask, as `save_session`
//! (Starlette and Django write only a modified session, and delete only
//! when the request carried one: see [`SessionLayer::starlette`] and
//! [`SessionLayer::django`]):
//!
//! | after the handler | response |
//! |---|---|
//! | the session was used | `Vary: Cookie` |
//! | modified and now empty (`clear()`) | the cookie is deleted |
//! | modified | a new cookie |
//! | permanent, refresh-each-request on (default) | re-issued with a new timestamp and `Expires` |
//! | `5xx` response | nothing written (see [`SessionLayer::with_save_on_server_error`]) |
//!
//! A cookie that is missing, tampered with, expired or signed with an
//! unknown key gives an empty session and a `tracing` debug event; the
//! handler never sees a decode error.
//!
//! # Large sessions
//!
//! A session whose `Set-Cookie` line (`name=value; attributes`) would exceed
//! 4093 bytes ([`SessionLayer::with_max_cookie_bytes`]) is written as
//! `session=chunks-N` plus `session.1` … `session.N`, each with the same
//! attributes. Flask reads such a session as empty. The whole set must fit
//! [`SessionLayer::with_max_total_bytes`] (7168 bytes by default, so the
//! request `Cookie` line stays under the 8 KiB that nginx, Apache and Heroku
//! accept). Over budget, nothing is written and the response becomes a 500
//! (or passes through, see [`OversizePolicy`]); the client keeps its previous
//! cookies. [`Session::encoded_len`] lets a handler check first.
//!
//! # Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `axum` | yes | [`Session`] as an axum extractor, `Option<Session>` too; [`Error`] as a response |
//! | `c-zlib` | yes | C zlib and libdeflate, built from source (a C compiler is needed): Flask's exact compressed bytes under [`Compression::Flask`] and the fastest [`Compression::Auto`]. Without it miniz_oxide (pure Rust) compresses every format, and Flask, Quart and Django read those cookies all the same |
//! | `float-roundtrip` | yes | serde_json's exact float parsing, so a float a handler reads and writes back keeps its last digit; Cargo unifies it into every crate of the build |
//!
//! # Security
//!
//! Under the framework formats the session is signed, not encrypted: the
//! client can read it ([`SessionLayer::encrypted`] hides it too). A copied
//! cookie stays valid until its timestamp is older than the max age, unless
//! a validator refuses it ([`SessionLayer::with_validator`]).
//! Concurrent requests race: the last response's cookie wins.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admission;
mod body;
mod cache;
pub mod codec;
mod config;
mod cookie;
pub mod csrf;
mod error;
mod expiry;
#[cfg(feature = "axum")]
mod extract;
pub mod flask;
mod future;
mod layer;
mod lifecycle;
pub mod login;
mod policy;
mod profile;
mod render;
mod same_site;
mod save;
mod service;
mod session;
mod state;
mod validate;

/// Internals for the fuzz targets in `fuzz/`, which `cargo fuzz` builds
/// with `--cfg fuzzing`; absent from every other build.
#[cfg(fuzzing)]
#[doc(hidden)]
#[allow(missing_docs, unreachable_pub)]
pub mod fuzzing {
    use std::ops::Range;

    /// The top-level members of a payload: `(key contents, value text)`
    /// ranges, or `None` if it is not an object Python would read.
    pub fn scan_object(text: &[u8]) -> Option<Vec<(Range<usize>, Range<usize>)>> {
        crate::codec::scan::scan_object(text, crate::codec::json::Style::FLASK)
            .ok()
            .map(|m| m.into_iter().map(|m| (m.key, m.value)).collect())
    }

    /// A key's contents, decoded.
    pub fn unescape(raw: &str) -> String {
        crate::codec::scan::unescape(raw)
    }

    /// The payload as the layer writes it back after indexing it in
    /// `format` (0 Flask, 1 Quart, 2 Starlette, 3 Django), or `None` if it
    /// is not such a session.
    pub fn rewrite(payload: &[u8], format: u8) -> Option<Vec<u8>> {
        use crate::codec::Format;
        let format = match format % 4 {
            0 => Format::Flask,
            1 => Format::Quart,
            2 => Format::Starlette,
            _ => Format::Django,
        };
        let map = crate::codec::raw::RawMap::parse(payload.to_vec(), format).ok()?;
        let mut out = Vec::new();
        map.write(format, &mut out);
        Some(out)
    }

    fn encrypted_codec() -> &'static crate::codec::Codec {
        static CODEC: std::sync::OnceLock<crate::codec::Codec> = std::sync::OnceLock::new();
        CODEC.get_or_init(|| {
            let key = |s: &str| crate::Key::new(s).expect("non-empty");
            crate::codec::Codec::encrypted(key("fuzz-encrypted-key-0123456789abcdef"), "session")
                .with_fallback_keys([key("fuzz-encrypted-old-key-0123456789abcd")])
        })
    }

    /// An encrypted token sealing `payload` (marked deflated or not) at
    /// `timestamp`, under the fuzz key.
    pub fn seal(payload: &[u8], deflated: bool, timestamp: u64) -> String {
        let compressed = deflated.then_some(payload);
        encrypted_codec().sign_raw(payload, compressed, timestamp)
    }

    /// What the layer's encrypted reader makes of `token` at `now`: the
    /// session written back, or `None` if it is refused.
    pub fn unseal(token: &str, now: u64) -> Option<Vec<u8>> {
        let (map, _) = encrypted_codec()
            .decode_raw(token, now, Some(u64::MAX), 5)
            .ok()?;
        let mut out = Vec::new();
        map.write(crate::codec::Format::Encrypted, &mut out);
        Some(out)
    }

    /// Every token parser of `csrf` and `login` on one hostile input, with
    /// their round trips: Django's masked tokens, Flask-WTF's signed ones,
    /// Flask-Login's remember cookie, the Origin/Referer checks and the form
    /// field lookup. Panics if a round trip fails.
    pub fn tokens(data: &[u8]) {
        use crate::csrf::{django, flask_wtf, origin};
        let text = String::from_utf8_lossy(data);
        let _ = django::token_matches(&text, "abcdefghijklmnopqrstuvwxyzABCDEF");
        if let Ok(secret) = django::secret_of(&text) {
            let token = django::mask(&secret);
            assert_eq!(django::token_matches(&token, &secret), Ok(true));
        }
        let key = crate::Key::new("fuzz-flask-wtf-key").expect("non-empty");
        let signer = flask_wtf::signer(&key);
        let _ = flask_wtf::validate(&signer, &text, Some("raw"), 1_700_000_000, Some(3600));
        let _ = flask_wtf::validate(&signer, &text, Some("raw"), 1_700_000_000, None);
        let token = flask_wtf::sign(&signer, &text, 1_700_000_000);
        if token.len() <= 1024 {
            let got = flask_wtf::validate(&signer, &token, Some(&text), 1_700_000_000, Some(0));
            assert_eq!(got, Ok(()));
        }
        let login = crate::login::FlaskLogin::new(key);
        let _ = login.decode_remember_cookie(&text);
        if !text.contains('|') {
            let cookie = login.remember_cookie_value(&text);
            assert_eq!(
                login.decode_remember_cookie(&cookie).as_deref(),
                Some(&*text)
            );
        }
        let trusted = origin::TrustedOrigins::new([&*text, "https://*.example.com"]);
        let served = origin::Served {
            host: Some("example.com"),
            secure: true,
            port: Some("443"),
            cookie_domain: None,
        };
        let _ = origin::origin_verified(&text, served, &trusted);
        let _ = origin::check_referer(Some(&text), served, &trusted);
        let _ = crate::csrf::form_field(data, "csrfmiddlewaretoken", true);
    }

    /// The payload as the layer writes it back after indexing it, or `None`
    /// if it is not a Flask session.
    pub fn flask_rewrite(payload: &[u8]) -> Option<Vec<u8>> {
        let map = crate::codec::raw::RawMap::parse_flask(payload.to_vec()).ok()?;
        let mut out = Vec::new();
        map.write_flask(&mut out);
        Some(out)
    }
}

pub use crate::body::ResponseBody;
pub use crate::codec::Key;
pub use crate::error::{
    ConfigError, DecodeError, DecodeErrorKind, Error, ErrorKind, MissingSession, SessionTooLarge,
};
pub use crate::expiry::Expiry;
pub use crate::future::ResponseFuture;
pub use crate::layer::SessionLayer;
pub use crate::lifecycle::{SessionInfo, LOGIN_KEY};
pub use crate::policy::{Compression, OversizePolicy};
pub use crate::same_site::SameSite;
pub use crate::service::SessionService;
pub use crate::session::Session;
