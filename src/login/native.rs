//! Login for Rust-only apps, in the shape of axum-login's `AuthSession`.

use std::future::Future;

use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use super::flask::hex;
use crate::{Error, Key, Session};

/// The session key of the logged-in user's id.
pub const USER_KEY: &str = "_auth_user";
/// The session key of the user's auth hash (an HMAC, never the secret
/// material itself: a signed cookie is readable by its holder).
pub const HASH_KEY: &str = "_auth_hash";

/// A user as [`Auth`] needs it: an id to store, and bytes that change
/// when the user's sessions must end (the password hash, a per-user
/// "session version"). axum-login's `AuthUser`, minus `Display`.
///
/// ```
/// use tower_cookie_session::login::AuthUser;
///
/// struct User { id: u64, pw_hash: String }
///
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
///     fn session_auth_hash(&self) -> &[u8] { self.pw_hash.as_bytes() }
/// }
/// ```
pub trait AuthUser {
    /// What identifies the user in the session (serialized to JSON).
    type Id: Serialize + DeserializeOwned;
    /// This user's id.
    fn id(&self) -> Self::Id;
    /// Bytes whose change logs the user out everywhere.
    fn session_auth_hash(&self) -> &[u8];
}

/// Login, logout and the current user for an app with no Python side.
///
/// [`login`](Self::login) renews the session ([`Session::renew`]: a new
/// login stamp, so a validator or `with_max_lifetime` can end older
/// copies) and stores the id and `HMAC-SHA256(key, session_auth_hash)`;
/// [`user`](Self::user) loads the user and compares that HMAC in constant
/// time, emptying the session on a mismatch (a password change logs every
/// session out); [`logout`](Self::logout) empties it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use tower_cookie_session::login::{Auth, AuthUser};
/// use tower_cookie_session::{Key, Session};
///
/// #[derive(Clone)]
/// struct User { id: u64, pw_hash: String }
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
///     fn session_auth_hash(&self) -> &[u8] { self.pw_hash.as_bytes() }
/// }
///
/// let auth = Auth::new(Key::new("auth-hash-key-0123456789abcdef0123")?);
/// let session = Session::default();
/// let ada = User { id: 7, pw_hash: "argon2id$…".into() };
/// auth.login(&session, &ada)?;
///
/// let load = |id: u64| { let ada = ada.clone(); async move { Ok::<_, std::io::Error>((id == 7).then_some(ada)) } };
/// assert_eq!(auth.user(&session, load).await?.map(|u| u.id), Some(7));
/// auth.logout(&session);
/// assert!(session.is_empty());
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Auth {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    /// With a key for the auth-hash HMAC (it may be the session key).
    #[must_use]
    pub fn new(key: Key) -> Self {
        Self {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(key.bytes())
                .expect("HMAC accepts keys of any length"),
        }
    }

    fn hash(&self, material: &[u8]) -> String {
        hex(&self
            .mac
            .clone()
            .chain_update(material)
            .finalize()
            .into_bytes())
    }

    /// Logs `user` in: a session that held another user is emptied first
    /// (as Django does), then renewed, then the id and the auth hash.
    pub fn login<U: AuthUser>(&self, session: &Session, user: &U) -> Result<(), Error> {
        let id = serde_json::to_value(user.id()).map_err(Error::serialize)?;
        if session
            .get_value(USER_KEY)
            .is_some_and(|stored| stored != id)
        {
            session.clear();
        }
        session.renew();
        session.insert(USER_KEY, id)?;
        session.insert(HASH_KEY, self.hash(user.session_auth_hash()))
    }

    /// The logged-in user's id, unverified (the session's signature only).
    #[must_use]
    pub fn user_id<Id: DeserializeOwned>(&self, session: &Session) -> Option<Id> {
        session.get(USER_KEY).ok().flatten()
    }

    /// The logged-in user: `load` fetches it by id; it counts only if its
    /// `session_auth_hash` still matches. On a mismatch (or no such user)
    /// the session is emptied.
    pub async fn user<U, F, Fut, E>(&self, session: &Session, load: F) -> Result<Option<U>, E>
    where
        U: AuthUser,
        F: FnOnce(U::Id) -> Fut,
        Fut: Future<Output = Result<Option<U>, E>>,
    {
        let Some(id) = self.user_id::<U::Id>(session) else {
            return Ok(None);
        };
        let stored = session.get_value(HASH_KEY);
        let user = load(id).await?;
        let verified = user.filter(|u| {
            let stored = stored.as_ref().and_then(Value::as_str).unwrap_or_default();
            // `verify_slice`: the hmac crate's constant-time comparison, which
            // also refuses a tag of the wrong length.
            self.mac
                .clone()
                .chain_update(u.session_auth_hash())
                .verify_slice(&unhex(stored).unwrap_or_default())
                .is_ok()
        });
        if verified.is_none() {
            session.clear();
        }
        Ok(verified)
    }

    /// Logs out: the session is emptied (its cookie deleted).
    pub fn logout(&self, session: &Session) {
        session.clear();
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}
