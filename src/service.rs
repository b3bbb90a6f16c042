//! [`SessionService`]: the request side.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::body::ResponseBody;
use crate::config::Config;
use crate::future::ResponseFuture;
use crate::state::State;
use crate::Session;

/// The middleware built by [`SessionLayer`](crate::SessionLayer).
///
/// It finds the session cookie(s) in every `Cookie` header, puts a lazily
/// decoded [`Session`] into the request extensions, and writes the session
/// back after the inner service answered. See the [crate docs](crate).
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use tower::{service_fn, Layer};
/// use tower_cookie_session::{Key, SessionLayer, SessionService};
///
/// let inner = service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
/// let service: SessionService<_> = SessionLayer::new(Key::generate()).layer(inner);
/// # let _ = service;
/// ```
#[derive(Clone)]
#[must_use]
pub struct SessionService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    #[cfg(test)]
    pub(crate) fn config_for_tests(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The same cookie handled by an outer layer (a layered sub-router
        // inside a layered app): its session is the one the handler uses,
        // and it alone writes the response, so this layer steps aside.
        let outer = req.extensions().get::<Session>();
        if outer.is_some_and(|s| s.cookie_name() == Some(self.config.names.name.as_str())) {
            return ResponseFuture::pass_through(self.inner.call(req));
        }
        let state = Arc::new(State::new(Arc::clone(&self.config), req.headers()));
        req.extensions_mut()
            .insert(Session::from_state(Arc::clone(&state)));
        ResponseFuture::new(self.inner.call(req), state, Arc::clone(&self.config))
    }
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &std::any::type_name::<S>())
            .field("config", &self.config)
            .finish()
    }
}
