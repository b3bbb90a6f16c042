//! Helpers shared by the middleware, chunking and axum suites: a one-shot
//! call through the layer and a small client cookie jar.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;

use cookie::Cookie;
use http::header::{COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, Request, Response, StatusCode};
use tower::{service_fn, Layer, ServiceExt};
use tower_cookie_session::{Key, Session, SessionLayer};

pub(crate) const SECRET: &str = "middleware-test-secret-key-0123456789";

pub(crate) fn key() -> Key {
    Key::new(SECRET).unwrap()
}

pub(crate) fn layer() -> SessionLayer {
    SessionLayer::new(key())
}

/// What came back: status, headers, whether the layer replaced the body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<String>,
}

impl Reply {
    pub(crate) fn set_cookies(&self) -> Vec<Cookie<'static>> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
            .collect()
    }

    pub(crate) fn set_cookie_lines(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        let found: Vec<_> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name() == name)
            .collect();
        assert!(
            found.len() <= 1,
            "two Set-Cookie lines for {name}: {:?}",
            self.set_cookie_lines()
        );
        found.into_iter().next()
    }

    pub(crate) fn varies_on_cookie(&self) -> bool {
        self.headers
            .get_all(VARY)
            .iter()
            .any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("cookie"))
    }
}

/// A deletion in any framework's form: Flask's and Django's carry
/// `Max-Age=0`, Starlette's only an `Expires` at the epoch.
pub(crate) fn is_deletion(cookie: &Cookie<'_>) -> bool {
    matches!(cookie.value(), "" | "null" | "\"\"")
        && (cookie.max_age() == Some(time::Duration::ZERO)
            || cookie
                .expires_datetime()
                .is_some_and(|t| t.unix_timestamp() == 0))
}

/// Sends one request with `cookie_headers` (each a separate `Cookie` field)
/// through `layer` to a handler that runs `handler` on the session.
pub(crate) async fn call<F>(layer: &SessionLayer, cookie_headers: &[String], handler: F) -> Reply
where
    F: Fn(&Session) -> StatusCode + Clone + Send + 'static,
{
    let svc = layer.layer(service_fn(move |req: Request<String>| {
        let handler = handler.clone();
        async move {
            let session = req
                .extensions()
                .get::<Session>()
                .expect("layer installed")
                .clone();
            let status = handler(&session);
            Ok::<_, Infallible>(
                Response::builder()
                    .status(status)
                    .body("handler body".to_owned())
                    .unwrap(),
            )
        }
    }));
    let mut req = Request::get("/").body(String::new()).unwrap();
    for h in cookie_headers {
        req.headers_mut().append(COOKIE, h.parse().unwrap());
    }
    let res = svc.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: body.into_inner(),
    }
}

/// A browser-like jar for one host and path.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar {
    pub(crate) cookies: BTreeMap<String, String>,
}

impl Jar {
    pub(crate) fn apply(&mut self, reply: &Reply) {
        let mut seen = std::collections::HashSet::new();
        for c in reply.set_cookies() {
            assert!(
                seen.insert(c.name().to_owned()),
                "two Set-Cookie lines for {}",
                c.name()
            );
            assert!(
                c.name().len() + c.value().len() <= 4096,
                "a browser would drop {} ({} bytes)",
                c.name(),
                c.name().len() + c.value().len()
            );
            if is_deletion(&c) {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    pub(crate) fn header(&self) -> Vec<String> {
        if self.cookies.is_empty() {
            return Vec::new();
        }
        vec![self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")]
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        self.cookies.keys().map(String::as_str).collect()
    }
}

/// `len` random alphanumerics (deterministic xorshift): deflate only saves
/// the ~25% its Huffman codes get from a 62-letter alphabet.
pub(crate) fn incompressible(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize])
        })
        .collect()
}
