//! Chunked sessions through a real browser: headless Chromium's own cookie
//! jar, driven over WebDriver by chromedriver.
//!
//! The app is `examples/large_session.rs`, served in-process on an
//! ephemeral port. Needs `/usr/bin/chromium` and `/usr/bin/chromedriver`
//! (Debian: `apt-get install chromium chromium-driver`; `CHROMIUM` and
//! `CHROMEDRIVER` override the paths), hence `#[ignore]`:
//!
//! ```text
//! cargo test --test browser -- --ignored
//! ```

#[allow(dead_code)]
#[path = "../examples/large_session.rs"]
mod large_session;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tower_cookie_session::Key;

/// The app's request budget: 16 KiB, so that a session can take 3 chunks.
const MAX_TOTAL: usize = 16 * 1024;
/// Chromium refuses a cookie whose name and value exceed this.
const BROWSER_COOKIE_LIMIT: usize = 4096;
const ITEM: usize = 1000;

/// Serves the example app on `127.0.0.1:0` from a background thread that
/// lives as long as the test process.
fn serve() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("bound");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = large_session::app(Key::generate(), Some(MAX_TOTAL));
            axum::serve(listener, app).await.expect("server");
        });
    });
    format!("http://{addr}")
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("bound").port()
}

/// chromedriver in its own process group, killed with everything it
/// started (Chromium included) on drop.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A WebDriver session on headless Chromium.
struct Browser {
    agent: ureq::Agent,
    session_url: String,
    // Dropped after `Browser::drop` has ended the WebDriver session.
    _driver: Driver,
}

