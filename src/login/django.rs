//! Django's login keys and `_auth_user_hash` (`django/contrib/auth/`, 5.2).

use std::future::Future;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::flask::hex;
use crate::csrf::CsrfToken;
use crate::{Key, Session};

const USER_ID: &str = "_auth_user_id";
const BACKEND: &str = "_auth_user_backend";
const HASH: &str = "_auth_user_hash";
/// `get_session_auth_hash`'s `key_salt`.
const KEY_SALT: &str = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";
/// Django's default `AUTHENTICATION_BACKENDS`.
const MODEL_BACKEND: &str = "django.contrib.auth.backends.ModelBackend";

#[derive(Clone)]
struct Config {
    secret: Key,
    fallbacks: Vec<Key>,
    backends: Vec<String>,
}

/// Reads and writes Django's login (`django.contrib.auth`) in a Django
/// session the Rust service shares.
///
/// Django accepts a session's login only while `_auth_user_hash` matches
/// an HMAC of the user's *stored password field*: a password change logs
/// every session out. [`user`](Self::user) does the same check, so it
/// needs that field — the user's database row, fetched by the callback you
/// pass (async, as a database query is). [`user_id`](Self::user_id) reads
/// the signed id without the check ("logged in as of the cookie's
/// timestamp"), for services without access to the user table.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use tower_cookie_session::login::DjangoAuth;
/// use tower_cookie_session::{Key, Session};
///
/// let auth = DjangoAuth::new(Key::new("django-secret-key")?);
/// let session = Session::default();
/// let password = "pbkdf2_sha256$1000000$salt$hash=";
/// auth.login(&session, "42", password, None);
///
/// // The user row, as a database query would return it.
/// let lookup = |id: String| async move { Ok::<_, std::io::Error>((id == "42").then(|| password.to_owned())) };
/// assert_eq!(auth.user(&session, lookup).await?, Some("42".to_owned()));
///
/// // After a password change, Django and this agree: logged out, session emptied.
/// let changed = |_: String| async { Ok::<_, std::io::Error>(Some("pbkdf2_sha256$1000000$salt$new=".to_owned())) };
/// assert_eq!(auth.user(&session, changed).await?, None);
/// assert!(session.is_empty());
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct DjangoAuth {
    config: Arc<Config>,
}

impl std::fmt::Debug for DjangoAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjangoAuth")
            .field("fallback_keys", &self.config.fallbacks.len())
            .field("backends", &self.config.backends)
            .finish_non_exhaustive()
    }
}

impl DjangoAuth {
    /// With Django's `SECRET_KEY`.
    #[must_use]
    pub fn new(secret_key: Key) -> Self {
        Self {
            config: Arc::new(Config {
                secret: secret_key,
                fallbacks: Vec::new(),
                backends: vec![MODEL_BACKEND.to_owned()],
            }),
        }
    }

    /// `SECRET_KEY_FALLBACKS`: a hash made with one of them is accepted and
    /// rewritten with the current key, as Django does.
    #[must_use]
    pub fn with_fallback_keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        Arc::make_mut(&mut self.config).fallbacks = keys.into_iter().collect();
        self
    }

    /// `AUTHENTICATION_BACKENDS`: a session logged in through another
    /// backend is anonymous here, as in Django; logins written here name
    /// the first. Default `ModelBackend`.
    #[must_use]
    pub fn with_backends<I, S>(mut self, backends: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arc::make_mut(&mut self.config).backends = backends.into_iter().map(Into::into).collect();
        self
    }

    /// `get_session_auth_hash()` for a stored password field, under the
    /// current key.
    #[must_use]
    pub fn session_auth_hash(&self, password: &str) -> String {
        auth_hash(&self.config.secret, password)
    }

    /// The logged-in user's id as the signed session says, without the
    /// password-hash check (see the type's documentation).
    #[must_use]
    pub fn user_id(&self, session: &Session) -> Option<String> {
        let id = stored_id(session)?;
        let backend = session.get_value(BACKEND)?;
        self.config
            .backends
            .iter()
            .any(|b| backend.as_str() == Some(b))
            .then_some(id)
    }

    /// `django.contrib.auth.get_user`: the logged-in user's id, if `load`
    /// (the user's stored password field; `None` for no such user, or an
    /// inactive one as `ModelBackend` does) confirms `_auth_user_hash`.
    /// On a mismatch the session is emptied, as Django flushes it; a hash
    /// made with a fallback key is rewritten with the current one.
    pub async fn user<F, Fut, E>(&self, session: &Session, load: F) -> Result<Option<String>, E>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<Option<String>, E>>,
    {
        let Some(id) = self.user_id(session) else {
            return Ok(None);
        };
        let Some(password) = load(id.clone()).await? else {
            return Ok(None);
        };
        let stored = session.get_value(HASH);
        let stored = stored.as_ref().and_then(Value::as_str).unwrap_or_default();
        let current = self.session_auth_hash(&password);
        if !stored.is_empty() && bool::from(stored.as_bytes().ct_eq(current.as_bytes())) {
            return Ok(Some(id));
        }
        let fallback = !stored.is_empty()
            && self.config.fallbacks.iter().any(|key| {
                bool::from(
                    stored
                        .as_bytes()
                        .ct_eq(auth_hash(key, &password).as_bytes()),
                )
            });
        if fallback {
            let _ = session.insert(HASH, current);
            Ok(Some(id))
        } else {
            session.clear();
            Ok(None)
        }
    }

    /// `django.contrib.auth.login`: if another user (or a stale hash) is in
    /// the session it is emptied first; then the three keys, and — given the
    /// request's [`CsrfToken`] — a new CSRF secret, as Django's
    /// `rotate_token`.
    pub fn login(
        &self,
        session: &Session,
        user_id: &str,
        password: &str,
        csrf: Option<&CsrfToken>,
    ) {
        let hash = self.session_auth_hash(password);
        if session.contains_key(USER_ID) {
            let same_user = stored_id(session).as_deref() == Some(user_id);
            let stored = session.get_value(HASH);
            let same_hash = stored
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|h| bool::from(h.as_bytes().ct_eq(hash.as_bytes())));
            if !same_user || !same_hash {
                session.clear();
            }
        }
        // Django's `cycle_key()`; here a new login stamp (`Session::renew`),
        // which `with_max_lifetime` and a logout-everywhere validator use.
        session.renew();
        let backend = self
            .config
            .backends
            .first()
            .map_or(MODEL_BACKEND, String::as_str);
        let _ = session.insert(USER_ID, user_id);
        let _ = session.insert(BACKEND, backend);
        let _ = session.insert(HASH, hash);
        if let Some(csrf) = csrf {
            csrf.rotate();
        }
    }

    /// `django.contrib.auth.logout`: the session is flushed (its cookie
    /// deleted).
    pub fn logout(&self, session: &Session) {
        session.clear();
    }
}

/// `_auth_user_id` as text: Django reads `42` and `"42"` alike.
fn stored_id(session: &Session) -> Option<String> {
    match session.get_value(USER_ID)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `salted_hmac(key_salt, password, secret, "sha256").hexdigest()`.
pub(crate) fn auth_hash(secret: &Key, password: &str) -> String {
    let key = Sha256::new()
        .chain_update(KEY_SALT.as_bytes())
        .chain_update(secret.bytes())
        .finalize();
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(password.as_bytes());
    hex(&mac.finalize().into_bytes())
}
