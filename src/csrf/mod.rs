//! CSRF protection that Flask-WTF and Django accept, and that accepts
//! theirs: a form rendered by the Python app posts to a Rust route, and the
//! reverse.
//!
//! [`CsrfLayer`] refuses a request without a valid token before the handler
//! runs — under Django every method but `GET`, `HEAD`, `OPTIONS` and
//! `TRACE`, under Flask-WTF `POST`, `PUT`, `PATCH` and `DELETE` — with 403
//! (Flask-WTF itself answers 400), the framework's reason in the body and a
//! [`CsrfRejection`] in the response extensions; [`CsrfToken`] gives a
//! handler the token to put in a form.
//!
//! - [`CsrfLayer::django`]: the secret in Django's `csrftoken` cookie (or
//!   the session's `_csrftoken` with [`CsrfLayer::django_with_sessions`]),
//!   masked tokens in the `csrfmiddlewaretoken` field or the `X-CSRFToken`
//!   header, Django's Origin and Referer checks.
//! - [`CsrfLayer::flask_wtf`]: the raw token in the session under
//!   `csrf_token`, itsdangerous-signed tokens in the `csrf_token` field or
//!   the `X-CSRFToken` / `X-CSRF-Token` headers, valid for an hour.
//!
//! Why a layer and not only an extractor: both Python frameworks protect
//! every unsafe route unless one is exempted, and a route that forgets an
//! extractor is open. The layer reads an `application/x-www-form-urlencoded`
//! body once, up to a limit, and hands it on whole ([`CsrfBody`]); any other
//! body (JSON with the token in a header) streams through unread. A
//! `multipart/form-data` form is not parsed: send its token in the
//! `X-CSRFToken` header. Put the layer inside the
//! [`SessionLayer`](crate::SessionLayer) (added before it), which it needs
//! for Flask-WTF and Django's session mode.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use axum::{routing::get, Router};
//! use tower::ServiceExt;
//! use tower_cookie_session::csrf::{CsrfLayer, CsrfToken};
//! use tower_cookie_session::{Key, SessionLayer};
//!
//! async fn form(csrf: CsrfToken) -> String {
//!     format!(r#"<input type="hidden" name="{}" value="{}">"#, csrf.field_name(), csrf.token())
//! }
//!
//! let app = Router::new()
//!     .route("/form", get(form).post(|| async { "accepted" }))
//!     .layer(CsrfLayer::django())
//!     .layer(SessionLayer::django(Key::new("django-secret-key-0123456789abcdef")?));
//!
//! let post = http::Request::post("/form").body(axum::body::Body::empty())?;
//! let res = app.clone().oneshot(post).await?;
//! assert_eq!(res.status(), 403); // no csrftoken cookie, no token
//! let res = app.oneshot(http::Request::get("/form").body(axum::body::Body::empty())?).await?;
//! assert!(res.headers()["set-cookie"].to_str()?.starts_with("csrftoken="));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod body;
mod check;
pub(crate) mod django;
pub(crate) mod flask_wtf;
mod layer;
pub(crate) mod origin;
#[cfg(test)]
mod python_vectors;
mod service;
mod token;

#[cfg(fuzzing)]
pub(crate) use self::body::form_field;
pub use self::body::CsrfBody;
pub use self::check::CsrfRejection;
pub use self::layer::CsrfLayer;
pub use self::service::{CsrfFuture, CsrfService};
pub use self::token::CsrfToken;
