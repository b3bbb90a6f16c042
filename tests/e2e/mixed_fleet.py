#!/usr/bin/env python3
"""Mixed-fleet end-to-end suite: a Flask app and a Rust service behind nginx share one login.

Starts, on loopback and as children of this driver:
  * the Flask app `examples/flask_interop_app.py` under waitress (a real WSGI server);
  * the Rust example `flask_interop` twice: with the default session budget
    (7168 bytes) and with MAX_TOTAL_BYTES=16384;
  * four nginx instances, each with its own generated config, prefix, temp
    dirs and error log (templates in tests/e2e/nginx/):
      split        /flask/... -> Flask, /rust/... -> Rust (prefix stripped),
                   nginx's default client header buffers;
      round-robin  the same paths to both backends, alternately;
      big          raised buffers, /rust/ -> the 16 KiB-budget Rust app;
      stock        nginx's stock buffers, nothing raised (pitfalls);
and drives them with ONE client cookie jar (requests.Session):

  1. a user journey through the split proxy, both backends compared after every step;
  2. the same session round-robined across both backends;
  3. a rolling key rotation K1 -> K2 with nobody logged out;
  4. large sessions: the default budget through default buffers, over budget,
     a raised budget with raised buffers, and what happens without them;
  5. values Flask writes that the Rust side cannot represent.

Usage (normally through tests/e2e/run.sh):
  target/venv/bin/python tests/e2e/mixed_fleet.py --rust-bin target/debug/examples/flask_interop

Prints one line per check and ends with `N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import hashlib
import json
import math
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import traceback

import requests
from flask import Flask
from flask.sessions import session_json_serializer
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
HOST = "127.0.0.1"
HTTP_TIMEOUT = 10  # seconds, every request
READY_TIMEOUT = 60  # seconds, every start-up
MAX_AGE = 31 * 24 * 3600  # PERMANENT_SESSION_LIFETIME, both sides' default

# >= 32 bytes each, so the Rust side does not warn about short keys.
K1 = "fleet-key-one---0123456789abcdef0123456789"
K2 = "fleet-key-two---0123456789abcdef0123456789"

MAX_COOKIE_BYTES = 4093  # per Set-Cookie line, Werkzeug's measure (both sides)
DEFAULT_BUDGET = 7168  # SessionLayer's default with_max_total_bytes
BIG_BUDGET = 16384  # MAX_TOTAL_BYTES of the "big" Rust app

# --------------------------------------------------------------------------- results


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   - {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL - {name}", flush=True)
            for line in str(detail).splitlines():
                print(f"       {line}", flush=True)
        return ok


R = Results()


class HttpError(Exception):
    pass


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the driver dies (Linux), so no server outlives it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; try/finally still stops them
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tail(path: str, label: str, n: int = 30) -> str:
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join(f"[{label}] {line}" for line in lines[-n:])


class Process:
    """A child process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, logdir: str) -> None:
        self.name = name
        self.logdir = logdir
        self.proc: subprocess.Popen | None = None
        self.log_path = ""
        self.starts = 0

    def spawn(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.stop()
        self.starts += 1
        self.log_path = os.path.join(self.logdir, f"{self.name}-{self.starts}.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 30) -> str:
        return tail(self.log_path, f"{self.name} log", n) if self.log_path else ""

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


class App(Process):
    """One backend (Flask under waitress, or the Rust example) on a fixed loopback port.

    The port stays the same across restarts, as in a rolling deploy behind nginx."""

    def __init__(self, name: str, cmd: list[str], logdir: str, extra_env: dict[str, str] | None = None) -> None:
        super().__init__(name, logdir)
        self.cmd = cmd
        self.port = free_port()
        self.extra_env = extra_env or {}
        self.keys: tuple[str, list[str]] = ("", [])

    @property
    def addr(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.addr}"

    def start(self, secret: str, fallbacks: list[str]) -> None:
        self.stop()
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update(
            SECRET_KEY=secret,
            SECRET_KEY_FALLBACKS=",".join(fallbacks),
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            NO_COLOR="1",
        )
        env.setdefault("RUST_LOG", "warn")
        self.keys = (secret, list(fallbacks))
        deadline = time.monotonic() + READY_TIMEOUT
        while True:  # the old process's port may linger for a moment
            self.spawn(self.cmd, env)
            try:
                self.wait_ready(deadline)
                return
            except _Retry:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} could not bind {self.addr}\n{self.log_tail()}")
                time.sleep(0.2)

    def wait_ready(self, deadline: float) -> None:
        last = None
        while time.monotonic() < deadline:
            if not self.alive():
                log = self.log_tail()
                if "in use" in log.lower():
                    raise _Retry()
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode if self.proc else '?'}\n{log}")
            try:
                r = requests.get(self.base + "/state", timeout=2)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready on {self.base}: {last}\n{self.log_tail()}")


class _Retry(Exception):
    pass


