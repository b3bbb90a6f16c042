//! One replica of a fleet that logs users out everywhere: each replica keeps
//! the per-user cut-off map the synchronous validator reads, fed from Redis.
//!
//! ```sh
//! redis-server --port 6379 &
//! SECRET_KEY=fleet-secret-0123456789abcdef0123 PORT=3001 REPLICA=a cargo run --example fleet &
//! SECRET_KEY=fleet-secret-0123456789abcdef0123 PORT=3002 REPLICA=b cargo run --example fleet &
//! curl -c jar -X POST 'localhost:3001/login?user=ada'
//! curl -b jar localhost:3002/me                                 # ada, on the other replica
//! curl -b jar -X POST localhost:3001/logout-everywhere
//! curl -b jar localhost:3002/me                                 # 401 within milliseconds
//! ```
//!
//! `with_validator` runs on every request, synchronously, with the session
//! locked: it must read memory, never Redis. So each replica holds the map
//! `user → cut-off` (sessions whose login stamp is older are refused) and a
//! background task keeps it current: a Redis hash holds every cut-off (the
//! record), a pub/sub channel announces each new one (the fast path), and a
//! full read of the hash on every (re)connection and every `RESYNC_MS`
//! catches up whatever a disconnected subscriber missed.
//!
//! While Redis is unreachable the replica cannot know of new revocations.
//! `ON_REDIS_DOWN` says what it does then, once the map is older than
//! `STALE_MS`: `refuse` (the default) refuses every logged-in session,
//! `admit` keeps admitting by the last map it had. Anonymous requests are
//! served either way.
//!
//! Environment: `SECRET_KEY`, `PORT`, `REPLICA` (a name for `/health`),
//! `REDIS_URL` (default `redis://127.0.0.1:6379/`), `ON_REDIS_DOWN`
//! (`refuse` | `admit`), `RESYNC_MS` (default 1000), `STALE_MS` (default
//! 2000).
//!
//! Routes: `POST /login?user=…`, `GET /me`, `POST /logout-everywhere`,
//! `GET /health`, `GET /ping`.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_cookie_session::{Key, Session, SessionInfo, SessionLayer};

/// The Redis hash of every cut-off, and the channel that announces one.
const HASH: &str = "tcs:logout-everywhere";
const CHANNEL: &str = "tcs:logout-everywhere";
const NEVER: u64 = u64::MAX;
/// The pause before reconnecting, doubled while Redis stays away.
const RECONNECT_MIN: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenDown {
    Refuse,
    Admit,
}

/// What the validator reads: memory only.
struct Revocations {
    /// user → cut-off, in milliseconds since the Unix epoch.
    cutoffs: RwLock<HashMap<String, u64>>,
    /// When the hash was last read whole, in milliseconds since `started`;
    /// `NEVER` until the first read (a replica that never synced is stale).
    synced_ms: AtomicU64,
    subscribed: AtomicBool,
    started: Instant,
    stale_after: Duration,
    when_down: WhenDown,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Revocations {
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn mark_synced(&self) {
        self.synced_ms.store(self.elapsed_ms(), Ordering::Release);
    }

    /// Current: subscribed now, or fully read within `stale_after`.
    fn current(&self) -> bool {
        let synced = self.synced_ms.load(Ordering::Acquire);
        let stale_after = u64::try_from(self.stale_after.as_millis()).unwrap_or(u64::MAX);
        self.subscribed.load(Ordering::Acquire)
            || (synced != NEVER && self.elapsed_ms().saturating_sub(synced) <= stale_after)
    }

    fn raise(&self, user: &str, cutoff: u64) {
        let mut map = self.cutoffs.write().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(user.to_owned()).or_insert(0);
        *entry = (*entry).max(cutoff);
    }

    fn replace(&self, all: HashMap<String, u64>) {
        let mut map = self.cutoffs.write().unwrap_or_else(|e| e.into_inner());
        // Never lower a cut-off: one this replica raised may not be in
        // Redis yet if Redis came back empty.
        for (user, cutoff) in all {
            let entry = map.entry(user).or_insert(0);
            *entry = (*entry).max(cutoff);
        }
    }

    /// The validator.
    fn admits(&self, info: &SessionInfo<'_>) -> bool {
        let Ok(Some(user)) = info.get::<String>("user") else {
            return true; // anonymous: nothing to revoke
        };
        if !self.current() && self.when_down == WhenDown::Refuse {
            return false;
        }
        let map = self.cutoffs.read().unwrap_or_else(|e| e.into_inner());
        let Some(&cutoff) = map.get(&user) else {
            return true;
        };
        let issued = info
            .issued_at()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        issued > cutoff
    }
}

/// Keeps the map current for as long as the process lives: subscribe, read
/// the whole hash, apply announcements; on any error mark the map
/// unsubscribed and reconnect after a short pause.
async fn sync(client: redis::Client, revocations: Arc<Revocations>, resync: Duration) {
    let mut pause = RECONNECT_MIN;
    loop {
        let synced_before = revocations.synced_ms.load(Ordering::Acquire);
        if let Err(e) = sync_once(&client, &revocations, resync).await {
            tracing::warn!(error = %e, "revocation feed from Redis lost; reconnecting");
        }
        revocations.subscribed.store(false, Ordering::Release);
        // Start over after a connection that worked; back off while Redis
        // stays away.
        if revocations.synced_ms.load(Ordering::Acquire) != synced_before {
            pause = RECONNECT_MIN;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RECONNECT_MAX);
    }
}

async fn sync_once(
    client: &redis::Client,
    revocations: &Revocations,
    resync: Duration,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    // Subscribed first, then read: nothing announced in between is lost.
    let all: HashMap<String, u64> = conn.hgetall(HASH).await?;
    revocations.replace(all);
    revocations.mark_synced();
    revocations.subscribed.store(true, Ordering::Release);
    let mut messages = pubsub.on_message();
    let mut ticker = tokio::time::interval(resync);
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    return Err(redis::RedisError::from((redis::ErrorKind::IoError, "subscription closed")));
                };
                let payload: String = message.get_payload()?;
                if let Some((user, cutoff)) = payload.rsplit_once(' ') {
                    if let Ok(cutoff) = cutoff.parse() {
                        revocations.raise(user, cutoff);
                    }
                }
            }
            _ = ticker.tick() => {
                // The safety net: a full read, which also proves Redis is there.
                let all: HashMap<String, u64> = conn.hgetall(HASH).await?;
                revocations.replace(all);
                revocations.mark_synced();
            }
        }
    }
}

