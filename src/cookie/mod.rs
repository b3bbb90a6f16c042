//! The cookie side, knowing nothing of sessions: the cookie's names, its
//! attributes and their `Set-Cookie` rendering, how a token is split into
//! chunks under a byte budget and joined again, where our cookies are in a
//! request's `Cookie` headers, and what a response already sets. Each part
//! is handed the few values it needs (names, attributes, budget) when the
//! layer is built; none sees the layer's configuration or a session.

pub(crate) mod attributes;
pub(crate) mod chunk;
pub(crate) mod names;
pub(crate) mod request;
pub(crate) mod response;