class Nginx(Process):
    """nginx in the foreground with its own config, prefix, temp dirs and error log."""

    def __init__(self, name: str, binary: str, tmp: str, flask: App, rust: App) -> None:
        super().__init__(f"nginx-{name}", tmp)
        self.site = name
        self.binary = binary
        self.port = free_port()
        self.prefix = os.path.join(tmp, f"nginx-{name}")
        os.makedirs(os.path.join(self.prefix, "temp"), exist_ok=True)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.error_log = os.path.join(self.prefix, "error.log")
        with open(os.path.join(HERE, "nginx", "nginx.conf.in")) as f:
            main = f.read()
        with open(os.path.join(HERE, "nginx", f"{name}.conf.in")) as f:
            server = f.read()
        server = "\n".join("    " + line if line else line for line in server.splitlines())
        conf = main.replace("@SERVER@", server)
        for k, v in {
            "@PREFIX@": self.prefix,
            "@SITE@": name,
            "@PORT@": str(self.port),
            "@FLASK_PORT@": str(flask.port),
            "@RUST_PORT@": str(rust.port),
        }.items():
            conf = conf.replace(k, v)
        with open(self.conf, "w") as f:
            f.write(conf)
        self.upstreams = {flask.addr: flask.name, rust.addr: rust.name}

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def argv(self) -> list[str]:
        return [self.binary, "-p", self.prefix + "/", "-c", self.conf, "-e", self.error_log]

    def test_config(self) -> tuple[bool, str]:
        p = subprocess.run(self.argv() + ["-t", "-q"], capture_output=True, text=True, timeout=30)
        return p.returncode == 0, (p.stdout + p.stderr).strip()

    def start(self) -> None:
        self.spawn(self.argv())
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited\n{self.log_tail()}\n{tail(self.error_log, self.name)}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} not listening on {self.port}\n{tail(self.error_log, self.name)}")

    def errors(self) -> str:
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# --------------------------------------------------------------------------- cookies and tokens