#[derive(Clone)]
struct App {
    revocations: Arc<Revocations>,
    redis: redis::Client,
    replica: Arc<str>,
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

async fn login(session: Session, Query(login): Query<Login>) -> Result<Json<Value>, StatusCode> {
    session.clear();
    session.renew();
    session
        .insert("user", &login.user)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!({ "user": login.user })))
}

async fn me(State(app): State<App>, session: Session) -> Result<Json<Value>, StatusCode> {
    match session.get::<String>("user") {
        Ok(Some(user)) => Ok(Json(json!({ "user": user, "replica": &*app.replica }))),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

/// Records the cut-off in Redis (the hash, then the announcement). Without
/// Redis the revocation cannot reach the other replicas: 503, and the
/// caller retries.
async fn logout_everywhere(
    State(app): State<App>,
    session: Session,
) -> Result<Json<Value>, (StatusCode, String)> {
    let Ok(Some(user)) = session.get::<String>("user") else {
        return Err((StatusCode::UNAUTHORIZED, "not logged in".into()));
    };
    let cutoff = now_ms();
    let record = async {
        let mut conn = app.redis.get_multiplexed_async_connection().await?;
        let () = conn.hset(HASH, &user, cutoff).await?;
        let () = conn.publish(CHANNEL, format!("{user} {cutoff}")).await?;
        redis::RedisResult::Ok(())
    };
    match tokio::time::timeout(Duration::from_secs(2), record).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                format!("revocation not recorded: {e}"),
            ))
        }
        Err(_) => {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "revocation not recorded: Redis timed out".into(),
            ))
        }
    }
    app.revocations.raise(&user, cutoff);
    session.clear();
    Ok(Json(json!({ "user": user, "cutoff_ms": cutoff })))
}

async fn health(State(app): State<App>) -> Json<Value> {
    let r = &app.revocations;
    Json(json!({
        "replica": &*app.replica,
        "subscribed": r.subscribed.load(Ordering::Acquire),
        "current": r.current(),
        "users": r.cutoffs.read().map_or(0, |m| m.len()),
        "when_down": format!("{:?}", r.when_down).to_lowercase(),
    }))
}

fn env_ms(name: &str, default: u64) -> Result<Duration, Box<dyn std::error::Error>> {
    Ok(Duration::from_millis(match std::env::var(name) {
        Ok(v) => v.parse()?,
        Err(_) => default,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let key = Key::new(std::env::var("SECRET_KEY").map_err(|_| "SECRET_KEY must be set")?)?;
    let port: u16 = std::env::var("PORT").map_or(Ok(3000), |p| p.parse())?;
    let replica: Arc<str> = std::env::var("REPLICA")
        .unwrap_or_else(|_| "a".into())
        .into();
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let when_down = match std::env::var("ON_REDIS_DOWN").as_deref() {
        Ok("admit") => WhenDown::Admit,
        Ok("refuse") | Err(_) => WhenDown::Refuse,
        Ok(other) => {
            return Err(format!("ON_REDIS_DOWN must be refuse or admit, not {other:?}").into())
        }
    };
    let resync = env_ms("RESYNC_MS", 1000)?;
    let revocations = Arc::new(Revocations {
        cutoffs: RwLock::default(),
        synced_ms: AtomicU64::new(NEVER),
        subscribed: AtomicBool::new(false),
        started: Instant::now(),
        stale_after: env_ms("STALE_MS", 2000)?,
        when_down,
    });
    let redis = redis::Client::open(redis_url)?;
    tokio::spawn(sync(redis.clone(), Arc::clone(&revocations), resync));

    let validator = Arc::clone(&revocations);
    let layer = SessionLayer::new(key)
        .with_secure(false)
        .with_validator(move |info: &SessionInfo<'_>| validator.admits(info));
    let app = Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/health", get(health))
        .route("/ping", get(|| async { Json(json!({ "ok": true })) }))
        .with_state(App {
            revocations,
            redis,
            replica: Arc::clone(&replica),
        })
        .layer(layer);
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!(
        "fleet replica {replica} listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
