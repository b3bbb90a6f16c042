//! The axum extractor.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::{MissingSession, Session};

/// ```
/// use axum::{routing::get, Router};
/// use tower_cookie_session::{Key, Session, SessionLayer};
///
/// async fn visits(session: Session) -> String {
///     let n: u64 = session.get("visits").unwrap().unwrap_or(0) + 1;
///     session.insert("visits", n).unwrap();
///     format!("visit {n}")
/// }
///
/// let app: Router = Router::new()
///     .route("/", get(visits))
///     .layer(SessionLayer::new(Key::generate()));
/// ```
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = MissingSession;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(MissingSession)
    }
}

/// `Option<Session>`: `None` where the layer is not installed.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}

impl IntoResponse for MissingSession {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

/// A session [`Error`](crate::Error) as a handler's `?` answers it: a `500`
/// with a fixed body, never a session value (the error, which names the key
/// and the type only, goes to a `tracing` event).
///
/// ```
/// use axum::{routing::get, Router};
/// use tower_cookie_session::{Error, Key, Session, SessionLayer};
///
/// async fn cart_size(session: Session) -> Result<String, Error> {
///     let cart: Vec<String> = session.get("cart")?.unwrap_or_default();
///     Ok(cart.len().to_string())
/// }
///
/// let app: Router = Router::new()
///     .route("/cart", get(cart_size))
///     .layer(SessionLayer::new(Key::generate()));
/// ```
impl IntoResponse for crate::Error {
    fn into_response(self) -> Response {
        tracing::error!(kind = ?self.kind(), error = %self, "session error in a handler");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
    }
}
