//! Session lifecycle: logout that sticks (validator), an absolute lifetime
//! under continuous refresh, renew at login, throttled refresh, clock skew.
//! Time is driven by `SessionLayer::with_clock`, never by sleeping.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{call, is_deletion, key, Jar};
use http::StatusCode;
use serde_json::json;
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Session, SessionInfo, SessionLayer, LOGIN_KEY};

const OK: StatusCode = StatusCode::OK;

/// A clock that tests move by hand (milliseconds since the epoch).
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn starting_now() -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        Self(Arc::new(AtomicU64::new(now.as_millis() as u64)))
    }

    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    fn secs(&self) -> u64 {
        self.0.load(Ordering::SeqCst) / 1000
    }

    fn time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst))
    }

    fn install(&self, layer: SessionLayer) -> SessionLayer {
        let clock = self.clone();
        layer.with_clock(move || clock.time())
    }
}

async fn round(
    layer: &SessionLayer,
    jar: &mut Jar,
    handler: impl Fn(&Session) -> StatusCode + Clone + Send + 'static,
) -> common::Reply {
    let reply = call(layer, &jar.header(), handler).await;
    jar.apply(&reply);
    reply
}

fn login(s: &Session) -> StatusCode {
    s.insert("user_id", 7).unwrap();
    s.renew();
    OK
}

fn whoami(jar_user: &Arc<RwLock<Option<u64>>>) -> impl Fn(&Session) -> StatusCode + Clone + Send {
    let out = Arc::clone(jar_user);
    move |s: &Session| {
        *out.write().unwrap() = s.get::<u64>("user_id").unwrap();
        OK
    }
}

