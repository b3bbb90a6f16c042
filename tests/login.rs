//! The login modules' rules, through the public API: Flask-Login's session
//! protection and remember cookie, Django's hash check, the native `Auth`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use http::header::{COOKIE, USER_AGENT};
use http::{HeaderMap, HeaderValue};
use serde_json::json;
use tower_cookie_session::login::{
    Auth, AuthUser, Client, DjangoAuth, FlaskLogin, FlaskUser, Remember, SessionProtection,
    HASH_KEY,
};
use tower_cookie_session::{Key, Session};

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

fn key() -> Key {
    Key::new("login-test-secret-key-0123456789abcdef").unwrap()
}

fn headers(ua: &str, cookie: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(USER_AGENT, HeaderValue::from_str(ua).unwrap());
    if let Some(c) = cookie {
        h.insert(COOKIE, HeaderValue::from_str(c).unwrap());
    }
    h
}

fn user(id: &str, fresh: bool) -> Option<FlaskUser> {
    let login = FlaskLogin::new(key());
    let session = Session::default();
    let h = headers("ua", None);
    let _ = login.login(&session, &Client::new(&h, Some(PEER)), id, Remember::No);
    let u = login.user(&session, &Client::new(&h, Some(PEER)));
    assert_eq!(u.as_ref().map(|u| u.fresh), Some(true));
    u.map(|mut u| {
        u.fresh = fresh;
        u
    })
}

#[test]
fn basic_protection_keeps_another_clients_login_but_not_fresh() {
    let login = FlaskLogin::new(key());
    let session = Session::default();
    let (mine, theirs) = (headers("mine", None), headers("theirs", None));
    let _ = login.login(
        &session,
        &Client::new(&mine, Some(PEER)),
        "42",
        Remember::No,
    );
    assert_eq!(
        login.user(&session, &Client::new(&theirs, Some(PEER))),
        user("42", false)
    );
    assert_eq!(session.get_value("_fresh"), Some(json!(false)));
}

#[test]
fn strong_protection_logs_another_client_out_and_clears_remember() {
    let login = FlaskLogin::new(key()).with_session_protection(SessionProtection::Strong);
    let session = Session::default();
    session.insert("cart", [1, 2]).unwrap();
    let (mine, theirs) = (headers("mine", None), headers("theirs", None));
    let _ = login.login(
        &session,
        &Client::new(&mine, Some(PEER)),
        "42",
        Remember::No,
    );
    assert_eq!(
        login.user(&session, &Client::new(&theirs, Some(PEER))),
        None
    );
    assert_eq!(login.user(&session, &Client::new(&mine, Some(PEER))), None);
    assert_eq!(session.get_value("_remember"), Some(json!("clear")));
    assert_eq!(
        session.get_value("cart"),
        Some(json!([1, 2])),
        "other keys stay"
    );
    // A permanent session is treated as basic, as Flask-Login does.
    let session = Session::default();
    session.set_permanent(true);
    let _ = login.login(
        &session,
        &Client::new(&mine, Some(PEER)),
        "42",
        Remember::No,
    );
    assert_eq!(
        login.user(&session, &Client::new(&theirs, Some(PEER))),
        user("42", false)
    );
}