impl Browser {
    fn start() -> Self {
        use std::os::unix::process::CommandExt;

        let chromium = std::env::var("CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
        let port = free_port();
        let profile = std::env::temp_dir().join(format!(
            "tower-cookie-session-chromium-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let driver = Driver { child, profile };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = agent
                .get(format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }

        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--no-proxy-server",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!("--user-data-dir={}", driver.profile.display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "timeouts": {"pageLoad": 30_000, "script": 30_000},
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let value = webdriver(&agent, "POST", &format!("{base}/session"), Some(caps));
        let id = value["sessionId"].as_str().expect("sessionId").to_owned();
        Self {
            agent,
            session_url: format!("{base}/session/{id}"),
            _driver: driver,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        webdriver(
            &self.agent,
            method,
            &format!("{}{path}", self.session_url),
            body,
        )
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// Navigates to `url` and parses the JSON the page shows.
    fn get_json(&self, url: &str) -> Value {
        self.goto(url);
        let script = "const pre = document.querySelector('pre'); \
                      return pre ? pre.textContent : document.body.innerText;";
        let text = self.script(script);
        let text = text.as_str().expect("page text");
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{url} did not show JSON ({e}): {text:?}"))
    }

    /// Runs `script` in the current page; what it returns.
    fn script(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// `fetch(url)` from the current page (same origin, the browser's jar):
    /// the HTTP status.
    fn fetch_status(&self, url: &str) -> u64 {
        let script = "const done = arguments[arguments.length - 1]; \
                      fetch(arguments[0], { credentials: 'same-origin' }) \
                        .then(r => done(r.status), e => done(String(e)));";
        let status = self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [url] })),
        );
        status
            .as_u64()
            .unwrap_or_else(|| panic!("fetch {url} failed: {status}"))
    }

    /// The browser's `session` and `session.N` cookies (WebDriver "Get All
    /// Cookies"), by name.
    fn session_cookies(&self) -> BTreeMap<String, Value> {
        let all = self.cmd("GET", "/cookie", None);
        all.as_array()
            .expect("cookie list")
            .iter()
            .filter_map(|c| {
                let name = c["name"].as_str()?;
                (name == "session" || name.starts_with("session."))
                    .then(|| (name.to_owned(), c.clone()))
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Lets chromedriver quit Chromium cleanly; `Driver` then kills
        // whatever is left.
        let _ = self.agent.delete(&self.session_url).call();
    }
}

/// One WebDriver command; panics with the driver's error message.
fn webdriver(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Value {
    let res = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent.post(url).send_json(body.unwrap_or(json!({}))),
    };
    let mut res = res.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status();
    let reply: Value = res
        .body_mut()
        .read_json()
        .unwrap_or_else(|e| panic!("{method} {url}: {status}, not JSON: {e}"));
    assert!(status.is_success(), "{method} {url}: {status}: {reply}");
    reply["value"].clone()
}

fn value_of(cookie: &Value) -> &str {
    cookie["value"].as_str().expect("cookie value")
}

/// The jar holds `session=chunks-n` and `session.1..=n`, each within the
/// browser's limit and with the same attributes; returns the bytes they
/// add to a request `Cookie` line.
fn assert_chunked(jar: &BTreeMap<String, Value>, n: usize) -> usize {
    let mut names = vec!["session".to_owned()];
    names.extend((1..=n).map(|i| format!("session.{i}")));
    names.sort();
    assert_eq!(
        jar.keys().cloned().collect::<Vec<_>>(),
        names,
        "jar: {jar:#?}"
    );
    assert_eq!(value_of(&jar["session"]), format!("chunks-{n}"));
    let mut request_bytes = 0;
    for (name, cookie) in jar {
        let pair = name.len() + value_of(cookie).len();
        assert!(pair <= BROWSER_COOKIE_LIMIT, "{name}: {pair} bytes");
        assert_eq!(cookie["path"], "/", "{name}");
        assert_eq!(cookie["httpOnly"], true, "{name}");
        assert_eq!(cookie["secure"], false, "{name}");
        assert_eq!(cookie["sameSite"], "Lax", "{name}");
        assert!(
            cookie.get("expiry").is_none(),
            "{name}: not a session cookie"
        );
        request_bytes += pair + 3; // "=" and "; "
    }
    assert!(request_bytes <= MAX_TOTAL, "{request_bytes} request bytes");
    request_bytes
}

/// The cart the page shows is exactly `model`.
fn assert_cart(cart: &Value, model: &[String]) {
    let bytes: usize = model.iter().map(String::len).sum();
    let expected = json!({
        "items": model.len(),
        "bytes": bytes,
        "digest": large_session::digest(model),
    });
    assert_eq!(cart, &expected);
}

fn grow(model: &mut Vec<String>, count: usize) {
    let start = model.len();
    model.extend((start..start + count).map(|i| large_session::item(i, ITEM)));
}

#[test]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
fn chunks_grow_shrink_and_clear_in_chromium() {
    let app = serve();
    let browser = Browser::start();
    let mut model = Vec::new();
    browser.goto(&format!("{app}/cart"));
    assert!(browser.session_cookies().is_empty());

    // (a) ~10 KB of incompressible items: three chunks.
    grow(&mut model, 10);
    assert_cart(
        &browser.get_json(&format!("{app}/cart/add?count=10&size={ITEM}")),
        &model,
    );
    let jar = browser.session_cookies();
    let request_bytes = assert_chunked(&jar, 3);
    let size = browser.get_json(&format!("{app}/size"));
    assert_eq!(size["encoded_len"], request_bytes, "encoded_len vs the jar");

    // (b) The browser sends the chunks back; the joined token verifies.
    assert_cart(&browser.get_json(&format!("{app}/cart")), &model);
    assert_eq!(
        browser.session_cookies(),
        jar,
        "reading rewrote the cookies"
    );

    // (c) Shrink to one cookie: the three chunks are expired.
    model.truncate(2);
    assert_cart(
        &browser.get_json(&format!("{app}/cart/shrink?keep=2")),
        &model,
    );
    let jar = browser.session_cookies();
    assert_eq!(jar.keys().collect::<Vec<_>>(), ["session"], "jar: {jar:#?}");
    assert!(!value_of(&jar["session"]).starts_with("chunks-"));
    assert_cart(&browser.get_json(&format!("{app}/cart")), &model);

    // (d) Two chunks, then clear: no session cookie is left.
    grow(&mut model, 4);
    assert_cart(
        &browser.get_json(&format!("{app}/cart/add?count=4&size={ITEM}")),
        &model,
    );
    assert_chunked(&browser.session_cookies(), 2);
    assert_cart(&browser.get_json(&format!("{app}/cart")), &model);
    assert_cart(&browser.get_json(&format!("{app}/cart/clear")), &[]);
    let jar = browser.session_cookies();
    assert!(jar.is_empty(), "clear left {jar:#?}");
    assert_cart(&browser.get_json(&format!("{app}/cart")), &[]);
}

#[test]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
fn over_budget_keeps_the_previous_cookies_in_chromium() {
    let app = serve();
    let browser = Browser::start();
    let mut model = Vec::new();
    grow(&mut model, 10);
    assert_cart(
        &browser.get_json(&format!("{app}/cart/add?count=10&size={ITEM}")),
        &model,
    );
    let before = browser.session_cookies();
    assert_chunked(&before, 3);

    // (e) ~20 KB is over the 16 KiB budget: a 500, and nothing written.
    let over = format!("{app}/cart/add?count=10&size={ITEM}");
    assert_eq!(browser.fetch_status(&over), 500);
    assert_eq!(browser.session_cookies(), before, "a 500 changed the jar");
    let size = browser.get_json(&format!("{app}/size"));
    assert!(size["encoded_len"].is_u64(), "{size}");
    assert_cart(&browser.get_json(&format!("{app}/cart")), &model);

    // The same by navigation: Chromium shows its error page (whose origin
    // has no cookies to list), and the jar still holds the previous cart.
    browser.goto(&over);
    let page = browser.script("return document.body.innerText;");
    assert!(page.as_str().is_some_and(|t| t.contains("500")), "{page}");
    assert_cart(&browser.get_json(&format!("{app}/cart")), &model);
    assert_eq!(browser.session_cookies(), before, "a 500 changed the jar");
}
