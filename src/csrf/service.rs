//! [`CsrfService`] and its future: check, reading a form body at most once,
//! then the inner service, then Django's `csrftoken` cookie on the response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::header::{SET_COOKIE, VARY};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::CsrfBody;
use super::check::{self, CsrfRejection};
use super::layer::{Config, Scheme};
use super::token::CsrfToken;
use crate::Session;

/// The service [`CsrfLayer`](crate::csrf::CsrfLayer) wraps around yours.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use tower::{service_fn, Layer};
/// use tower_cookie_session::csrf::{CsrfBody, CsrfLayer, CsrfService};
///
/// let inner = service_fn(|_: Request<CsrfBody<String>>| async {
///     Ok::<_, Infallible>(Response::new(String::new()))
/// });
/// let svc: CsrfService<_> = CsrfLayer::django().layer(inner);
/// # let _ = svc;
/// ```
#[derive(Clone)]
pub struct CsrfService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for CsrfService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfService").finish_non_exhaustive()
    }
}

impl<S> CsrfService<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }
}

impl<S, B, ResBody> Service<Request<B>> for CsrfService<S>
where
    S: Service<Request<CsrfBody<B>>, Response = Response<ResBody>> + Clone,
    B: Body<Data = Bytes>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CsrfFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let config = &self.config;
        let (mut parts, body) = req.into_parts();
        let session = parts.extensions.get::<Session>().cloned();
        if config.needs_session() && session.is_none() {
            tracing::error!("CsrfLayer needs a SessionLayer outside it (added after it)");
            let mut res = Response::new(ResBody::from("CSRF protection misconfigured".into()));
            *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return CsrfFuture::ready(res, None);
        }
        let handle = handle_for(config, &parts, session.clone());
        parts.extensions.insert(handle.clone());

        let path = parts.uri.path();
        if !check::is_checked(config, &parts.method) || config.exempt.iter().any(|p| p == path) {
            let req = Request::from_parts(parts, CsrfBody::from(body));
            return CsrfFuture::calling(self.inner.call(req), handle);
        }
        let django_secret = if matches!(config.scheme, Scheme::Django { .. }) {
            match check::django_before_token(config, &parts, session.as_ref()) {
                Ok(secret) => secret,
                Err(rejection) => return CsrfFuture::rejected(rejection, handle),
            }
        } else {
            String::new()
        };
        if check::reads_form(config, &parts) {
            // A body that says up front it is over the limit is refused
            // before a byte of it is read.
            if body.size_hint().lower() > config.body_limit as u64 {
                return CsrfFuture::rejected(CsrfRejection::too_large(config.body_limit), handle);
            }
            // Take the service that was polled ready; leave a clone.
            let clone = self.inner.clone();
            let service = std::mem::replace(&mut self.inner, clone);
            return CsrfFuture {
                state: State::Collecting {
                    body,
                    buf: BytesMut::new(),
                    trailers: None,
                    job: Some(Job {
                        service,
                        parts,
                        django_secret,
                        session,
                        config: Arc::clone(config),
                    }),
                },
                handle: Some(handle),
            };
        }
        let token = check::submitted(config, &parts.headers, None);
        match check::verify(config, &parts, session.as_ref(), &django_secret, token) {
            Ok(()) => {
                let req = Request::from_parts(parts, CsrfBody::from(body));
                CsrfFuture::calling(self.inner.call(req), handle)
            }
            Err(rejection) => CsrfFuture::rejected(rejection, handle),
        }
    }
}

/// The per-request handle; in Django's cookie mode it starts from the
/// request's secret, or replaces a malformed one as Django does.
fn handle_for(config: &Arc<Config>, parts: &Parts, session: Option<Session>) -> CsrfToken {
    match check::django_cookie_secret(config, &parts.headers) {
        Ok(secret) => CsrfToken::new(Arc::clone(config), session, secret),
        Err(_) => {
            tracing::debug!("malformed csrftoken cookie; a new secret replaces it");
            let handle = CsrfToken::new(Arc::clone(config), session, None);
            handle.rotate();
            handle
        }
    }
}

struct Job<S> {
    service: S,
    parts: Parts,
    django_secret: String,
    session: Option<Session>,
    config: Arc<Config>,
}

