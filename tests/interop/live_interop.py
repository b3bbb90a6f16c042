#!/usr/bin/env python3
"""Live interop suite: a real Flask app and the Rust example app share ONE cookie jar.

Starts `examples/flask_interop_app.py` (Flask 3.1 under waitress) and the Rust
example binary `flask_interop` on free loopback ports, then alternates requests
between them with a single `requests.Session()` and checks after every step
that both sides report the same session (and the one this driver expects).

Usage (normally through tests/interop/run.sh):
  target/venv/bin/python tests/interop/live_interop.py \
      --rust-bin target/debug/examples/flask_interop

Prints one line per check and ends with `N passed, M failed`; exits 1 on any
failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import hashlib
import json
import random
import string
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

import requests
from flask import Flask
from flask.sessions import session_json_serializer
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
HTTP_TIMEOUT = 10  # seconds, every request
READY_TIMEOUT = 60  # seconds, server start-up
MAX_AGE = 31 * 24 * 3600  # Flask's default PERMANENT_SESSION_LIFETIME

# >= 32 bytes each, so the Rust side does not warn about short keys.
K1 = "interop-key-one--0123456789abcdef0123"
K0 = "interop-key-zero-0123456789abcdef0123"
K2 = "interop-key-two--0123456789abcdef0123"
K_UNKNOWN = "interop-key-nobody-knows-0123456789abcdef"


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
            for line in detail.splitlines():
                print(f"       {line}", flush=True)
        return ok


R = Results()


class HttpError(Exception):
    pass


# --------------------------------------------------------------------------- servers


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the driver dies (Linux), so no server outlives it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort, try/finally still stops them
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, cmd: list[str], logdir: str) -> None:
        self.name = name
        self.cmd = cmd
        self.logdir = logdir
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = ""
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, secret: str, fallbacks: list[str]) -> None:
        self.stop()
        self.starts += 1
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            SECRET_KEY=secret,
            SECRET_KEY_FALLBACKS=",".join(fallbacks),
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            NO_COLOR="1",
        )
        env.setdefault("RUST_LOG", "warn")
        self.log_path = os.path.join(self.logdir, f"{self.name}-{self.starts}.log")
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                self.cmd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            log.close()
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}\n{self.log_tail()}")
            try:
                r = requests.get(self.base + "/state", timeout=2)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {READY_TIMEOUT}s on {self.base}: {last}\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(f"[{self.name} log] {l}" for l in lines[-n:])
        except OSError:
            return ""

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


# --------------------------------------------------------------------------- helpers


def serializer(keys: list[str], signer=TimestampSigner) -> URLSafeTimedSerializer:
    """Exactly what Flask's SecureCookieSessionInterface builds (keys oldest -> newest)."""
    return URLSafeTimedSerializer(
        keys,
        salt="cookie-session",
        serializer=session_json_serializer,
        signer=signer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


_MINT_APP = Flask("interop-minter")


def mint(key: str, data: dict, timestamp: int | None = None) -> str:
    """A session cookie value as a Flask app with SECRET_KEY=key would write it."""
    signer = TimestampSigner
    if timestamp is not None:

        class FixedSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return timestamp

        signer = FixedSigner
    with _MINT_APP.app_context():  # sort_keys=True, as in a real save_session
        return serializer([key], signer).dumps(data)


def jar_session_cookies(jar) -> list:
    return [c for c in jar if c.name == "session"]


def jar_session_value(jar) -> str | None:
    cs = jar_session_cookies(jar)
    if len(cs) > 1:
        raise AssertionError(f"jar holds {len(cs)} 'session' cookies: {[(c.domain, c.path) for c in cs]}")
    return cs[0].value if cs else None


def put_cookie(jar, value: str) -> None:
    for c in jar_session_cookies(jar):
        jar.clear(c.domain, c.path, c.name)
    jar.set("session", value, domain=HOST, path="/")


def set_cookies(r: requests.Response) -> list[str]:
    return list(r.raw.headers.getlist("Set-Cookie")) if r.raw is not None else []


def session_set_cookie(r: requests.Response) -> str | None:
    found = [h for h in set_cookies(r) if h.split("=", 1)[0].strip() == "session"]
    return found[-1] if found else None


def cookie_attrs(header: str) -> dict[str, str]:
    attrs = {}
    for part in header.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        attrs[k.strip().lower()] = v.strip()
    return attrs


def dumps(v) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def norm(state: dict) -> dict:
    """`_permanent: false` and an absent `_permanent` mean the same (Flask writes the former)."""
    state = dict(state)
    if state.get("_permanent") is False:
        del state["_permanent"]
    return state


# --------------------------------------------------------------------------- the suite


class Suite:
    def __init__(self, rust: Server, flask: Server) -> None:
        self.rust = rust
        self.flask = flask
        self.http = requests.Session()  # THE cookie jar shared by both sides
        self.expected: dict = {}
        self.key = K1  # the current SECRET_KEY of both servers
        self.rust_cookies: list[str] = []  # every non-empty session cookie Rust issued
        self.rust_mismatches: list[str] = []

    # ---- HTTP
    def req(self, side: Server, method: str, path: str, body=None, status: int = 200) -> requests.Response:
        url = side.base + path
        r = self.http.request(method, url, json=body, timeout=HTTP_TIMEOUT)
        if r.status_code != status:
            raise HttpError(
                f"{method} {side.name}{path} body={dumps(body)}\n"
                f"expected HTTP {status}, got {r.status_code}: {r.text[:500]}\n{side.log_tail(10)}"
            )
        if side is self.rust:
            self.compare_with_flask_encoding(r)
        return r

    def compare_with_flask_encoding(self, r: requests.Response) -> None:
        """A cookie Rust issues must be byte-identical to what Flask writes for
        the same session at the same second (same key, sorted compact JSON,
        same zlib decision and bytes, same timestamp encoding)."""
        sc = session_set_cookie(r)
        if sc is None:
            return
        value = sc.split(";", 1)[0].split("=", 1)[1].strip()
        if not value:
            return
        self.rust_cookies.append(value)
        try:
            data, ts = serializer([self.key]).loads(value, max_age=MAX_AGE, return_timestamp=True)
        except BadSignature as e:
            self.rust_mismatches.append(f"{r.request.method} {r.request.path_url}: {e!r} on {value!r}")
            return
        flask_value = mint(self.key, data, timestamp=int(ts.timestamp()))
        if flask_value != value:
            self.rust_mismatches.append(
                f"{r.request.method} {r.request.path_url}:\n  rust : {value}\n  flask: {flask_value}"
            )

    def check_byte_identity(self, label: str) -> None:
        n = len(self.rust_cookies)
        compressed = sum(v.startswith(".") for v in self.rust_cookies)
        R.check(
            f"{label}: all {n} cookies issued by rust are byte-identical to Flask's encoding",
            n > 0 and not self.rust_mismatches,
            "\n".join(self.rust_mismatches[:5]) or "no cookie issued",
        )
        R.check(
            f"{label}: rust issued zlib-compressed cookies too ({compressed} of {n}), read by Flask",
            compressed > 0,
            "no compressed cookie was issued: grow the session in the scenario",
        )
        self.rust_cookies.clear()
        self.rust_mismatches.clear()

    def state(self, side: Server) -> dict:
        return self.req(side, "GET", "/state").json()["session"]

    def step(self, name: str, fn) -> None:
        """Run one step; an exception is one failed check (with the request that broke)."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - reported, suite goes on
            detail = str(e) if isinstance(e, (HttpError, AssertionError)) else traceback.format_exc()
            R.check(name, False, detail)
            self.resync()

    def resync(self) -> None:
        """After a failure, continue from what Flask sees, to avoid cascades."""
        try:
            self.expected = norm(self.state(self.flask))
        except Exception:  # noqa: BLE001
            pass

    def agree(self, label: str) -> bool:
        """Both sides report the same session, equal to the driver's model."""
        rs = self.state(self.rust)
        fs = self.state(self.flask)
        ok = norm(rs) == norm(fs) == norm(self.expected)
        detail = (
            f"expected: {dumps(self.expected)}\n"
            f"rust    : {dumps(rs)}\n"
            f"flask   : {dumps(fs)}\n"
            f"cookie  : {jar_session_value(self.http.cookies)}"
        )
        if not ok:
            self.expected = norm(fs)
        return R.check(f"{label}: rust /state == flask /state == expected", ok, detail)

    def flask_types(self, label: str, want: dict) -> None:
        types = self.req(self.flask, "GET", "/types").json()
        got = {k: types.get(k) for k in want}
        R.check(f"{label}: Flask sees Python types {dumps(want)}", got == want, f"want {dumps(want)}\ngot  {dumps(types)}")

    # ---- scenario pieces
    def counter(self, side: Server) -> requests.Response:
        n = self.expected.get("counter", 0) + 1
        r = self.req(side, "POST", "/counter")
        self.expected["counter"] = n
        got = r.json().get("counter")
        R.check(f"counter on {side.name} -> {n}", got == n, f"POST {side.name}/counter: expected {n}, got {got}")
        return r

    def write(self, side: Server, kind: str, key: str, value, natural) -> requests.Response:
        r = self.req(side, "POST", f"/write/{kind}/{key}", {"value": value})
        self.expected[key] = natural
        return r

    # -------------------------------------------------------------- phase 1: one key
    def run_phase1(self) -> None:
        rust, flask = self.rust, self.flask

        def counters():
            r = self.counter(rust)
            sc = session_set_cookie(r)
            attrs = cookie_attrs(sc or "")
            R.check(
                "rust Set-Cookie: session=…; HttpOnly; Path=/; not Secure; not permanent",
                sc is not None
                and "httponly" in attrs
                and attrs.get("path") == "/"
                and "secure" not in attrs
                and "expires" not in attrs
                and "max-age" not in attrs,
                f"Set-Cookie headers: {set_cookies(r)}",
            )
            self.agree("after counter on rust")
            self.counter(flask)
            self.agree("after counter on flask")
            self.counter(rust)
            self.agree("after counter on rust again")

        self.step("counters", counters)

        kinds = [
            # kind, key suffix, request value, natural form, Python type name
            ("str", "s", "h\u00e9llo \u2603 \U0001f600 <b>&\"\\\x7f", "h\u00e9llo \u2603 \U0001f600 <b>&\"\\\x7f", "str"),
            ("int", "i", 2**40 + 7, 2**40 + 7, "int"),
            ("int", "neg", -12, -12, "int"),
            ("tuple", "t", [1, "a", None, [2, 3], {"k": "v"}, True, 1.5], [1, "a", None, [2, 3], {"k": "v"}, True, 1.5], "tuple"),
            ("tuple", "t0", [], [], "tuple"),
            ("bytes", "b", [0, 1, 10, 127, 128, 254, 255], [0, 1, 10, 127, 128, 254, 255], "bytes"),
            ("bytes", "b0", [], [], "bytes"),
            ("datetime", "d", 1709233199, "2024-02-29T18:59:59Z", "datetime"),
            ("uuid", "u", "12345678-1234-5678-1234-567812345678", "12345678-1234-5678-1234-567812345678", "UUID"),
            ("markup", "m", "<b>bold</b> & \u00e9", "<b>bold</b> & \u00e9", "Markup"),
        ]

        def writes_from(writer: Server, reader: Server, suffix: str):
            def run():
                types = {}
                for kind, key, value, natural, tname in kinds:
                    k = f"{key}_{suffix}"
                    self.write(writer, kind, k, value, natural)
                    self.agree(f"{kind} {k!r} written on {writer.name}, read on {reader.name}")
                    types[k] = tname
                self.flask_types(f"values written on {writer.name}", types)
                if writer is flask:
                    # Rust re-serializes every Flask-typed value on its next write:
                    # the Python types must survive that round trip.
                    self.counter(rust)
                    self.agree("after rust rewrote the Flask-typed values")
                    self.flask_types("Flask-written values after a rust rewrite", types)

            return run

        self.step("write each kind on rust", writes_from(rust, flask, "r"))
        self.step("write each kind on flask", writes_from(flask, rust, "f"))

        def flashes(writer: Server, reader: Server):
            def run():
                msgs = [["info", f"hello from {writer.name}"], ["error", "\u00fcn\u00efc\u00f8de <x> & \U0001f600"], ["message", ""]]
                for cat, msg in msgs:
                    self.req(writer, "POST", "/flash", {"category": cat, "message": msg})
                self.expected["_flashes"] = [list(m) for m in msgs]
                self.agree(f"{len(msgs)} flashes on {writer.name} visible on both")
                got = self.req(reader, "GET", "/flashes").json()["flashes"]
                R.check(
                    f"flashes from {writer.name} popped on {reader.name}",
                    got == msgs,
                    f"GET {reader.name}/flashes: expected {dumps(msgs)}, got {dumps(got)}",
                )
                self.expected.pop("_flashes", None)
                self.agree(f"no flashes left after popping on {reader.name}")
                again = self.req(writer, "GET", "/flashes").json()["flashes"]
                R.check(f"{writer.name} sees no flashes after the pop", again == [], f"got {dumps(again)}")

            return run

        self.step("flash on rust, pop on flask", flashes(rust, flask))
        self.step("flash on flask, pop on rust", flashes(flask, rust))

        def permanent():
            now = dt.datetime.now(dt.timezone.utc)

            def expires_of(r, who):
                sc = session_set_cookie(r)
                exp = cookie_attrs(sc or "").get("expires")
                if not exp:
                    return None, f"{who} Set-Cookie headers: {set_cookies(r)}"
                return email.utils.parsedate_to_datetime(exp), sc

            r = self.req(flask, "POST", "/permanent", {"on": True})
            self.expected["_permanent"] = True
            exp, info = expires_of(r, "flask")
            R.check("flask: permanent session cookie carries Expires", exp is not None, info)
            self.agree("permanent set on flask")

            r = self.counter(rust)
            exp, info = expires_of(r, "rust")
            R.check(
                "rust preserves the Flask-set permanent flag: Set-Cookie carries Expires ~31 days ahead",
                exp is not None and now + dt.timedelta(days=7) < exp < now + dt.timedelta(days=400),
                f"Expires={exp}; {info}",
            )
            self.agree("permanent preserved through a rust write")

            for side in (rust, flask):  # SESSION_REFRESH_EACH_REQUEST (default True)
                r = self.req(side, "GET", "/state")
                exp, info = expires_of(r, side.name)
                R.check(
                    f"{side.name}: a read-only request on a permanent session re-issues it with Expires",
                    exp is not None and exp > now + dt.timedelta(days=7),
                    f"Expires={exp}; {info}",
                )

            self.req(rust, "POST", "/permanent", {"on": False})
            self.expected["_permanent"] = False
            self.agree("permanent cleared on rust")
            r = self.counter(flask)
            sc = session_set_cookie(r)
            R.check(
                "flask honours permanent=false set by rust: no Expires",
                sc is not None and "expires" not in cookie_attrs(sc),
                f"flask Set-Cookie headers: {set_cookies(r)}",
            )

            self.req(rust, "POST", "/permanent", {"on": True})
            self.expected["_permanent"] = True
            self.agree("permanent set on rust")
            r = self.counter(flask)
            exp, info = expires_of(r, "flask")
            R.check(
                "flask honours the rust-set permanent flag: Set-Cookie carries Expires",
                exp is not None and exp > now + dt.timedelta(days=7),
                f"Expires={exp}; {info}",
            )
            self.agree("permanent preserved through a flask write")

        self.step("permanent sessions", permanent)

        def clear():
            r = self.req(rust, "POST", "/clear")
            self.expected = {}
            sc = session_set_cookie(r)
            R.check(
                "rust clear deletes the cookie (Set-Cookie session=; expired)",
                sc is not None and jar_session_value(self.http.cookies) in (None, ""),
                f"Set-Cookie headers: {set_cookies(r)}; jar value: {jar_session_value(self.http.cookies)!r}",
            )
            self.agree("after clear on rust, flask sees an empty session")
            self.counter(flask)
            self.agree("fresh session after clear")
            self.req(flask, "POST", "/clear")
            self.expected = {}
            self.agree("after clear on flask, rust sees an empty session")

        self.step("clear", clear)

    # -------------------------------------------------------------- phase 2: key rotation
    def run_phase2(self) -> None:
        rust, flask = self.rust, self.flask
        typed = {
            "user": "alice",
            "counter": 10,
            "t": ("x", 2, None),
            "b": b"\x00\xffrot",
            "u": uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100"),
            "d": dt.datetime(2024, 2, 29, 18, 59, 59, tzinfo=dt.timezone.utc),
            "m": Markup("<i>rotated</i>"),
        }
        natural = {
            "user": "alice",
            "counter": 10,
            "t": ["x", 2, None],
            "b": [0, 255, 114, 111, 116],
            "u": "0f0e0d0c-0b0a-0908-0706-050403020100",
            "d": "2024-02-29T18:59:59Z",
            "m": "<i>rotated</i>",
        }
        py_types = {"t": "tuple", "b": "bytes", "u": "UUID", "d": "datetime", "m": "Markup", "counter": "int"}

        def check_k2_signed(label: str, want_counter: int, old_key: str, old_name: str):
            value = jar_session_value(self.http.cookies)
            try:
                data = serializer([K2]).loads(value, max_age=MAX_AGE)
            except BadSignature as e:
                R.check(f"{label}: cookie re-signed with the new key K2", False, f"K2-only serializer: {e!r}; cookie {value!r}")
                return
            R.check(f"{label}: cookie re-signed with the new key K2", True)
            try:
                serializer([old_key]).loads(value, max_age=MAX_AGE)
                old_ok = True
            except BadSignature:
                old_ok = False
            R.check(f"{label}: cookie no longer verifies with the old key {old_name}", not old_ok, f"cookie {value!r}")
            got = {k: type(v).__name__ for k, v in data.items() if k in py_types}
            R.check(
                f"{label}: K2 cookie decodes (itsdangerous) to the typed values, counter={want_counter}",
                got == py_types and data.get("counter") == want_counter and data.get("t") == typed["t"]
                and data.get("b") == typed["b"] and data.get("u") == typed["u"] and data.get("d") == typed["d"],
                f"decoded: {data!r}",
            )

        def fallback_k1():
            put_cookie(self.http.cookies, mint(K1, typed))
            self.expected = dict(natural)
            self.agree("cookie signed with fallback K1 accepted by both")
            for side in (rust, flask):
                r = self.req(side, "GET", "/state")
                R.check(
                    f"{side.name}: reading a fallback-signed cookie does not re-issue it (as Flask)",
                    session_set_cookie(r) is None,
                    f"GET {side.name}/state Set-Cookie: {set_cookies(r)}",
                )
            self.flask_types("K1 cookie", py_types)
            r = self.counter(rust)
            R.check("rust re-issued the K1 cookie on write", session_set_cookie(r) is not None, f"{set_cookies(r)}")
            check_k2_signed("after a rust write", 11, K1, "K1")
            self.agree("flask reads the rust-re-signed cookie")
            self.flask_types("rust-re-signed cookie", py_types)

        def fallback_k0():
            # K0 is the FIRST of two fallbacks ("K0,K1"): both must be tried.
            put_cookie(self.http.cookies, mint(K0, typed))
            self.expected = dict(natural)
            self.agree("cookie signed with the first fallback K0 accepted by both")
            self.counter(flask)
            check_k2_signed("after a flask write (control)", 11, K0, "K0")
            self.agree("rust reads the flask-re-signed cookie")

        def reject(label: str, value: str):
            def run():
                put_cookie(self.http.cookies, value)
                self.expected = {}
                self.agree(f"{label}: rejected (empty session) on both")

            return run

        def fresh_after_unknown():
            put_cookie(self.http.cookies, mint(K_UNKNOWN, {"counter": 41, "user": "mallory"}))
            self.expected = {}
            self.counter(rust)
            value = jar_session_value(self.http.cookies)
            try:
                data = serializer([K2]).loads(value, max_age=MAX_AGE)
            except BadSignature as e:
                data = repr(e)
            R.check("rust write over an unknown-key cookie starts a fresh K2 session", data == {"counter": 1}, f"{data!r}")
            self.agree("fresh session after rejected cookie")

        good = mint(K2, {"counter": 3})
        payload, ts, sig = good.rsplit(".", 2)
        tampered_sig = f"{payload}.{ts}.{('A' if sig[0] != 'A' else 'B') + sig[1:]}"
        now = int(time.time())

        self.step("fallback key K1", fallback_k1)
        self.step("fallback key K0", fallback_k0)
        self.step("unknown key", reject("cookie signed with an unknown key", mint(K_UNKNOWN, {"counter": 41})))
        self.step("tampered signature", reject("cookie with a tampered signature", tampered_sig))
        self.step("expired", reject("K2 cookie 32 days old", mint(K2, {"counter": 5}, timestamp=now - 32 * 24 * 3600)))
        self.step("future", reject("K2 cookie from the future", mint(K2, {"counter": 5}, timestamp=now + 3600)))
        self.step("fresh session after unknown key", fresh_after_unknown)

    # -------------------------------------------------------------- phase 3: large sessions
    def run_phase3(self) -> None:
        """Flask reads every session that fits one cookie; a chunked one is
        Rust-only (Flask sees a bad signature: an empty session, no error)."""
        rust, flask = self.rust, self.flask
        rng = random.Random(7)
        alphabet = string.ascii_letters + string.digits

        def text(n: int) -> str:
            return "".join(rng.choice(alphabet) for _ in range(n))

        def jar_names() -> list[str]:
            return sorted(c.name for c in self.http.cookies if c.name == "session" or c.name.startswith("session."))

        def near_limit():
            self.req(rust, "POST", "/clear")
            self.expected = {}
            big = text(3700)
            r = self.write(rust, "str", "big", big, big)
            sc = session_set_cookie(r) or ""
            R.check(
                "a ~3.9 KB session is one cookie under 4093 bytes",
                3500 < len(sc) <= 4093 and jar_names() == ["session"],
                f"{len(sc)} bytes, jar {jar_names()}",
            )
            self.agree("flask reads the largest single-cookie sessions rust writes")

        def chunked():
            huge = text(6000)
            self.write(rust, "str", "big", huge, huge)
            R.check("a ~8 KB session is chunked", jar_names() == ["session", "session.1", "session.2"], f"jar {jar_names()}")
            got_rust = norm(self.state(rust))
            R.check("rust reads the chunked session back", got_rust == norm(self.expected), f"{dumps(got_rust)[:200]}")
            got_flask = self.state(flask)
            R.check("flask sees a chunked session as empty, without an error", got_flask == {}, f"{dumps(got_flask)[:200]}")

        def shrink():
            self.write(rust, "str", "big", "small again", "small again")
            R.check("shrinking back to one cookie expires the chunks", jar_names() == ["session"], f"jar {jar_names()}")
            self.agree("flask reads the session again once it fits one cookie")

        self.step("near limit", near_limit)
        self.step("chunked", chunked)
        self.step("shrink", shrink)

    # -------------------------------------------------------------- phase 4: Compression::Auto
    def run_phase4(self) -> None:
        """Cookies deflated by the default policy (libdeflate, not zlib's
        bytes) are read by Flask, and Flask's rewrites by Rust."""
        os.environ["COMPRESSION"] = "auto"
        try:
            self.rust.start(self.key, [K0, K1])
        finally:
            del os.environ["COMPRESSION"]

        def auto():
            self.req(self.rust, "POST", "/clear")
            self.expected = {}
            value = "flask reads libdeflate streams " * 100
            r = self.write(self.rust, "str", "big", value, value)
            sc = session_set_cookie(r) or ""
            token = sc.split(";", 1)[0].split("=", 1)[-1]
            R.check("Compression::Auto: rust wrote a deflated cookie", token.startswith("."), token[:40])
            self.agree("flask reads a cookie rust deflated with libdeflate")
            self.counter(self.flask)
            self.agree("rust reads flask's rewrite of it")

        self.step("auto compression", auto)
        # Not Flask's bytes by design: leave them out of the identity check.
        self.rust_cookies.clear()
        self.rust_mismatches.clear()

    # ------------------------------------------- phase 5: lifecycle and clock skew
    def run_phase5(self) -> None:
        """The login stamp Rust writes crosses Flask untouched; clocks 2 s apart."""

        def stamp():
            self.req(self.rust, "POST", "/clear")
            self.expected = {}
            self.counter(self.flask)
            issued = self.req(self.rust, "POST", "/renew").json().get("issued_at_us")
            R.check("rust renew: a login stamp", isinstance(issued, int), f"{issued!r}")
            fs = self.state(self.flask)
            got = fs.get("_tcs_login")
            R.check(
                "flask reads the reserved key _tcs_login: {at_us, nonce}",
                isinstance(got, dict) and got.get("at_us") == issued and isinstance(got.get("nonce"), str),
                dumps(fs),
            )
            self.expected["_tcs_login"] = got
            self.counter(self.flask)
            self.write(self.flask, "str", "from_flask", "x", "x")
            self.agree("flask wrote twice: the stamp is kept")
            again = self.req(self.rust, "GET", "/issued").json().get("issued_at_us")
            R.check("rust reads the same login stamp after flask's writes", again == issued, f"{again!r} vs {issued!r}")

        def flask_ahead():
            os.environ["CLOCK_OFFSET"] = "2"
            try:
                self.flask.start(self.key, [K0, K1])
            finally:
                del os.environ["CLOCK_OFFSET"]
            self.req(self.rust, "POST", "/clear")
            self.expected = {}
            lost = []
            for i in range(30):
                side = self.flask if i % 2 == 0 else self.rust
                want = self.expected.get("counter", 0) + 1
                got = self.req(side, "POST", "/counter").json().get("counter")
                self.expected["counter"] = want
                if got != want:
                    lost.append(f"#{i + 1} on {side.name}: {got} != {want}")
                    self.expected["counter"] = got if isinstance(got, int) else want
            R.check(
                "flask's clock 2 s ahead: 30 alternating requests, no session lost (rust accepts up to 5 s of skew)",
                not lost,
                "\n".join(lost),
            )
            self.flask.start(self.key, [K0, K1])

        def rust_ahead():
            os.environ["CLOCK_OFFSET_SECS"] = "2"
            try:
                self.rust.start(self.key, [K0, K1])
            finally:
                del os.environ["CLOCK_OFFSET_SECS"]
            self.req(self.rust, "POST", "/clear")
            self.expected = {}
            self.counter(self.flask)
            self.counter(self.rust)
            fs = self.state(self.flask)
            # The documented outcome: itsdangerous rejects any timestamp in
            # the future, so a Flask node behind reads the Rust node's fresh
            # cookie as no session until its clock passes the timestamp.
            R.check(
                "rust's clock 2 s ahead: flask reads rust's fresh cookie as no session (documented)",
                fs == {},
                dumps(fs),
            )
            time.sleep(2.5)
            fs = self.state(self.flask)
            R.check(
                "once flask's clock passes the timestamp, it reads the session",
                fs.get("counter") == 2,
                dumps(fs),
            )
            self.rust.start(self.key, [K0, K1])

        self.step("login stamp crosses flask", stamp)
        R.check(
            f"phase 5: the {len(self.rust_cookies)} stamped cookies rust issued are byte-identical to Flask's encoding",
            bool(self.rust_cookies) and not self.rust_mismatches,
            "\n".join(self.rust_mismatches[:5]) or "no cookie issued",
        )
        self.rust_cookies.clear()
        self.rust_mismatches.clear()
        self.step("flask ahead", flask_ahead)
        self.step("rust ahead", rust_ahead)
        # A node ahead signs timestamps Flask rejects: not Flask's bytes.
        self.rust_cookies.clear()
        self.rust_mismatches.clear()

    def run(self) -> None:
        print(f"# phase 1: SECRET_KEY=K1 (rust {self.rust.base}, flask {self.flask.base})", flush=True)
        self.run_phase1()
        self.check_byte_identity("phase 1")
        print("# phase 2: restart both with SECRET_KEY=K2, SECRET_KEY_FALLBACKS=K0,K1", flush=True)
        for s in (self.rust, self.flask):
            s.start(K2, [K0, K1])
        self.key = K2
        print(f"#   rust {self.rust.base}, flask {self.flask.base}", flush=True)
        self.run_phase2()
        self.check_byte_identity("phase 2")
        print("# phase 3: large sessions", flush=True)
        self.run_phase3()
        print("# phase 4: Compression::Auto", flush=True)
        self.run_phase4()
        print("# phase 5: login stamp, clock skew", flush=True)
        self.run_phase5()


def _on_sigterm(signum, _frame) -> None:
    # `timeout` sends SIGTERM: turn it into an exception so `finally` stops the servers.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rust-bin", default=os.path.join(REPO, "target", "debug", "examples", "flask_interop"))
    ap.add_argument("--flask-app", default=os.path.join(REPO, "examples", "flask_interop_app.py"))
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()

    if not os.access(args.rust_bin, os.X_OK):
        print(f"rust example binary not found: {args.rust_bin} (cargo build --example flask_interop)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="interop-logs-") as logdir:
        rust = Server("rust", [args.rust_bin], logdir)
        flask = Server("flask", [args.python, args.flask_app], logdir)
        try:
            for s in (rust, flask):
                s.start(K1, [])
            Suite(rust, flask).run()
        except KeyboardInterrupt as e:
            R.check("suite finished before being interrupted", False, repr(e))
        except Exception:  # noqa: BLE001 - a start-up failure is a failed check
            R.check("servers start and answer", False, traceback.format_exc())
        finally:
            for s in (rust, flask):
                s.stop()
        if R.failed:
            for s in (rust, flask):
                tail = s.log_tail(40)
                if tail:
                    print(tail)

    print(f"{R.passed} passed, {R.failed} failed", flush=True)
    return 1 if R.failed or R.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