def serializer(keys: list[str], signer=TimestampSigner) -> URLSafeTimedSerializer:
    """Exactly what Flask's SecureCookieSessionInterface builds (keys oldest -> newest)."""
    return URLSafeTimedSerializer(
        keys,
        salt="cookie-session",
        serializer=session_json_serializer,
        signer=signer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


_MINT_APP = Flask("fleet-minter")


def mint(key: str, data: dict) -> str:
    """The session cookie value Flask (and, byte for byte, the Rust side) writes for `data` now."""
    with _MINT_APP.app_context():  # sort_keys=True, as in a real save_session
        return serializer([key]).dumps(data)


def verifies(value: str | None, key: str) -> bool:
    try:
        serializer([key]).loads(value or "", max_age=MAX_AGE)
        return True
    except BadSignature:
        return False


def signed_at(value: str, keys: list[str]) -> dt.datetime:
    return serializer(keys).loads(value, max_age=MAX_AGE, return_timestamp=True)[1]


def session_cookies(jar) -> dict[str, str]:
    """`session` and `session.N` cookies in the jar, by name."""
    return {c.name: c.value for c in jar if c.name == "session" or c.name.startswith("session.")}


def names(jar) -> list[str]:
    return sorted(session_cookies(jar))


def jar_value(jar) -> str | None:
    return session_cookies(jar).get("session")


def cookie_line_bytes(jar) -> int:
    """What the session's cookies add to the request Cookie line (`name=value; ` each)."""
    return sum(len(n) + 1 + len(v) + 2 for n, v in session_cookies(jar).items())


def put_session(jar, value: str) -> None:
    """The jar holds exactly `session=value` (no chunks)."""
    for c in list(jar):
        if c.name == "session" or c.name.startswith("session."):
            jar.clear(c.domain, c.path, c.name)
    jar.set("session", value, domain=HOST, path="/")


def copy_jar(jar) -> requests.Session:
    s = requests.Session()
    for c in jar:
        s.cookies.set_cookie(c)
    return s


def set_cookies(r: requests.Response) -> list[str]:
    return list(r.raw.headers.getlist("Set-Cookie")) if r.raw is not None else []


def set_cookie_named(r: requests.Response, name: str = "session") -> str | None:
    found = [h for h in set_cookies(r) if h.split("=", 1)[0].strip() == name]
    return found[-1] if found else None


def cookie_attrs(header: str) -> dict[str, str]:
    attrs = {}
    for part in header.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        attrs[k.strip().lower()] = v.strip()
    return attrs


def expires_of(header: str | None) -> dt.datetime | None:
    exp = cookie_attrs(header or "").get("expires")
    return email.utils.parsedate_to_datetime(exp) if exp else None


def attrs_len(header: str) -> int:
    """Length of the attribute part (`; HttpOnly; Path=/; ...`) of a Set-Cookie line."""
    return len(header) - header.index(";")


def plan_bytes(token_len: int, attrs: int, name: str = "session") -> tuple[int, int]:
    """(request Cookie-line bytes, chunk count) of the layout the README describes:
    one cookie if `name=token; attrs` fits 4093 bytes, else session=chunks-N plus
    name.1..N, each filled up to 4093 bytes with the same attributes."""
    single = len(name) + 1 + token_len
    if single + attrs <= MAX_COOKIE_BYTES:
        return single + 2, 0
    total = pos = n = 0
    while pos < token_len:
        n += 1
        cname = f"{name}.{n}"
        take = min(MAX_COOKIE_BYTES - (len(cname) + 1 + attrs), token_len - pos)
        total += len(cname) + 1 + take + 2
        pos += take
    return total + len(name) + 1 + len(f"chunks-{n}") + 2, n


def fit(key: str, base: dict, field: str, text: str, ok) -> str:
    """The longest prefix of `text` such that `ok(len(token))` for base + {field: prefix}."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(len(mint(key, {**base, field: text[:mid]}))):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def dumps(v) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def short(v) -> str:
    """A session for a check's name: long strings abbreviated."""

    def cut(x):
        if isinstance(x, str) and len(x) > 40:
            return f"<{len(x)} chars>"
        if isinstance(x, dict):
            return {k: cut(y) for k, y in x.items()}
        return x

    return dumps(cut(v))


def norm(state: dict) -> dict:
    """`_permanent: false` and no `_permanent` mean the same (Flask writes the former)."""
    state = dict(state)
    if state.get("_permanent") is False:
        del state["_permanent"]
    return state


# --------------------------------------------------------------------------- the suite


class Suite:
    def __init__(self, flask: App, rust: App, rust_big: App, proxies: dict[str, Nginx], flask_cmd: list[str], logdir: str) -> None:
        self.flask = flask
        self.rust = rust
        self.rust_big = rust_big
        self.split = proxies["split"]
        self.rr = proxies["round-robin"]
        self.big = proxies["big"]
        self.stock = proxies["stock"]
        self.proxies = proxies
        self.flask_cmd = flask_cmd
        self.logdir = logdir
        self.http = requests.Session()  # THE browser: one cookie jar for everything
        self.expected: dict = {}
        self.rng = random.Random(20240229)

    # ---- HTTP through a proxy
    def call(self, proxy: Nginx, method: str, path: str, body=None, status: int = 200, client=None, raw: str | None = None) -> requests.Response:
        client = client or self.http
        if raw is None:
            r = client.request(method, proxy.base + path, json=body, timeout=HTTP_TIMEOUT)
        else:  # JSON that requests refuses to write (NaN)
            body = raw
            headers = {"Content-Type": "application/json"}
            r = client.request(method, proxy.base + path, data=raw.encode(), headers=headers, timeout=HTTP_TIMEOUT)
        if r.status_code != status:
            raise HttpError(
                f"{method} {proxy.name}{path} body={dumps(body)[:200]}\n"
                f"expected HTTP {status}, got {r.status_code} from {self.who(r, proxy)}: {r.text[:300]}\n"
                f"request Cookie bytes {cookie_line_bytes(client.cookies)}, jar {names(client.cookies)}\n"
                f"{tail(proxy.error_log, proxy.name, 5)}"
            )
        return r

    def who(self, r: requests.Response, proxy: Nginx) -> str:
        """Which backend answered a proxied request ("nginx" if none did)."""
        up = r.headers.get("X-Upstream", "")
        if not up:
            return "nginx"
        return proxy.upstreams.get(up.split(",")[-1].strip(), up)

    def state(self, side: str, proxy: Nginx | None = None, client=None) -> dict:
        return self.call(proxy or self.split, "GET", f"/{side}/state", client=client).json()["session"]

    def agree(self, label: str, expected: dict | None = None, client=None) -> bool:
        """Through the split proxy, Flask and Rust report the same session, the one expected."""
        want = norm(self.expected if expected is None else expected)
        fs = norm(self.state("flask", client=client))
        rs = norm(self.state("rust", client=client))
        ok = fs == rs == want
        return R.check(
            f"{label}: flask == rust == {short(want)}",
            ok,
            f"expected: {dumps(want)}\nflask   : {dumps(fs)}\nrust    : {dumps(rs)}\njar     : {session_cookies((client or self.http).cookies)}",
        )

    def step(self, name: str, fn) -> None:
        """One step; an exception is one failed check (with the request that broke)."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - reported, suite goes on
            detail = str(e) if isinstance(e, (HttpError, AssertionError)) else traceback.format_exc()
            R.check(name, False, detail)
            try:
                self.expected = norm(self.state("flask"))
            except Exception:  # noqa: BLE001
                pass

    def text(self, n: int) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    # -------------------------------------------------------------- 1: the journey
    def journey(self) -> None:
        split = self.split
        self.http.cookies.clear()
        self.expected = {}

        def login_on_flask():
            r = self.call(split, "POST", "/flask/login", {"user": "alice"})
            self.expected = {"user": "alice"}
            sc = set_cookie_named(r)
            R.check(
                "login on Flask: answered by Flask through /flask/, cookie Path=/ (so /rust/ gets it too)",
                self.who(r, split) == "flask" and sc is not None and cookie_attrs(sc).get("path") == "/",
                f"answered by {self.who(r, split)}; Set-Cookie {set_cookies(r)}",
            )
            self.agree("after login on Flask")
            who = self.call(split, "GET", "/rust/whoami").json()
            R.check("Rust knows the user Flask logged in", who == {"user": "alice"}, dumps(who))

        def cart_on_rust():
            for item, qty in (("apple", 2), ("pear", 1), ("apple", 1)):
                r = self.call(split, "POST", "/rust/cart/add", {"item": item, "qty": qty})
            self.expected["cart"] = {"apple": 3, "pear": 1}
            R.check(
                "cart on Rust: answered by Rust, 3 adds -> {apple: 3, pear: 1}",
                self.who(r, split) == "rust" and r.json() == {"cart": {"apple": 3, "pear": 1}},
                f"answered by {self.who(r, split)}: {r.text[:200]}",
            )
            self.agree("after the cart on Rust")
            cart = self.call(split, "GET", "/flask/cart").json()
            R.check("Flask shows the cart Rust filled", cart == {"cart": {"apple": 3, "pear": 1}}, dumps(cart))

        def flash_rust_show_flask():
            msg = ["success", "4 items in your cart \u2014 merci!"]
            self.call(split, "POST", "/rust/flash", {"category": msg[0], "message": msg[1]})
            self.expected["_flashes"] = [msg]
            self.agree("after a flash on Rust")
            got = self.call(split, "GET", "/flask/flashes").json()["flashes"]
            R.check("the message flashed on Rust is shown (popped) on Flask", got == [msg], dumps(got))
            del self.expected["_flashes"]
            self.agree("after Flask showed the flash")
            again = self.call(split, "GET", "/rust/flashes").json()["flashes"]
            R.check("the message is gone on Rust too", again == [], dumps(again))

        def permanent_flask_sliding_rust():
            now = dt.datetime.now(dt.timezone.utc)
            r = self.call(split, "POST", "/flask/permanent", {"on": True})
            self.expected["_permanent"] = True
            fsc = set_cookie_named(r)
            f_exp = expires_of(fsc)
            R.check(
                "permanent on Flask: Set-Cookie with Expires ~31 days ahead",
                f_exp is not None and abs((f_exp - now).total_seconds() - MAX_AGE) < 120,
                f"Set-Cookie {set_cookies(r)}",
            )
            f_ts = signed_at(jar_value(self.http.cookies), [K1])
            time.sleep(1.2)  # timestamps and Expires have one-second resolution
            r = self.call(split, "GET", "/rust/state")
            rsc = set_cookie_named(r)
            r_exp = expires_of(rsc)
            value = jar_value(self.http.cookies)
            r_ts = signed_at(value, [K1]) if value else None
            R.check(
                "Rust refreshes the sliding expiry on a mere read: new Expires and newer signed timestamp",
                rsc is not None and r_exp is not None and r_exp > f_exp and r_ts is not None and r_ts > f_ts,
                f"flask Expires {f_exp}, ts {f_ts}\nrust  Expires {r_exp}, ts {r_ts}\nSet-Cookie {set_cookies(r)}",
            )
            self.agree("Flask reads the session Rust refreshed (still permanent)")

        def logout_on_rust():
            r = self.call(split, "POST", "/rust/logout")
            sc = set_cookie_named(r) or ""
            R.check(
                "logout on Rust deletes the cookie (expired Set-Cookie, jar empty)",
                sc.startswith("session=;") and not session_cookies(self.http.cookies),
                f"Set-Cookie {set_cookies(r)}; jar {session_cookies(self.http.cookies)}",
            )
            who = self.call(split, "GET", "/flask/whoami").json()
            R.check("logged out on Flask too", who == {"user": None}, dumps(who))
            self.expected = {}
            self.agree("after logout on Rust")

        self.step("log in on Flask", login_on_flask)
        self.step("cart on Rust", cart_on_rust)
        self.step("flash on Rust, show on Flask", flash_rust_show_flask)
        self.step("permanent on Flask, sliding expiry on Rust", permanent_flask_sliding_rust)
        self.step("log out on Rust", logout_on_rust)

    # -------------------------------------------------------------- 2: round robin
    def round_robin(self) -> None:
        rr = self.rr
        self.http.cookies.clear()
        self.expected = {}

        def run():
            served = []
            r = self.call(rr, "POST", "/login", {"user": "bob"})
            served.append(self.who(r, rr))
            counts = []
            for _ in range(6):
                r = self.call(rr, "POST", "/cart/add", {"item": "widget", "qty": 1})
                served.append(self.who(r, rr))
                counts.append(r.json()["cart"].get("widget"))
            R.check(
                "round robin: login + 6 cart adds alternate between the backends",
                set(served) == {"flask", "rust"} and all(a != b for a, b in zip(served, served[1:])),
                f"served by {served}",
            )
            R.check("round robin: no add is lost, whichever backend took it (1..6)", counts == [1, 2, 3, 4, 5, 6], f"{counts}")
            self.expected = {"user": "bob", "cart": {"widget": 6}}
            self.agree("after round robin")

            msg = ["info", "welcome back, bob"]
            r1 = self.call(rr, "POST", "/flash", {"category": msg[0], "message": msg[1]})
            r2 = self.call(rr, "GET", "/flashes")
            R.check(
                "round robin: a flash on one backend is popped by the other",
                {self.who(r1, rr), self.who(r2, rr)} == {"flask", "rust"} and r2.json()["flashes"] == [msg],
                f"flash on {self.who(r1, rr)}, pop on {self.who(r2, rr)}: {r2.text[:200]}",
            )
            seen = {}
            for _ in range(2):
                r = self.call(rr, "GET", "/state")
                seen[self.who(r, rr)] = norm(r.json()["session"])
            R.check(
                "round robin: GET /state on each backend, same session",
                set(seen) == {"flask", "rust"} and seen["flask"] == seen["rust"] == norm(self.expected),
                f"{dumps(seen)}",
            )

        self.step("round robin", run)

    # -------------------------------------------------------------- 3: key rotation
    def rotation(self) -> None:
        split = self.split
        self.http.cookies.clear()
        state0 = {"user": "carol", "cart": {"book": 1}}
        saved: dict[str, str] = {}

        def r0_both_k1():
            self.call(split, "POST", "/flask/login", {"user": "carol"})
            self.call(split, "POST", "/rust/cart/add", {"item": "book", "qty": 1})
            self.expected = dict(state0)
            value = jar_value(self.http.cookies)
            saved["k1"] = value
            R.check("step 0 (both K1): the session is signed with K1", verifies(value, K1), value or "")
            self.agree("step 0 (both K1)")

        def r1_flask_accepts_k2():
            self.flask.start(K1, [K2])
            print("#   flask restarted: SECRET_KEY=K1, SECRET_KEY_FALLBACKS=[K2]", flush=True)
            self.agree("step 1 (Flask K1 + fallback K2, Rust K1): the K1 session is valid")
            self.call(split, "POST", "/flask/cart/add", {"item": "lamp", "qty": 1})
            self.expected["cart"] = {"book": 1, "lamp": 1}
            R.check(
                "step 1: Flask still signs with K1",
                verifies(jar_value(self.http.cookies), K1),
                jar_value(self.http.cookies) or "",
            )

        def r2_rust_k2():
            self.rust.start(K2, [K1])
            print("#   rust restarted: SECRET_KEY=K2, SECRET_KEY_FALLBACKS=[K1]", flush=True)
            r = self.call(split, "GET", "/rust/state")
            R.check(
                "step 2 (Rust K2 + fallback K1): Rust reads the K1 session and does not re-issue it on a read",
                norm(r.json()["session"]) == norm(self.expected) and set_cookie_named(r) is None,
                f"{r.text[:200]}; Set-Cookie {set_cookies(r)}",
            )
            self.agree("step 2: the K1 session is valid on both")
            self.call(split, "POST", "/rust/cart/add", {"item": "pen", "qty": 2})
            self.expected["cart"] = {"book": 1, "lamp": 1, "pen": 2}
            value = jar_value(self.http.cookies)
            saved["k2"] = value
            R.check(
                "step 2: the next write (on Rust) re-signs the session under K2",
                verifies(value, K2) and not verifies(value, K1),
                value or "",
            )
            self.agree("step 2: Flask reads Rust's K2 session through its K2 fallback")

            # What step 1 prevents: a Flask that does not accept K2 yet.
            naive = App("flask-k1-only", self.flask_cmd, self.logdir)
            try:
                naive.start(K1, [])
                r = requests.get(naive.base + "/whoami", cookies={"session": value}, timeout=HTTP_TIMEOUT)
                R.check(
                    "without step 1, a K1-only Flask reads Rust's K2 cookie as logged out (200, user null)",
                    r.status_code == 200 and r.json() == {"user": None},
                    f"HTTP {r.status_code}: {r.text[:200]}",
                )
            finally:
                naive.stop()

        def r3_flask_k2():
            self.flask.start(K2, [K1])
            print("#   flask restarted: SECRET_KEY=K2, SECRET_KEY_FALLBACKS=[K1]", flush=True)
            self.agree("step 3 (both K2 + fallback K1): the K2 session is valid")
            # A user who has not come back since step 0 still holds the K1 cookie.
            other = requests.Session()
            put_session(other.cookies, saved["k1"])
            self.agree("step 3: a session written under K1 at step 0 is still valid", state0, client=other)
            self.call(split, "POST", "/flask/counter", client=other)
            value = jar_value(other.cookies)
            saved["k1_resigned"] = value
            R.check(
                "step 3: its next write (on Flask) re-signs it under K2",
                verifies(value, K2) and not verifies(value, K1),
                value or "",
            )

        def r4_drop_k1():
            for app in (self.rust, self.flask):
                app.start(K2, [])
            print("#   both restarted: SECRET_KEY=K2, no fallbacks", flush=True)
            self.agree("step 4 (K1 dropped): the session re-signed at step 2 is valid")
            other = requests.Session()
            put_session(other.cookies, saved["k1_resigned"])
            self.agree("step 4: the session re-signed at step 3 is valid", {**state0, "counter": 1}, client=other)
            stale = requests.Session()
            put_session(stale.cookies, saved["k1"])
            results = {}
            for side in ("flask", "rust"):
                r = self.call(split, "GET", f"/{side}/state", client=stale)
                results[side] = (r.status_code, r.json()["session"], set_cookie_named(r))
            R.check(
                "step 4: a K1-only cookie is rejected cleanly: 200, empty session, no Set-Cookie, on both",
                all(v == (200, {}, None) for v in results.values()),
                f"{results}",
            )
            self.call(split, "POST", "/rust/login", {"user": "carol"}, client=stale)
            value = jar_value(stale.cookies)
            R.check(
                "step 4: logging in again over the K1 cookie starts a fresh K2 session",
                verifies(value, K2) and serializer([K2]).loads(value) == {"user": "carol"},
                value or "",
            )

        self.step("rotation step 0", r0_both_k1)
        self.step("rotation step 1", r1_flask_accepts_k2)
        self.step("rotation step 2", r2_rust_k2)
        self.step("rotation step 3", r3_flask_k2)
        self.step("rotation step 4", r4_drop_k1)

    # -------------------------------------------------------------- 4: large sessions
    def large(self) -> None:
        split, big, stock = self.split, self.big, self.stock
        self.http.cookies.clear()
        text = self.text(20000)
        ctx: dict = {}

        def at_default_budget():
            r = self.call(split, "POST", "/flask/login", {"user": "dave"})
            flask_attrs = attrs_len(set_cookie_named(r))
            r = self.call(split, "POST", "/rust/counter")
            rust_attrs = attrs_len(set_cookie_named(r))
            ctx.update(flask_attrs=flask_attrs, rust_attrs=rust_attrs)
            base = {"user": "dave", "counter": 1}
            blob = fit(K2, base, "blob", text, lambda n: plan_bytes(n, rust_attrs)[0] <= DEFAULT_BUDGET)
            predicted, chunks = plan_bytes(len(mint(K2, {**base, "blob": blob})), rust_attrs)
            r = self.call(split, "POST", "/rust/write/str/blob", {"value": blob})
            got = cookie_line_bytes(self.http.cookies)
            R.check(
                f"a session at the default budget ({got} of {DEFAULT_BUDGET} bytes) is written through nginx as 2 chunks",
                names(self.http.cookies) == ["session", "session.1", "session.2"]
                and chunks == 2
                and DEFAULT_BUDGET - 64 < got <= DEFAULT_BUDGET,
                f"jar {names(self.http.cookies)}, {got} bytes, predicted {predicted} in {chunks} chunks",
            )
            R.check(
                "the chunk layout is the predicted one (Flask's token, split at 4093-byte Set-Cookie lines)",
                got == predicted and all(len(h.split(";")[0]) + rust_attrs <= MAX_COOKIE_BYTES for h in set_cookies(r)),
                f"got {got}, predicted {predicted}; Set-Cookie sizes {[len(h) for h in set_cookies(r)]}",
            )
            self.expected = {**base, "blob": blob}
            rs = self.state("rust")
            R.check(
                "Rust reads it back through nginx's default client header buffers (Cookie line < 8k)",
                norm(rs) == norm(self.expected),
                f"{dumps(rs)[:200]}",
            )
            fs = self.call(split, "GET", "/flask/whoami").json()
            R.check("Flask reads a chunked session as empty: dave is logged out there (200)", fs == {"user": None}, dumps(fs))
            ctx["jar"] = session_cookies(self.http.cookies)

        def over_default_budget():
            before = session_cookies(self.http.cookies)
            r = self.call(split, "POST", "/rust/write/str/extra", {"value": self.text(600)}, status=500)
            R.check(
                "over the default budget: the Rust app's empty 500, not nginx's 400; no Set-Cookie",
                self.who(r, split) == "rust" and r.content == b"" and not set_cookies(r),
                f"answered by {self.who(r, split)}; body {r.content[:100]!r}; Set-Cookie {set_cookies(r)}",
            )
            rs = self.state("rust")
            R.check(
                "over the default budget: the previous session is intact (same cookies, same state)",
                session_cookies(self.http.cookies) == before and norm(rs) == norm(self.expected),
                f"jar changed: {session_cookies(self.http.cookies) != before}; state {dumps(rs)[:200]}",
            )

        def stock_buffers():
            before = session_cookies(self.http.cookies)
            r = self.call(stock, "GET", "/rust/state")
            R.check(
                "stock nginx: reading the 2-chunk session works (the request fits 8k)",
                norm(r.json()["session"]) == norm(self.expected),
                r.text[:200],
            )
            r = self.call(stock, "POST", "/rust/counter", status=502)
            R.check(
                "stock nginx: writing it is a 502 'upstream sent too big header' (proxy_buffer_size 4k); cookies unchanged",
                "upstream sent too big header" in stock.errors() and session_cookies(self.http.cookies) == before,
                f"{tail(stock.error_log, stock.name, 3)}",
            )
            # The same with Flask alone: one cookie near Flask's 4093-byte limit.
            fa = ctx["flask_attrs"]
            blob = fit(K2, {}, "blob", text, lambda n: len("session=") + n + fa <= MAX_COOKIE_BYTES)
            alone = requests.Session()
            r = self.call(split, "POST", "/flask/write/str/blob", {"value": blob}, client=alone)
            size = len(set_cookie_named(r) or "")
            self.call(stock, "POST", "/flask/write/str/blob", {"value": blob}, status=502, client=alone)
            R.check(
                f"stock nginx: even Flask alone fails with a {size}-byte cookie, under its own 4093-byte limit (502)",
                4000 < size <= MAX_COOKIE_BYTES and stock.errors().count("upstream sent too big header") == 2,
                f"Set-Cookie {size} bytes; {tail(stock.error_log, stock.name, 2)}",
            )

        def flask_write_orphans():
            # A copy of the browser: Flask writes a 1.2 KB session over the
            # chunked one. The orphaned chunks plus Flask's cookie overflow
            # nginx's 8k header buffer: every later request is nginx's 400,
            # and no backend is reached that could expire the orphans.
            copy = copy_jar(self.http.cookies)
            self.call(split, "POST", "/flask/write/str/note", {"value": self.text(1200)}, client=copy)
            r1 = self.call(split, "GET", "/flask/whoami", status=400, client=copy)
            r2 = self.call(split, "GET", "/rust/whoami", status=400, client=copy)
            R.check(
                f"Flask writing 1.2 KB over a chunked session: orphans + its cookie = {cookie_line_bytes(copy.cookies)} "
                "bytes, nginx's 400 on every route (locked out)",
                (self.who(r1, split), self.who(r2, split)) == ("nginx", "nginx")
                and names(copy.cookies) == ["session", "session.1", "session.2"],
                f"jar {names(copy.cookies)}",
            )
            r = self.call(split, "POST", "/flask/login", {"user": "erin"})
            R.check(
                "Flask writing over a chunked session leaves session.1/.2 behind (orphans, still sent)",
                names(self.http.cookies) == ["session", "session.1", "session.2"]
                and set_cookie_named(r, "session.1") is None
                and verifies(jar_value(self.http.cookies), K2),
                f"jar {names(self.http.cookies)}; Set-Cookie {[h[:40] for h in set_cookies(r)]}",
            )
            self.expected = {"user": "erin"}
            self.agree("after Flask's write: both read Flask's cookie (the chunked data is gone)")
            self.call(split, "POST", "/rust/counter")
            self.expected["counter"] = 1
            R.check(
                "the next Rust write expires the orphaned chunks",
                names(self.http.cookies) == ["session"],
                f"jar {names(self.http.cookies)}",
            )
            self.agree("after the Rust write")

        def raised_budget():
            base = dict(self.expected)
            ra = ctx["rust_attrs"]
            blob = fit(K2, base, "blob", text, lambda n: plan_bytes(n, ra)[0] <= BIG_BUDGET)
            predicted, chunks = plan_bytes(len(mint(K2, {**base, "blob": blob})), ra)
            self.call(big, "POST", "/rust/write/str/blob", {"value": blob})
            got = cookie_line_bytes(self.http.cookies)
            R.check(
                f"raised budget (MAX_TOTAL_BYTES={BIG_BUDGET}, large_client_header_buffers 4 32k, "
                f"proxy_buffer_size 32k): a {got}-byte session is written as {chunks} chunks",
                got == predicted and BIG_BUDGET - 64 < got <= BIG_BUDGET
                and names(self.http.cookies) == ["session"] + [f"session.{i}" for i in range(1, chunks + 1)],
                f"jar {names(self.http.cookies)}, {got} bytes, predicted {predicted}",
            )
            ctx["big_chunks"] = chunks
            self.expected = {**base, "blob": blob}
            rs = self.state("rust", big)
            R.check("raised budget: Rust reads it back through the raised nginx", norm(rs) == norm(self.expected), dumps(rs)[:200])
            r = self.call(big, "POST", "/rust/write/str/extra", {"value": self.text(600)}, status=500)
            R.check(
                f"raised budget: over {BIG_BUDGET} bytes is again the Rust app's empty 500",
                self.who(r, big) == self.rust_big.name and r.content == b"" and not set_cookies(r),
                f"answered by {self.who(r, big)}; body {r.content[:100]!r}",
            )

        def without_raised_buffers():
            results = {}
            for side in ("rust", "flask"):
                r = self.call(split, "GET", f"/{side}/state", status=400)
                results[side] = (self.who(r, split), "Request Header Or Cookie Too Large" in r.text)
            R.check(
                f"without raised nginx buffers the {cookie_line_bytes(self.http.cookies)}-byte session locks the user out: "
                "nginx's 400 'Request Header Or Cookie Too Large' on every route",
                results == {"rust": ("nginx", True), "flask": ("nginx", True)},
                f"{results}",
            )

        def clear_big():
            r = self.call(big, "POST", "/rust/clear")
            deleted = sorted(h.split("=", 1)[0] for h in set_cookies(r) if "max-age=0" in h.lower() or "1970" in h)
            n = ctx.get("big_chunks", 0)
            R.check(
                f"clearing the 16 KiB session on Rust expires the marker and all {n} chunks",
                n > 0 and not session_cookies(self.http.cookies) and deleted == ["session"] + [f"session.{i}" for i in range(1, n + 1)],
                f"deleted {deleted}; jar {names(self.http.cookies)}",
            )
            self.expected = {}
            self.agree("after clear, the default proxy serves the user again")

        def never_chunk():
            # with_max_chunks(1): a shared session never chunks, so Flask always reads it.
            self.rust.extra_env = {"MAX_CHUNKS": "1"}
            self.rust.start(K2, [])
            print("#   rust restarted with MAX_CHUNKS=1", flush=True)
            self.http.cookies.clear()
            self.call(split, "POST", "/flask/login", {"user": "frank"})
            ra = ctx["rust_attrs"]
            base = {"user": "frank"}
            blob = fit(K2, base, "blob", text, lambda n: plan_bytes(n, ra)[1] == 0)
            r = self.call(split, "POST", "/rust/write/str/blob", {"value": blob})
            size = len(set_cookie_named(r) or "")
            self.expected = {**base, "blob": blob}
            R.check(
                f"MAX_CHUNKS=1: the largest single cookie ({size} bytes) is written",
                names(self.http.cookies) == ["session"] and 4000 < size <= MAX_COOKIE_BYTES,
                f"jar {names(self.http.cookies)}; Set-Cookie {size} bytes",
            )
            self.agree("MAX_CHUNKS=1: Flask reads it")
            before = session_cookies(self.http.cookies)
            r = self.call(split, "POST", "/rust/write/str/more", {"value": "x" * 8}, status=500)
            R.check(
                "MAX_CHUNKS=1: a session that would need chunks is the over-budget 500; nothing written",
                self.who(r, split) == "rust" and not set_cookies(r) and session_cookies(self.http.cookies) == before,
                f"answered by {self.who(r, split)}; Set-Cookie {set_cookies(r)}",
            )
            self.agree("MAX_CHUNKS=1: the session both read is intact")

        self.step("default budget", at_default_budget)
        self.step("over the default budget", over_default_budget)
        self.step("stock nginx buffers", stock_buffers)
        self.step("Flask writes over a chunked session", flask_write_orphans)
        self.step("raised budget", raised_budget)
        self.step("raised budget without raised nginx buffers", without_raised_buffers)
        self.step("clear the raised session", clear_big)
        self.step("never chunk (MAX_CHUNKS=1)", never_chunk)

    # -------------------------------------------------------------- 5: what does not cross
    def unsupported(self) -> None:
        split = self.split

        def flask_only(label: str, path: str, raw: str, key: str, kind: str, same):
            """A value serde_json cannot hold, written by Flask: the Rust side
            keeps the login, and a Rust write hands the value back unchanged."""
            def run():
                c = requests.Session()
                self.call(split, "POST", "/flask/login", {"user": "gina"}, client=c)
                self.call(split, "POST", path, raw=raw, client=c)
                fs = self.call(split, "GET", "/flask/whoami", client=c).json()
                rs = self.call(split, "GET", "/rust/whoami", client=c).json()
                R.check(
                    f"{label} written by Flask: both sides keep the login",
                    fs == {"user": "gina"} and rs == {"user": "gina"},
                    f"flask {dumps(fs)}, rust {dumps(rs)}",
                )
                self.call(split, "POST", "/rust/cart/add", {"item": "sock", "qty": 1}, client=c)
                fs = self.state("flask", client=c)
                types = self.call(split, "GET", "/flask/types", client=c).json()
                R.check(
                    f"{label}: after a Rust write Flask still has it, as a {kind}, beside the login and the cart",
                    fs.get("user") == "gina" and fs.get("cart") == {"sock": 1}
                    and same(fs.get(key)) and types.get(key) == kind,
                    f"{fs!r} {types}",
                )

            return run

        self.step("integer beyond 64 bits", flask_only(
            "an integer beyond 64 bits (2**64)", "/flask/write/int/big",
            '{"value": 18446744073709551616}', "big", "int",
            lambda v: v == 2**64))
        self.step("NaN", flask_only(
            "a NaN (in a tuple)", "/flask/write/tuple/nan", '{"value": [NaN]}', "nan", "tuple",
            lambda v: isinstance(v, list) and len(v) == 1 and math.isnan(v[0])))

    def run(self) -> None:
        for name, proxy in self.proxies.items():
            ok, out = proxy.test_config()
            R.check(f"nginx -t accepts the generated {name} config", ok, out)
        for proxy in self.proxies.values():
            proxy.start()
        print(
            f"# flask {self.flask.addr}, rust {self.rust.addr}, rust-16k {self.rust_big.addr}; nginx "
            + ", ".join(f"{n} :{p.port}" for n, p in self.proxies.items()),
            flush=True,
        )
        print("# 1: user journey through nginx (/flask/..., /rust/...), both on K1", flush=True)
        self.journey()
        print("# 2: one path round-robined across both backends", flush=True)
        self.round_robin()
        print("# 3: rolling key rotation K1 -> K2", flush=True)
        self.rotation()
        print("# 4: large sessions through nginx", flush=True)
        self.large()
        print("# 5: values Flask writes that the Rust side cannot represent", flush=True)
        self.unsupported()
        errors = {n: [l for l in p.errors().splitlines() if "[alert]" in l or "[emerg]" in l or "[crit]" in l] for n, p in self.proxies.items()}
        R.check("no nginx alert/crit/emerg in the error logs", not any(errors.values()), dumps(errors))


def _on_sigterm(signum, _frame) -> None:
    # `timeout` sends SIGTERM: turn it into an exception so `finally` stops the servers.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rust-bin", default=os.path.join(REPO, "target", "debug", "examples", "flask_interop"))
    ap.add_argument("--flask-app", default=os.path.join(REPO, "examples", "flask_interop_app.py"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    args = ap.parse_args()

    if not os.access(args.rust_bin, os.X_OK):
        print(f"rust example binary not found: {args.rust_bin} (cargo build --example flask_interop)", file=sys.stderr)
        return 2
    if not os.access(args.nginx, os.X_OK):
        print(f"nginx not found: {args.nginx} (apt-get install nginx)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="e2e-fleet-") as tmp:
        flask_cmd = [args.python, args.flask_app]
        flask = App("flask", flask_cmd, tmp)
        rust = App("rust", [args.rust_bin], tmp)
        rust_big = App("rust-16k", [args.rust_bin], tmp, {"MAX_TOTAL_BYTES": str(BIG_BUDGET)})
        procs: list[Process] = [flask, rust, rust_big]
        try:
            proxies = {
                "split": Nginx("split", args.nginx, tmp, flask, rust),
                "round-robin": Nginx("round-robin", args.nginx, tmp, flask, rust),
                "big": Nginx("big", args.nginx, tmp, flask, rust_big),
                "stock": Nginx("stock", args.nginx, tmp, flask, rust),
            }
            procs += list(proxies.values())
            flask.start(K1, [])
            rust.start(K1, [])
            rust_big.start(K2, [])  # used in part 4 only, after the rotation to K2
            Suite(flask, rust, rust_big, proxies, flask_cmd, tmp).run()
        except KeyboardInterrupt as e:
            R.check("suite finished before being interrupted", False, repr(e))
        except Exception:  # noqa: BLE001 - a start-up failure is a failed check
            R.check("servers start and answer", False, traceback.format_exc())
        finally:
            for p in reversed(procs):
                p.stop()
        if R.failed:
            for p in procs:
                for t in (p.log_tail(20), tail(getattr(p, "error_log", ""), p.name + " error.log", 20)):
                    if t:
                        print(t)

    print(f"{R.passed} passed, {R.failed} failed", flush=True)
    return 1 if R.failed or R.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