pin_project! {
    /// Response future of [`CsrfService`]: the form body read (if the
    /// token may be in it), then the inner service's future.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::convert::Infallible;
    /// use http::{Request, Response};
    /// use tower::{service_fn, Layer, Service};
    /// use tower_cookie_session::csrf::{CsrfBody, CsrfFuture, CsrfLayer};
    ///
    /// let mut svc = CsrfLayer::django().layer(service_fn(|_: Request<CsrfBody<String>>| async {
    ///     Ok::<_, Infallible>(Response::new(String::new()))
    /// }));
    /// let future: CsrfFuture<_, String> = svc.call(Request::post("/").body(String::new()).unwrap());
    /// assert_eq!(future.await.unwrap().status(), 403);
    /// # });
    /// ```
    pub struct CsrfFuture<S, B>
    where
        S: Service<Request<CsrfBody<B>>>,
    {
        #[pin]
        state: State<S, B>,
        handle: Option<CsrfToken>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<CsrfBody<B>>>,
    {
        Ready {
            response: Option<S::Response>,
        },
        Collecting {
            #[pin]
            body: B,
            buf: BytesMut,
            trailers: Option<HeaderMap>,
            job: Option<Job<S>>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
    }
}

impl<S, B> std::fmt::Debug for CsrfFuture<S, B>
where
    S: Service<Request<CsrfBody<B>>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfFuture").finish_non_exhaustive()
    }
}

impl<S, B, ResBody> CsrfFuture<S, B>
where
    S: Service<Request<CsrfBody<B>>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    fn ready(response: Response<ResBody>, handle: Option<CsrfToken>) -> Self {
        Self {
            state: State::Ready {
                response: Some(response),
            },
            handle,
        }
    }

    fn rejected(rejection: CsrfRejection, handle: CsrfToken) -> Self {
        tracing::debug!(
            reason = rejection.reason(),
            "CSRF check refused the request"
        );
        Self::ready(rejection.into_response(), Some(handle))
    }

    fn calling(future: S::Future, handle: CsrfToken) -> Self {
        Self {
            state: State::Calling { future },
            handle: Some(handle),
        }
    }
}

impl<S, B, ResBody> Future for CsrfFuture<S, B>
where
    S: Service<Request<CsrfBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    ResBody: From<String>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let this = self.as_mut().project();
            let next = match this.state.project() {
                StateProj::Ready { response } => {
                    let res = response.take().expect("CsrfFuture polled after completion");
                    return Poll::Ready(Ok(finish(res, this.handle.take())));
                }
                StateProj::Calling { future } => {
                    let res = std::task::ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(finish(res, this.handle.take())));
                }
                StateProj::Collecting {
                    mut body,
                    buf,
                    trailers,
                    job,
                } => match std::task::ready!(body.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        let limit = job.as_ref().map_or(0, |j| j.config.body_limit);
                        match frame.into_data() {
                            Ok(data) if buf.len() + data.len() > limit => State::Ready {
                                response: Some(CsrfRejection::too_large(limit).into_response()),
                            },
                            Ok(data) => {
                                buf.extend_from_slice(&data);
                                continue;
                            }
                            Err(frame) => {
                                if let Ok(t) = frame.into_trailers() {
                                    *trailers = Some(t);
                                }
                                continue;
                            }
                        }
                    }
                    Some(Err(_)) => State::Ready {
                        response: Some(CsrfRejection::unreadable().into_response()),
                    },
                    None => {
                        let Some(mut job) = job.take() else {
                            panic!("CsrfFuture polled after completion");
                        };
                        let form = std::mem::take(buf).freeze();
                        let config = &job.config;
                        let token = check::submitted(config, &job.parts.headers, Some(&form));
                        let verdict = check::verify(
                            config,
                            &job.parts,
                            job.session.as_ref(),
                            &job.django_secret,
                            token,
                        );
                        match verdict {
                            Ok(()) => {
                                let body = CsrfBody::buffered(form, trailers.take());
                                let req = Request::from_parts(job.parts, body);
                                State::Calling {
                                    future: job.service.call(req),
                                }
                            }
                            Err(rejection) => {
                                tracing::debug!(
                                    reason = rejection.reason(),
                                    "CSRF check refused the request"
                                );
                                State::Ready {
                                    response: Some(rejection.into_response()),
                                }
                            }
                        }
                    }
                },
            };
            self.as_mut().project().state.set(next);
        }
    }
}

/// Django's `process_response`: the `csrftoken` cookie when a token was
/// rendered or the secret changed, and `Vary: Cookie` with it.
fn finish<B>(mut res: Response<B>, handle: Option<CsrfToken>) -> Response<B> {
    if let Some(cookie) = handle.as_ref().and_then(CsrfToken::cookie_to_send) {
        res.headers_mut().append(SET_COOKIE, cookie);
        let varies = res.headers().get_all(VARY).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|p| p.trim().eq_ignore_ascii_case("cookie"))
            })
        });
        if !varies {
            res.headers_mut()
                .append(VARY, HeaderValue::from_static("Cookie"));
        }
    }
    res
}
