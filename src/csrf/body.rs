//! The request body after the CSRF check: the form the check read, handed
//! on whole, or the client's body untouched when the check did not need it.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The request body [`CsrfService`](crate::csrf::CsrfService) passes on.
    ///
    /// A form body the check had to read (its token field) is read once,
    /// up to [`CsrfLayer::with_body_limit`](crate::csrf::CsrfLayer::with_body_limit),
    /// and handed on whole; any other body streams through untouched.
    ///
    /// ```
    /// use http_body::Body as _;
    /// use tower_cookie_session::csrf::CsrfBody;
    ///
    /// let body: CsrfBody<String> = CsrfBody::from("text=hi".to_owned());
    /// assert_eq!(body.size_hint().exact(), Some(7));
    /// ```
    pub struct CsrfBody<B> {
        #[pin]
        inner: Inner<B>,
    }
}

pin_project! {
    #[project = InnerProj]
    #[derive(Debug)]
    enum Inner<B> {
        // The form as the check read it.
        Buffered {
            data: Option<Bytes>,
            trailers: Option<HeaderMap>,
        },
        // The client's body, unread.
        Streaming {
            #[pin]
            body: B,
        },
    }
}

impl<B> std::fmt::Debug for CsrfBody<B> {
    /// The form's length, never its fields (a login form holds a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Buffered { data, .. } => f
                .debug_struct("CsrfBody")
                .field("buffered_bytes", &data.as_ref().map_or(0, Bytes::len))
                .finish(),
            Inner::Streaming { .. } => f.debug_struct("CsrfBody").finish_non_exhaustive(),
        }
    }
}

impl<B> CsrfBody<B> {
    pub(crate) fn buffered(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            inner: Inner::Buffered {
                data: (!data.is_empty()).then_some(data),
                trailers,
            },
        }
    }
}

impl<B> From<B> for CsrfBody<B> {
    fn from(body: B) -> Self {
        Self {
            inner: Inner::Streaming { body },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for CsrfBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().inner.project() {
            InnerProj::Buffered { data, trailers } => Poll::Ready(
                data.take()
                    .map(Frame::data)
                    .or_else(|| trailers.take().map(Frame::trailers))
                    .map(Ok),
            ),
            InnerProj::Streaming { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Buffered { data, trailers } => data.is_none() && trailers.is_none(),
            Inner::Streaming { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Buffered { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Inner::Streaming { body } => body.size_hint(),
        }
    }
}

/// The token field of a form as each framework picks it. Django
/// (`request.POST.get`) takes the field's *last* value, and an empty one
/// means "look at the header"; Flask-WTF takes the first non-empty value of
/// the exact field, then of any field ending in it (prefixed forms).
pub(crate) fn form_field(form: &[u8], field: &str, flask: bool) -> Option<String> {
    let pairs = || form_urlencoded::parse(form);
    if !flask {
        return pairs()
            .filter(|(k, _)| k == field)
            .last()
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty());
    }
    pairs()
        .find(|(k, v)| k == field && !v.is_empty())
        .or_else(|| pairs().find(|(k, v)| k.ends_with(field) && !v.is_empty()))
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_decoded() {
        let form = b"a=1&csrfmiddlewaretoken=ab%2Bc&x=";
        assert_eq!(
            form_field(form, "csrfmiddlewaretoken", false).as_deref(),
            Some("ab+c")
        );
        assert_eq!(
            form_field(b"login-csrf_token=t", "csrf_token", true).as_deref(),
            Some("t")
        );
        assert_eq!(form_field(b"login-csrf_token=t", "csrf_token", false), None);
        assert_eq!(form_field(b"csrf_token=", "csrf_token", true), None);
    }
}