#[test]
fn the_remember_cookie_restores_a_login_until_logout() {
    let login = FlaskLogin::new(key());
    let h = headers("ua", None);
    let cookie = login.login(
        &Session::default(),
        &Client::new(&h, Some(PEER)),
        "42",
        Remember::Yes,
    );
    let line = cookie.header().unwrap().to_str().unwrap().to_owned();
    assert!(
        line.contains("HttpOnly") && line.contains("Expires=") && !line.contains("Max-Age"),
        "{line}"
    );
    let value = line.split(';').next().unwrap().to_owned();

    // A new browser session: only the remember cookie.
    let h = headers("ua", Some(&value));
    let session = Session::default();
    assert_eq!(
        login.user(&session, &Client::new(&h, Some(PEER))),
        user("42", false)
    );
    assert_eq!(session.get_value("_user_id"), Some(json!("42")));

    let deletion = login.logout(&session, &Client::new(&h, Some(PEER)));
    let line = deletion.header().unwrap().to_str().unwrap();
    assert!(
        line.starts_with("remember_token=;") && line.contains("Max-Age=0"),
        "{line}"
    );
    assert_eq!(session.get_value("_remember"), Some(json!("clear")));
    // The browser still sends it (the deletion was lost): still logged out.
    assert_eq!(login.user(&session, &Client::new(&h, Some(PEER))), None);
    // A forged or foreign remember cookie logs nobody in.
    let forged = headers("ua", Some("remember_token=42|00"));
    assert_eq!(
        login.user(&Session::default(), &Client::new(&forged, Some(PEER))),
        None
    );
    let other = FlaskLogin::new(Key::new("another-key").unwrap());
    assert_eq!(
        other.user(&Session::default(), &Client::new(&h, Some(PEER))),
        None
    );
    // A logout without the cookie deletes nothing; a new login lifts "clear".
    assert!(login
        .logout(&session, &Client::new(&headers("ua", None), Some(PEER)))
        .header()
        .is_none());
    let _ = login.login(&session, &Client::new(&h, Some(PEER)), "42", Remember::No);
    assert_eq!(session.get_value("_remember"), None);
}

#[test]
fn remember_for_a_duration_is_kept_in_the_session_as_flask_does() {
    let login = FlaskLogin::new(key());
    let session = Session::default();
    let h = headers("ua", None);
    let _ = login.login(
        &session,
        &Client::new(&h, Some(PEER)),
        "42",
        Remember::For(Duration::from_secs(86_400)),
    );
    assert_eq!(session.get_value("_remember_seconds"), Some(json!(86400.0)));
}

fn django_session(auth: &DjangoAuth, password: &str) -> Session {
    let session = Session::default();
    session.insert("cart", 3).unwrap();
    auth.login(&session, "42", password, None);
    session
}

async fn lookup(
    password: &'static str,
) -> impl FnOnce(String) -> std::future::Ready<Result<Option<String>, ()>> {
    move |_| std::future::ready(Ok(Some(password.to_owned())))
}

#[tokio::test]
async fn django_accepts_its_hash_upgrades_a_fallback_and_flushes_a_stale_one() {
    let old = DjangoAuth::new(Key::new("old-django-key").unwrap());
    let auth = DjangoAuth::new(key()).with_fallback_keys([Key::new("old-django-key").unwrap()]);
    let session = django_session(&auth, "pw1");
    assert_eq!(
        auth.user(&session, lookup("pw1").await).await,
        Ok(Some("42".into()))
    );

    let session = django_session(&old, "pw1");
    assert_eq!(
        auth.user(&session, lookup("pw1").await).await,
        Ok(Some("42".into()))
    );
    assert_eq!(
        session.get_value("_auth_user_hash"),
        Some(json!(auth.session_auth_hash("pw1")))
    );

    let session = django_session(&auth, "pw1");
    assert_eq!(auth.user(&session, lookup("pw2").await).await, Ok(None));
    assert!(session.is_empty(), "flushed as Django does");

    // No such user (or inactive): anonymous, session left alone.
    let session = django_session(&auth, "pw1");
    let none = |_| std::future::ready(Ok::<_, ()>(None));
    assert_eq!(auth.user(&session, none).await, Ok(None));
    assert!(!session.is_empty());
    // A lookup error is the caller's, not a logout.
    let failing = |_| std::future::ready(Err::<Option<String>, _>("db down"));
    assert_eq!(auth.user(&session, failing).await, Err("db down"));
    assert!(!session.is_empty());
}

#[tokio::test]
async fn django_ignores_a_login_through_a_backend_it_does_not_have() {
    let auth = DjangoAuth::new(key());
    let session = django_session(&auth, "pw");
    let other = DjangoAuth::new(key()).with_backends(["myapp.auth.EmailBackend"]);
    assert_eq!(other.user_id(&session), None);
    assert_eq!(other.user(&session, lookup("pw").await).await, Ok(None));
    assert_eq!(auth.user_id(&session).as_deref(), Some("42"));
    // Django stores the id as text; an integer is read alike.
    session.insert("_auth_user_id", 42).unwrap();
    assert_eq!(auth.user_id(&session).as_deref(), Some("42"));
}