#[tokio::test]
async fn a_copied_cookie_stops_working_after_logout_everywhere_with_the_cache_on() {
    let clock = Clock::starting_now();
    let revoked: Arc<RwLock<HashMap<u64, SystemTime>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (table, counted) = (Arc::clone(&revoked), Arc::clone(&calls));
    let layer =
        clock
            .install(SessionLayer::new(key()))
            .with_validator(move |info: &SessionInfo| {
                counted.fetch_add(1, Ordering::SeqCst);
                let Ok(Some(user)) = info.get::<u64>("user_id") else {
                    return true;
                };
                match (table.read().unwrap().get(&user), info.issued_at()) {
                    (Some(cutoff), Some(issued)) => issued > *cutoff,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
            });
    let mut laptop = Jar::default();
    round(&layer, &mut laptop, login).await;
    let mut thief = laptop.clone();
    let user = Arc::new(RwLock::new(None));
    round(&layer, &mut thief, whoami(&user)).await;
    assert_eq!(
        *user.read().unwrap(),
        Some(7),
        "the copy works before logout"
    );
    round(&layer, &mut thief, whoami(&user)).await; // and is now a cache hit
    let before = calls.load(Ordering::SeqCst);

    clock.advance(Duration::from_millis(5));
    revoked.write().unwrap().insert(7, clock.time());
    let reply = round(&layer, &mut thief, whoami(&user)).await;
    assert_eq!(*user.read().unwrap(), None, "revoked, cache or not");
    assert_eq!(calls.load(Ordering::SeqCst), before + 1, "once per request");
    assert!(is_deletion(&reply.set_cookie("session").unwrap()));
    assert!(thief.cookies.is_empty());

    // The copy stays dead; a new login (later than the cutoff) works.
    let mut copy = laptop.clone();
    round(&layer, &mut copy, whoami(&user)).await;
    assert_eq!(*user.read().unwrap(), None);
    clock.advance(Duration::from_millis(5));
    let mut fresh = Jar::default();
    round(&layer, &mut fresh, login).await;
    round(&layer, &mut fresh, whoami(&user)).await;
    assert_eq!(*user.read().unwrap(), Some(7));
}

#[tokio::test]
async fn the_validator_runs_once_per_request_before_the_handler_and_never_untouched() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let layer = SessionLayer::new(key()).with_validator(move |_: &SessionInfo| {
        counted.fetch_add(1, Ordering::SeqCst);
        true
    });
    let mut jar = Jar::default();
    round(&layer, &mut jar, login).await;
    round(&layer, &mut jar, |s| {
        for _ in 0..5 {
            let _ = s.get::<u64>("user_id");
        }
        s.insert("n", 1).unwrap();
        OK
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    round(&layer, &mut jar, |_| OK).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "an untouched request loads nothing"
    );
}

#[tokio::test]
async fn the_max_lifetime_ends_a_session_that_refreshes_continuously() {
    let clock = Clock::starting_now();
    let layer = clock
        .install(SessionLayer::new(key()))
        .with_max_age(Duration::from_secs(3600))
        .with_max_lifetime(Duration::from_secs(3 * 3600));
    let mut jar = Jar::default();
    round(&layer, &mut jar, |s| {
        s.set_permanent(true);
        login(s)
    })
    .await;
    let user = Arc::new(RwLock::new(None));
    // Every 40 minutes a request refreshes the sliding expiry (max age 1 h).
    for step in 1..=4 {
        clock.advance(Duration::from_secs(40 * 60));
        let reply = round(&layer, &mut jar, whoami(&user)).await;
        assert_eq!(*user.read().unwrap(), Some(7), "step {step}");
        assert!(
            reply.set_cookie("session").is_some(),
            "refreshed at step {step}"
        );
    }
    // 3 h 20 min after login: past the lifetime, though never idle.
    clock.advance(Duration::from_secs(40 * 60));
    let reply = round(&layer, &mut jar, whoami(&user)).await;
    assert_eq!(*user.read().unwrap(), None);
    assert!(is_deletion(&reply.set_cookie("session").unwrap()));
    // An untouched request revokes it too (the refresh loads it first).
    let mut copy = Jar::default();
    copy.cookies.insert(
        "session".into(),
        Codec::new(key()).encode(
            json!({"_permanent": true, LOGIN_KEY: {"at_us": 1_000_000, "nonce": "x"}})
                .as_object()
                .unwrap(),
            clock.secs(),
        ),
    );
    let reply = round(&layer, &mut copy, |_| OK).await;
    assert!(
        is_deletion(&reply.set_cookie("session").unwrap()),
        "not re-signed"
    );
}

#[tokio::test]
async fn an_unstamped_session_is_stamped_on_its_first_write_under_max_lifetime() {
    let clock = Clock::starting_now();
    let layer = clock
        .install(SessionLayer::new(key()))
        .with_max_lifetime(Duration::from_secs(600));
    // Written by Flask: no stamp.
    let flask = Codec::new(key()).encode(json!({"user_id": 7}).as_object().unwrap(), clock.secs());
    let mut jar = Jar::default();
    jar.cookies.insert("session".into(), flask);
    let issued = Arc::new(RwLock::new(None));
    let out = Arc::clone(&issued);
    round(&layer, &mut jar, move |s| {
        assert_eq!(s.issued_at(), None);
        s.insert("n", 1).unwrap();
        *out.write().unwrap() = Some(());
        OK
    })
    .await;
    let stamped = Codec::new(key())
        .decode(&jar.cookies["session"], clock.secs(), None)
        .unwrap();
    assert_eq!(
        stamped[LOGIN_KEY]["at_us"].as_u64().unwrap() / 1_000_000,
        clock.secs()
    );
    clock.advance(Duration::from_secs(601));
    let user = Arc::new(RwLock::new(None));
    round(&layer, &mut jar, whoami(&user)).await;
    assert_eq!(
        *user.read().unwrap(),
        None,
        "the lifetime counts from the first write"
    );
}

#[tokio::test]
async fn renew_makes_a_cookie_unlike_the_old_one_and_the_old_stamp_can_be_refused() {
    let clock = Clock::starting_now();
    let not_before = Arc::new(RwLock::new(UNIX_EPOCH));
    let cutoff = Arc::clone(&not_before);
    let layer =
        clock
            .install(SessionLayer::new(key()))
            .with_validator(move |info: &SessionInfo| {
                info.issued_at()
                    .is_none_or(|t| t >= *cutoff.read().unwrap())
            });
    let mut jar = Jar::default();
    round(&layer, &mut jar, login).await;
    let old = jar.clone();
    // Same session, same second: renew still changes the cookie.
    round(&layer, &mut jar, |s| {
        let first = s.issued_at().unwrap();
        s.renew();
        assert!(s.issued_at().unwrap() >= first);
        OK
    })
    .await;
    assert_ne!(old.cookies["session"], jar.cookies["session"]);
    clock.advance(Duration::from_millis(2));
    round(&layer, &mut jar, |s| {
        s.renew();
        OK
    })
    .await;
    let new_login = Codec::new(key())
        .decode(&jar.cookies["session"], clock.secs(), None)
        .unwrap()[LOGIN_KEY]["at_us"]
        .as_u64()
        .unwrap();
    *not_before.write().unwrap() = UNIX_EPOCH + Duration::from_micros(new_login);
    let user = Arc::new(RwLock::new(None));
    let mut old = old;
    round(&layer, &mut old, whoami(&user)).await;
    assert_eq!(
        *user.read().unwrap(),
        None,
        "the old login stamp is refused"
    );
    round(&layer, &mut jar, whoami(&user)).await;
    assert_eq!(*user.read().unwrap(), Some(7), "the renewed one is not");
}

#[tokio::test]
async fn refresh_after_skips_set_cookie_within_the_interval_and_refreshes_after_it() {
    let clock = Clock::starting_now();
    let layer = clock
        .install(SessionLayer::new(key()))
        .with_refresh_after(Duration::from_secs(60));
    let mut jar = Jar::default();
    round(&layer, &mut jar, |s| {
        s.set_permanent(true);
        OK
    })
    .await;
    for _ in 0..5 {
        clock.advance(Duration::from_secs(10));
        let untouched = round(&layer, &mut jar, |_| OK).await;
        assert!(untouched.set_cookies().is_empty(), "within the interval");
        let read = round(&layer, &mut jar, |s| {
            assert!(s.is_permanent());
            OK
        })
        .await;
        assert!(read.set_cookies().is_empty(), "a read within the interval");
    }
    clock.advance(Duration::from_secs(10));
    let due = round(&layer, &mut jar, |_| OK).await;
    assert!(due.set_cookie("session").is_some(), "60 s after signing");
    clock.advance(Duration::from_secs(1));
    assert!(round(&layer, &mut jar, |_| OK)
        .await
        .set_cookies()
        .is_empty());
    // A write is never throttled.
    let write = round(&layer, &mut jar, |s| {
        s.insert("a", 1).unwrap();
        OK
    })
    .await;
    assert!(write.set_cookie("session").is_some());
    // Without the option, Flask's rule: every request.
    let every = SessionLayer::new(key());
    let mut jar2 = Jar::default();
    round(&every, &mut jar2, |s| {
        s.set_permanent(true);
        OK
    })
    .await;
    assert!(round(&every, &mut jar2, |_| OK)
        .await
        .set_cookie("session")
        .is_some());
}

#[tokio::test]
async fn clock_skew_accepts_a_cookie_from_a_node_slightly_ahead() {
    let codec = Codec::new(key());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ahead = |secs| codec.encode(json!({"user_id": 7}).as_object().unwrap(), now + secs);
    for (layer, secs, accepted) in [
        (SessionLayer::new(key()), 2, true),
        (SessionLayer::new(key()), 30, false),
        (
            SessionLayer::new(key()).with_clock_skew(Duration::ZERO),
            2,
            false,
        ),
        (
            SessionLayer::new(key()).with_clock_skew(Duration::from_secs(60)),
            30,
            true,
        ),
    ] {
        let header = vec![format!("session={}", ahead(secs))];
        call(&layer, &header, move |s| {
            assert_eq!(
                s.get::<u64>("user_id").unwrap().is_some(),
                accepted,
                "{secs} s ahead"
            );
            OK
        })
        .await;
    }
    // The codec itself keeps itsdangerous' rule.
    assert!(codec.decode(&ahead(1), now, None).is_err());
}

#[tokio::test]
async fn session_info_debug_shows_times_but_no_values() {
    let shown = Arc::new(RwLock::new(String::new()));
    let out = Arc::clone(&shown);
    let layer = SessionLayer::new(key()).with_validator(move |info: &SessionInfo| {
        *out.write().unwrap() = format!("{info:?}");
        true
    });
    let mut jar = Jar::default();
    round(&layer, &mut jar, |s| {
        s.insert("token", "secret-value").unwrap();
        login(s)
    })
    .await;
    round(&layer, &mut jar, |s| {
        let _ = s.len();
        OK
    })
    .await;
    let shown = shown.read().unwrap().clone();
    assert!(
        shown.starts_with("SessionInfo") && shown.contains("issued_at: Some"),
        "{shown}"
    );
    assert!(
        !shown.contains("secret-value") && !shown.contains("user_id"),
        "{shown}"
    );
}
