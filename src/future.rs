//! [`ResponseFuture`]: runs the inner service, then writes the session.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Response, StatusCode};
use pin_project_lite::pin_project;

use crate::body::ResponseBody;
use crate::config::Config;
use crate::policy::OversizePolicy;
use crate::state::State;

pin_project! {
    /// Response future of [`SessionService`](crate::SessionService): the
    /// inner service's future, then the session written on its response.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::convert::Infallible;
    /// use http::{Request, Response};
    /// use tower::{service_fn, Layer, Service};
    /// use tower_cookie_session::{Key, ResponseFuture, SessionLayer};
    ///
    /// let mut svc = SessionLayer::new(Key::generate())
    ///     .layer(service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(())) }));
    /// let future: ResponseFuture<_> = svc.call(Request::new(()));
    /// assert_eq!(future.await.unwrap().status(), 200);
    /// # });
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

struct Pending {
    state: Arc<State>,
    config: Arc<Config>,
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, state: Arc<State>, config: Arc<Config>) -> Self {
        Self {
            inner,
            pending: Some(Pending { state, config }),
        }
    }
}

impl<F> ResponseFuture<F> {
    /// The inner service's response, untouched by this layer.
    pub(crate) fn pass_through(inner: F) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.inner.poll(cx))?;
        let Some(Pending { state, config }) = this.pending.take() else {
            return Poll::Ready(Ok(res.map(ResponseBody::new)));
        };
        let Err(too_large) = state.finish(&config, &mut res) else {
            return Poll::Ready(Ok(res.map(ResponseBody::new)));
        };
        Poll::Ready(Ok(match config.oversize {
            OversizePolicy::PassThrough => res.map(ResponseBody::new),
            OversizePolicy::ServerError => {
                let mut error = Response::new(ResponseBody::empty());
                *error.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                error.extensions_mut().insert(too_large);
                error
            }
        }))
    }
}