#[test]
fn django_login_keeps_the_same_users_data_and_flushes_anothers() {
    let auth = DjangoAuth::new(key());
    let session = django_session(&auth, "pw");
    auth.login(&session, "42", "pw", None);
    assert_eq!(session.get_value("cart"), Some(json!(3)));
    auth.login(&session, "7", "pw7", None);
    assert_eq!(session.get_value("cart"), None);
    assert_eq!(auth.user_id(&session).as_deref(), Some("7"));
    auth.logout(&session);
    assert!(session.is_empty());
}

#[derive(Clone)]
struct User {
    id: u64,
    pw_hash: String,
}

impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
    fn session_auth_hash(&self) -> &[u8] {
        self.pw_hash.as_bytes()
    }
}

#[tokio::test]
async fn native_auth_stores_an_hmac_and_ends_sessions_on_a_password_change() {
    let auth = Auth::new(key());
    let session = Session::default();
    let ada = User {
        id: 7,
        pw_hash: "argon2id$v=19$secret-hash".into(),
    };
    auth.login(&session, &ada).unwrap();
    let stored = session.get_value(HASH_KEY).unwrap();
    assert!(
        !stored.as_str().unwrap().contains("argon2"),
        "the cookie never holds the hash itself"
    );
    assert!(session.issued_at().is_some(), "login renews the session");

    let load = |u: User| move |id: u64| std::future::ready(Ok::<_, ()>((id == u.id).then_some(u)));
    assert_eq!(
        auth.user(&session, load(ada.clone()))
            .await
            .unwrap()
            .map(|u| u.id),
        Some(7)
    );
    let changed = User {
        pw_hash: "argon2id$v=19$new".into(),
        ..ada.clone()
    };
    assert!(auth.user(&session, load(changed)).await.unwrap().is_none());
    assert!(session.is_empty());

    // Logging in as another user over a login starts from an empty session.
    auth.login(&session, &ada).unwrap();
    session.insert("cart", 1).unwrap();
    auth.login(
        &session,
        &User {
            id: 8,
            pw_hash: "x".into(),
        },
    )
    .unwrap();
    assert_eq!(session.get_value("cart"), None);
    auth.logout(&session);
    assert!(session.is_empty());
}

#[test]
fn remember_durations_never_overflow_the_date() {
    let login = FlaskLogin::new(key());
    let h = headers("ua", None);
    let client = Client::new(&h, Some(PEER));
    let forever = login.login(
        &Session::default(),
        &client,
        "42",
        Remember::For(Duration::MAX),
    );
    assert!(forever
        .header()
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Expires=Fri, 31 Dec 9999"));
    // A `_remember_seconds` no date can hold (another writer's) falls back to the default.
    let session = Session::default();
    session.insert("_remember_seconds", 1e300).unwrap();
    assert!(login
        .login(&session, &client, "42", Remember::Yes)
        .header()
        .is_some());
}

#[test]
fn the_remember_key_is_latin1_as_flask_login_encodes_it() {
    use hmac::{Hmac, Mac};
    let login = FlaskLogin::new(Key::new("clé-secrète").unwrap());
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(b"cl\xe9-secr\xe8te").unwrap();
    mac.update(b"42");
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(login.remember_cookie_value("42"), format!("42|{digest}"));
}

#[test]
fn debug_never_shows_cookies() {
    let login = FlaskLogin::new(key());
    let h = headers("ua", Some("session=secret-session; remember_token=42|abc"));
    let client = Client::new(&h, Some(PEER));
    assert!(!format!("{client:?}").contains("secret-session"));
    let cookie = login.login(&Session::default(), &client, "42", Remember::Yes);
    assert!(!format!("{cookie:?}").contains("42|"), "{cookie:?}");
    assert!(cookie.header().unwrap().is_sensitive());
}
