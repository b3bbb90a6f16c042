#!/usr/bin/env python3
"""Live login/CSRF suite: a real Python app and its Rust twin share the login and
the CSRF protection through ONE cookie jar.

For one framework (flask or django) it starts the Python app
(examples/flask_login_interop_app.py: Flask-Login + Flask-WTF;
examples/django_auth_interop_app.py: django.contrib.auth + CsrfViewMiddleware)
and the Rust example (flask_login_interop / django_auth_interop) with the same
SECRET_KEY and the same extra environment, then logs in on one side and acts on
the other with a single `requests.Session` (fixed User-Agent). Both apps
implement the same contract:

  GET  /ping      {"ok": true} (plain "ok" is accepted too)
  GET  /whoami    {"user": "<id>" | null[, "fresh": bool (flask)]}
  GET  /form      HTML with <input type="hidden" name="<csrf field>" value="TOKEN">
  POST /login     form: <csrf field>, user_id[, remember "1"|"" (flask)] -> {"user": id}
  POST /logout    form: <csrf field> -> {"user": null}
  POST /submit    form: <csrf field>, text; or the token in a header -> {"ok": true, "text": text}
  POST /password  (django, python only) form: <csrf field>, user_id, password -> {"ok": true}

A CSRF refusal is the status in the framework's `refused` entry below (Flask-WTF
400, Django 403; the Rust apps always 403). Everything a framework differs in is
one entry of FRAMEWORKS.

Scenarios: 1 login in every pairing, 2 forms across sides and refusals,
3 (django) CSRF secret rotation at login, 4 (django) a password change logs the
other side out, 5 (django) key rotation, 6 (flask) remember-me,
7 (flask) SESSION_PROTECTION=strong. 5 and 7 restart both servers.

Usage (normally through tests/live/run.sh flask-login | django-auth):
  target/venv/bin/python tests/live/login.py --framework flask \\
      --rust-bin target/debug/examples/flask_login_interop

Without the Rust binary, run the Python app against itself (its refusals are
then Python's, hence --rust-refuses-with):
  target/venv/bin/python tests/live/login.py --framework flask \\
      --rust-cmd "target/venv/bin/python examples/flask_login_interop_app.py" --rust-refuses-with 400

Prints one line per check (`ok   - name` / `FAIL - name` plus detail), `#`
lines for information and timings, and `N passed, M failed`; exits 1 on any
failure.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import shlex
import subprocess
import sys
import time
import zlib

import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from servers import (  # tests/live/servers.py: the infrastructure shared by the live suites
    HTTP_TIMEOUT,
    REPO,
    HttpError,
    R,
    Server,
    cookie_name,
    cookie_value,
    dumps,
    info,
    is_deletion,
    run_live,
    run_scenarios,
    run_step,
    rust_command,
    set_cookies,
)

# >= 32 bytes each, so the Rust side does not warn about short keys.
K0 = "login-key-zero-0123456789abcdef0123456789"
K1 = "login-key-one--0123456789abcdef0123456789"
K_OTHER = "login-key-nobody-knows-0123456789abcdef0"

USER_AGENT = "tower-cookie-session-live-login/1.0"
OTHER_AGENT = "some-other-browser/2.0"
USER = "42"
TRUSTED_ORIGIN = "http://trusted.example"
EVIL_ORIGIN = "http://evil.example"

# Per-framework knowledge. A new framework is one entry here plus its app.
#   cookie          session cookie name
#   csrf_field      form field of the CSRF token
#   token_headers   headers a token may travel in instead of the form field
#   refused         HTTP status of a CSRF refusal, per side
#   fresh           /whoami reports "fresh" (Flask-Login)
#   remember        name of the remember-me cookie, None when the framework has none
#   csrf_cookie     the cookie holding the CSRF secret (Django), None when it lives in the session
#   needs_db        the apps share DB_PATH/USERS_FILE; the harness runs `<python app> --init` first
#   extra_env       given to both apps at every start
#   scenarios       which scenarios apply
FRAMEWORKS: dict[str, dict] = {
    "flask": dict(
        cookie="session",
        csrf_field="csrf_token",
        token_headers=["X-CSRFToken", "X-CSRF-Token"],
        refused={"python": 400, "rust": 403},
        fresh=True,
        remember="remember_token",
        csrf_cookie=None,
        needs_db=False,
        extra_env={"SESSION_PROTECTION": "basic", "WTF_CSRF_TIME_LIMIT": "3600"},
        scenarios={1, 2, 6, 7},
        app=os.path.join(REPO, "examples", "flask_login_interop_app.py"),
        rust_example="flask_login_interop",
    ),
    "django": dict(
        cookie="sessionid",
        csrf_field="csrfmiddlewaretoken",
        token_headers=["X-CSRFToken"],
        refused={"python": 403, "rust": 403},
        fresh=False,
        remember=None,
        csrf_cookie="csrftoken",
        needs_db=True,
        extra_env={"CSRF_TRUSTED_ORIGINS": TRUSTED_ORIGIN},
        scenarios={1, 2, 3, 4, 5},
        app=os.path.join(REPO, "examples", "django_auth_interop_app.py"),
        rust_example="django_auth_interop",
    ),
}


def ping_ok(r: requests.Response) -> bool:
    if r.status_code != 200:
        return False
    if r.text.strip() == "ok":
        return True
    try:
        return r.json() == {"ok": True}
    except ValueError:
        return False


def new_jar() -> requests.Session:
    jar = requests.Session()
    jar.headers["User-Agent"] = USER_AGENT
    return jar


def flip_middle(token: str) -> str:
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def flask_session_payload(value: str) -> dict:
    """The JSON inside a Flask session cookie, without verifying it."""
    compressed = value.startswith(".")
    data = (value[1:] if compressed else value).split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def mint_wtf_token(secret: str, raw: str, age: int = 0) -> str:
    """A Flask-WTF token for the raw session value, issued `age` seconds ago."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token", signer=Signer).dumps(raw)


FORM_INPUT = re.compile(r"<input\b[^>]*>", re.I)
ATTR = re.compile(r'([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|\'([^\']*)\')')


def hidden_value(page: str, field: str) -> str | None:
    for tag in FORM_INPUT.findall(page):
        attrs = {m.group(1).lower(): html.unescape(m.group(3) if m.group(3) is not None else m.group(4)) for m in ATTR.finditer(tag)}
        if attrs.get("name") == field:
            return attrs.get("value")
    return None


# --------------------------------------------------------------------------- the suite


class Suite:
    def __init__(self, fw: str, python: Server, rust: Server, env: dict, refused: dict) -> None:
        self.fw = fw
        self.spec = FRAMEWORKS[fw]
        self.cookie = self.spec["cookie"]
        self.field = self.spec["csrf_field"]
        self.py = python
        self.rs = rust
        self.env = dict(env)  # extra env of both apps (table + DB paths)
        self.refused = refused
        self.http = new_jar()  # THE cookie jar shared by both sides

    # ---- servers
    def sides(self) -> tuple[Server, Server]:
        return (self.py, self.rs)

    def pairings(self) -> list[tuple[Server, Server]]:
        return [(a, b) for a in self.sides() for b in self.sides()]

    def other(self, side: Server) -> Server:
        return self.rs if side is self.py else self.py

    def restart_both(self, secret: str, fallbacks: list[str], **env) -> None:
        self.env.update(env)
        for s in self.sides():
            s.start(secret, fallbacks, self.env)
        names = {K0: "K0", K1: "K1"}
        fb = f", SECRET_KEY_FALLBACKS={','.join(names.get(k, '?') for k in fallbacks)}" if fallbacks else ""
        extra = "".join(f", {k}={v}" for k, v in env.items())
        info(f"both restarted: SECRET_KEY={names.get(secret, '?')}{fb}{extra} (python {self.py.base}, rust {self.rs.base})")

    # ---- HTTP
    def request(self, side: Server, method: str, path: str, jar: requests.Session | None = None, **kw) -> requests.Response:
        return (jar or self.http).request(method, side.base + path, timeout=HTTP_TIMEOUT, **kw)

    def fail_detail(self, side: Server, method: str, path: str, r: requests.Response, want) -> str:
        return (
            f"{method} {side.name}{path}: expected HTTP {want}, got {r.status_code}: {r.text[:300]}\n"
            f"Set-Cookie: {set_cookies(r)}\n{side.log_tail(8)}"
        )

    def ok(self, side: Server, method: str, path: str, jar: requests.Session | None = None, **kw) -> requests.Response:
        """A request that must answer 200 (else HttpError: the step fails)."""
        r = self.request(side, method, path, jar, **kw)
        if r.status_code != 200:
            raise HttpError(self.fail_detail(side, method, path, r, 200))
        return r

    def fields(self, token: str, text: str = "x") -> dict:
        """A /submit form body: the CSRF field and a text."""
        return {self.field: token, "text": text}

    def form_token(self, side: Server, jar: requests.Session | None = None) -> str:
        r = self.ok(side, "GET", "/form", jar)
        token = hidden_value(r.text, self.field)
        if not token:
            raise HttpError(f"GET {side.name}/form: no hidden input named {self.field!r} in\n{r.text[:500]}")
        return token

    def whoami(self, side: Server, jar: requests.Session | None = None, **kw) -> tuple[dict, requests.Response]:
        r = self.ok(side, "GET", "/whoami", jar, **kw)
        return r.json(), r

    def login(self, side: Server, remember: bool = False, user: str = USER, jar=None) -> requests.Response:
        data = {self.field: self.form_token(side, jar), "user_id": user}
        if self.spec["remember"]:
            data["remember"] = "1" if remember else ""
        r = self.ok(side, "POST", "/login", jar, data=data)
        if r.json().get("user") != user:
            raise AssertionError(f"POST {side.name}/login answered {r.text[:200]}")
        return r

    def logout(self, side: Server, jar=None) -> requests.Response:
        r = self.ok(side, "POST", "/logout", jar, data={self.field: self.form_token(side, jar)})
        if r.json().get("user", "missing") is not None:
            raise AssertionError(f"POST {side.name}/logout answered {r.text[:200]}")
        return r

    # ---- jar
    def jar_value(self, name: str, jar: requests.Session | None = None) -> str | None:
        cs = [c for c in (jar or self.http).cookies if c.name == name]
        if len(cs) > 1:
            raise AssertionError(f"jar holds {len(cs)} {name!r} cookies: {[(c.domain, c.path) for c in cs]}")
        return cs[0].value if cs else None

    def drop_cookie(self, name: str) -> None:
        for c in [c for c in self.http.cookies if c.name == name]:
            self.http.cookies.clear(c.domain, c.path, c.name)

    @staticmethod
    def header_for(r: requests.Response, name: str) -> str | None:
        found = [h for h in set_cookies(r) if cookie_name(h) == name]
        return found[-1] if found else None

    # ---- checks
    def expect_user(self, label: str, side: Server, want: str | None, fresh: bool | None = None, **kw) -> requests.Response:
        j, r = self.whoami(side, **kw)
        ok = j.get("user") == want
        if fresh is not None and self.spec["fresh"]:
            ok = ok and j.get("fresh") is fresh
            label += f" (fresh {str(fresh).lower()})"
        R.check(label, ok, f"whoami on {side.name}: {dumps(j)}\nSet-Cookie: {set_cookies(r)}\n{side.log_tail(8)}")
        return r

    def expect_status(self, label: str, side: Server, want: int, path: str = "/submit", jar=None, **kw) -> requests.Response:
        r = self.request(side, "POST", path, jar, **kw)
        ok = r.status_code == want
        if ok and want == 200 and path == "/submit":
            try:
                ok = r.json().get("ok") is True
            except ValueError:
                ok = False
        R.check(label, ok, self.fail_detail(side, "POST", path, r, want))
        return r

    def accepted(self, label: str, side: Server, **kw) -> requests.Response:
        return self.expect_status(f"{label}: 200", side, 200, **kw)

    def refused_by(self, label: str, side: Server, **kw) -> requests.Response:
        want = self.refused[side.name]
        return self.expect_status(f"{label}: refused ({want})", side, want, **kw)

    def step(self, name: str, fn) -> None:
        run_step(name, fn, lambda: setattr(self, "http", new_jar()))

    # ---------------------------------------------------------------- scenarios
    def s1_login_pairings(self) -> None:
        self.http = new_jar()
        for side in self.sides():
            r = self.expect_user(f"fresh jar: {side.name} whoami is null", side, None)
            R.check(f"fresh jar: {side.name} whoami sets no session cookie", self.header_for(r, self.cookie) is None, f"{set_cookies(r)}")
        for login_side, act in self.pairings():
            tag = f"S1 login {login_side.name} -> act {act.name}"
            self.step(f"{tag}: ran to the end", lambda: self._s1(tag, login_side, act))

    def _s1(self, tag: str, login_side: Server, act: Server) -> None:
        self.http = new_jar()
        self.login(login_side)
        R.check(f"{tag}: login sets the {self.cookie!r} cookie", self.jar_value(self.cookie) is not None, "")
        self.expect_user(f"{tag}: whoami on {act.name} says {USER}", act, USER, fresh=True)
        text = f"from {act.name} to itself"
        r = self.accepted(f"{tag}: a form rendered on {act.name} posts to {act.name}/submit", act, data=self.fields(self.form_token(act), text))
        if r.status_code == 200:
            R.check(f"{tag}: /submit echoes the text", r.json().get("text") == text, r.text[:200])
        self.logout(act)
        for side in self.sides():
            self.expect_user(f"{tag}: after logout on {act.name}, whoami on {side.name} is null", side, None)

    def s2_forms(self) -> None:
        self.http = new_jar()
        # a token rendered by one side, posted to the other, in the form
        tp = self.form_token(self.py)
        self.accepted("python's form token -> rust /submit (form field)", self.rs, data=self.fields(tp, "p2r"))
        tr = self.form_token(self.rs)
        self.accepted("rust's form token -> python /submit (form field)", self.py, data=self.fields(tr, "r2p"))
        self.accepted("python's earlier token still works on python after rust rendered a form", self.py, data=self.fields(tp, "p2p"))
        tp2 = self.form_token(self.py)
        self.accepted("rust's earlier token still works on rust after python rendered a form", self.rs, data=self.fields(tr, "r2r"))
        self.accepted("python's newer token -> rust /submit", self.rs, data=self.fields(tp2, "p2r"))
        # in a header, with a JSON body or none
        for src in self.sides():
            dst = self.other(src)
            for hdr in self.spec["token_headers"]:
                tok = self.form_token(src)
                self.accepted(f"{src.name}'s token in {hdr} -> {dst.name} /submit, JSON body", dst, json={"text": "j"}, headers={hdr: tok})
                self.accepted(f"{src.name}'s token in {hdr} -> {dst.name} /submit, empty body", dst, headers={hdr: tok})

        # refusals
        other_jar = new_jar()
        for side in self.sides():
            src = self.other(side)
            good = self.form_token(src)
            self.refused_by(f"{side.name}: no token", side, data={"text": "x"})
            self.refused_by(f"{side.name}: no token, JSON body", side, json={"text": "x"})
            self.refused_by(f"{side.name}: {src.name}'s token with one character changed", side, data=self.fields(flip_middle(good)))
            self.refused_by(
                f"{side.name}: {self.spec['token_headers'][0]} with one character changed", side, headers={self.spec["token_headers"][0]: flip_middle(good)}
            )
            foreign = self.form_token(src, jar=other_jar)
            self.refused_by(f"{side.name}: a token {src.name} rendered for another jar", side, data=self.fields(foreign))
            self.accepted(f"{side.name}: ... while this jar's own token still passes", side, data=self.fields(good))

        if self.fw == "flask":
            self._s2_flask()
        if self.fw == "django":
            self._s2_django()

    def _s2_flask(self) -> None:
        self.form_token(self.py)  # make sure the session holds a raw token
        value = self.jar_value(self.cookie)
        assert value, "no session cookie after GET /form"
        raw = flask_session_payload(value).get(self.field)
        assert isinstance(raw, str) and raw, f"no {self.field!r} in the session: {flask_session_payload(value)}"
        info(f"raw CSRF value in the session: {raw!r}")
        for side in self.sides():
            self.accepted(f"{side.name}: a token the harness minted now (itsdangerous, SECRET_KEY)", side, data=self.fields(mint_wtf_token(K0, raw)))
            self.refused_by(f"{side.name}: a token issued 7200 s ago (time limit 3600)", side, data=self.fields(mint_wtf_token(K0, raw, age=7200)))
            self.refused_by(f"{side.name}: a token signed with another secret key", side, data=self.fields(mint_wtf_token(K_OTHER, raw)))
            self.refused_by(f"{side.name}: a token for another raw value", side, data=self.fields(mint_wtf_token(K0, "0" * 40)))

    def _s2_django(self) -> None:
        for side in self.sides():
            tok = self.form_token(self.other(side))
            own = f"http://127.0.0.1:{side.port}"
            data = {self.field: tok, "text": "o"}
            self.refused_by(f"{side.name}: Origin {EVIL_ORIGIN} with a valid token", side, data=data, headers={"Origin": EVIL_ORIGIN})
            self.refused_by(
                f"{side.name}: Origin of the other server (http://127.0.0.1:{self.other(side).port})",
                side,
                data=data,
                headers={"Origin": f"http://127.0.0.1:{self.other(side).port}"},
            )
            self.accepted(f"{side.name}: Origin {own} (its own) with a valid token", side, data=data, headers={"Origin": own})
            self.accepted(f"{side.name}: Origin {TRUSTED_ORIGIN} (CSRF_TRUSTED_ORIGINS)", side, data=data, headers={"Origin": TRUSTED_ORIGIN})
            self.refused_by(f"{side.name}: Origin {TRUSTED_ORIGIN} but no token", side, data={"text": "o"}, headers={"Origin": TRUSTED_ORIGIN})

    def s3_csrf_rotation(self) -> None:
        cc = self.spec["csrf_cookie"]
        for x in self.sides():
            y = self.other(x)
            tag = f"S3 login on {x.name}"
            self.http = new_jar()
            before_x = self.form_token(x)
            before_y = self.form_token(y)
            c0 = self.jar_value(cc)
            assert c0, f"no {cc!r} cookie after GET /form"
            r = self.login(x)
            h = self.header_for(r, cc)
            R.check(
                f"{tag}: the login response sets a new {cc!r} cookie",
                h is not None and not is_deletion(h) and cookie_value(h) != c0,
                f"before {c0!r}; Set-Cookie: {set_cookies(r)}",
            )
            self.refused_by(f"{tag}: a token {x.name} rendered before the login, on {y.name}", y, data=self.fields(before_x))
            self.refused_by(f"{tag}: a token {y.name} rendered before the login, on {y.name}", y, data=self.fields(before_y))
            after = self.form_token(x)
            self.accepted(f"{tag}: a token {x.name} rendered after the login, on {y.name}", y, data=self.fields(after))
            self.accepted(f"{tag}: a token {y.name} rendered after the login, on {y.name}", y, data=self.fields(self.form_token(y)))
            self.expect_user(f"{tag}: whoami on {y.name} says {USER}", y, USER)

    def change_password(self) -> None:
        self.n_passwords = getattr(self, "n_passwords", 0) + 1
        pw = f"changed-password-{self.n_passwords}"
        r = self.ok(self.py, "POST", "/password", data={self.field: self.form_token(self.py), "user_id": USER, "password": pw})
        if r.json().get("ok") is not True:
            raise AssertionError(f"POST python/password answered {r.text[:200]}")

    def users_file(self) -> dict:
        with open(self.env["USERS_FILE"]) as f:
            return json.load(f)

    def s4_password(self) -> None:
        for login_side, check in [(self.rs, self.rs), (self.py, self.py), (self.py, self.rs), (self.rs, self.py)]:
            tag = f"S4 login on {login_side.name}, whoami on {check.name}"
            self.http = new_jar()
            self.login(login_side)
            self.expect_user(f"{tag}: before the password change: {USER}", check, USER)
            before = self.users_file().get(USER, {}).get("password")
            self.change_password()
            after = self.users_file().get(USER, {}).get("password")
            R.check(f"{tag}: USERS_FILE holds user {USER}'s new password field at once", bool(after) and after != before, f"{before!r} -> {after!r}")
            r = self.expect_user(f"{tag}: after python changed user {USER}'s password: null", check, None)
            h = self.header_for(r, self.cookie)
            R.check(
                f"{tag}: {check.name}'s response deletes the {self.cookie!r} cookie (session flushed)",
                h is not None and is_deletion(h),
                f"Set-Cookie: {set_cookies(r)}",
            )
            R.check(f"{tag}: the jar holds no {self.cookie!r} cookie", not self.jar_value(self.cookie), f"{self.jar_value(self.cookie)!r}")
            self.expect_user(f"{tag}: whoami on {self.other(check).name} is null too", self.other(check), None)

    def s5_rotation(self) -> None:
        self.http = new_jar()
        self.login(self.py)
        self.expect_user(f"under K0: python login, whoami on rust says {USER}", self.rs, USER)
        k0_cookie = self.jar_value(self.cookie)
        self.restart_both(K1, [K0])
        r = self.expect_user(f"under K1 (+K0): whoami on rust says {USER} (auth hash checked through the fallback)", self.rs, USER)
        h = self.header_for(r, self.cookie)
        info(f"rust's answer to a fallback-signed login: {'Set-Cookie ' + h if h else 'no Set-Cookie for the session'}")
        r = self.expect_user(f"under K1 (+K0): whoami on python says {USER}", self.py, USER)
        h = self.header_for(r, self.cookie)
        info(f"python's answer to the cookie it then held: {'Set-Cookie ' + h if h else 'no Set-Cookie for the session'}")
        self.expect_user(f"under K1 (+K0): whoami on rust still says {USER}", self.rs, USER)
        # the original K0 cookie again, straight to python
        self.drop_cookie(self.cookie)
        self.http.cookies.set(self.cookie, k0_cookie, domain="127.0.0.1", path="/")
        self.expect_user(f"under K1 (+K0): the original K0 cookie, whoami on python says {USER}", self.py, USER)
        self.logout(self.rs)
        self.expect_user("under K1 (+K0): after logout on rust, python says null", self.py, None)
        self.login(self.rs)
        self.expect_user(f"under K1 (+K0): login on rust, whoami on python says {USER}", self.py, USER)
        self.login(self.py, user="7")
        self.expect_user("under K1 (+K0): login as 7 on python over it, whoami on rust says 7", self.rs, "7")

    def s6_remember(self) -> None:
        rc = self.spec["remember"]
        for x, y in self.pairings():
            tag = f"S6 remember-me login on {x.name}, back on {y.name}"
            self.step(f"{tag}: ran to the end", lambda: self._s6(tag, rc, x, y))
        for x in self.sides():
            tag = f"S6 remember-me login on {x.name}, logout on rust"
            self.http = new_jar()
            self.login(x, remember=True)
            R.check(f"{tag}: the jar holds {rc!r}", self.jar_value(rc) is not None, "")
            r = self.logout(self.rs)
            h = self.header_for(r, rc)
            info(f"{tag}: rust's logout {'deletes' if h and is_deletion(h) else 'does not delete'} {rc!r} ({h})")
            self.expect_user(f"{tag}: python whoami is null (not logged back in by {rc!r})", self.py, None)
            self.expect_user(f"{tag}: rust whoami is null", self.rs, None)

    def _s6(self, tag: str, rc: str, x: Server, y: Server) -> None:
        self.http = new_jar()
        r = self.login(x, remember=True)
        h = self.header_for(r, rc)
        R.check(f"{tag}: the login response sets {rc!r}", h is not None and not is_deletion(h), f"Set-Cookie: {set_cookies(r)}")
        if h is None:
            return
        self.drop_cookie(self.cookie)
        R.check(f"{tag}: the jar holds {rc!r} and no session", self.jar_value(rc) is not None and self.jar_value(self.cookie) is None, "")
        self.expect_user(f"{tag}: whoami on {y.name} with only {rc!r} says {USER}", y, USER, fresh=False)
        self.expect_user(f"{tag}: whoami on {x.name} then says {USER}", x, USER, fresh=False)
        r = self.logout(y)
        h = self.header_for(r, rc)
        R.check(f"{tag}: logout on {y.name} deletes {rc!r}", h is not None and is_deletion(h), f"Set-Cookie: {set_cookies(r)}")
        self.drop_cookie(self.cookie)
        self.expect_user(f"{tag}: session dropped again: whoami on {x.name} is null", x, None)
        self.expect_user(f"{tag}: ... and on {y.name}", y, None)

    def s7_strong(self) -> None:
        self.restart_both(K0, [], SESSION_PROTECTION="strong")
        other_ua = {"User-Agent": OTHER_AGENT}
        for x, y in self.pairings():
            tag = f"S7 strong: login on {x.name}, other User-Agent on {y.name}"
            self.http = new_jar()
            self.login(x)
            self.expect_user(f"{tag}: same User-Agent, whoami on {y.name} says {USER}", y, USER, fresh=True)
            self.expect_user(f"{tag}: another User-Agent, whoami on {y.name} is null", y, None, headers=other_ua)
            self.expect_user(f"{tag}: afterwards whoami on {x.name} (own User-Agent) is null", x, None)
            self.expect_user(f"{tag}: ... and on {y.name}", y, None)
            tok = self.form_token(x)
            self.accepted(f"{tag}: the CSRF token survives: a new form on {x.name} posts to {y.name}", y, data=self.fields(tok))
        # remember-me under strong protection: Flask-Login deletes it on a mismatch
        rc = self.spec["remember"]
        for x, y in self.pairings():
            tag = f"S7 strong + remember-me: login on {x.name}, other User-Agent on {y.name}"
            self.http = new_jar()
            self.login(x, remember=True)
            r = self.expect_user(f"{tag}: another User-Agent: null", y, None, headers=other_ua)
            h = self.header_for(r, rc)
            s = self.jar_value(self.cookie)
            marked = bool(s) and flask_session_payload(s).get("_remember") == "clear"
            R.check(
                f"{tag}: {y.name}'s response deletes {rc!r} (or leaves _remember: \"clear\" in the session)",
                (h is not None and is_deletion(h)) or marked,
                f"Set-Cookie: {set_cookies(r)}",
            )
            self.expect_user(f"{tag}: afterwards whoami on {x.name} is null", x, None)
        # a login restored from the remember cookie under strong protection: Flask-Login 0.6.3
        # writes no `_id` then, so the NEXT request fails the check and logs out (informational)
        for y in self.sides():
            x = self.other(y)
            tag = f"S7 strong + remember-me: login on {x.name}, restored on {y.name}"
            self.http = new_jar()
            self.login(x, remember=True)
            self.drop_cookie(self.cookie)
            self.expect_user(f"{tag}: whoami on {y.name} with only {rc!r} says {USER}", y, USER, fresh=False)
            s = self.jar_value(self.cookie)
            keys = sorted(flask_session_payload(s)) if s else None
            again = {side.name: self.whoami(side)[0].get("user") for side in (y, x)}
            info(f"{tag}: session keys after the restore {keys}; next whoami {y.name}: {again[y.name]}, then {x.name}: {again[x.name]}")

    def run(self, only: set[int] | None) -> None:
        scenarios = [
            (1, "login in every pairing", self.s1_login_pairings),
            (2, "forms across sides, refusals", self.s2_forms),
            (3, "CSRF secret rotation at login", self.s3_csrf_rotation),
            (4, "a password change logs the other side out", self.s4_password),
            (6, "remember-me", self.s6_remember),
            (5, "key rotation", self.s5_rotation),  # restarts both servers
            (7, "session protection strong", self.s7_strong),  # restarts both servers
        ]
        scenarios = [s for s in scenarios if s[0] in self.spec["scenarios"]]
        run_scenarios(scenarios, only, self.step)


def init_db(python_cmd: list[str], env: dict, logdir: str) -> None:
    """Migrate and seed the shared database once, before any server starts."""
    full = dict(os.environ)
    full.update(SECRET_KEY=K0, SECRET_KEY_FALLBACKS="", PYTHONUNBUFFERED="1")
    full.update(env)
    t = time.monotonic()
    p = subprocess.run(python_cmd + ["--init"], env=full, cwd=REPO, capture_output=True, text=True, timeout=120)
    with open(os.path.join(logdir, "python-init.log"), "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(python_cmd + ['--init'])} exited with {p.returncode}\n{p.stdout}{p.stderr}")
    info(f"database initialised in {time.monotonic() - t:.1f}s ({env.get('DB_PATH')})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--framework", required=True, choices=sorted(FRAMEWORKS))
    ap.add_argument("--rust-bin", help="the Rust example binary (default target/debug/examples/<rust example>)")
    ap.add_argument("--rust-cmd", help="shell-quoted command for the 'rust' side instead of --rust-bin")
    ap.add_argument(
        "--rust-refuses-with",
        type=int,
        help="HTTP status the 'rust' side answers a CSRF failure with (default 403, as the Rust apps must; "
        "give the Python status when --rust-cmd runs the Python app)",
    )
    ap.add_argument("--python-app", help="the Python app (default from the framework table)")
    ap.add_argument("--python-cmd", help="shell-quoted command for the python side instead of <python> <app>")
    ap.add_argument("--python", default=sys.executable, help="interpreter for --python-app")
    ap.add_argument("--scenario", type=int, action="append", help="run only these scenarios (repeatable)")
    ap.add_argument("--timeout", type=int, default=240, help="bound on the whole run, seconds")
    args = ap.parse_args()

    spec = FRAMEWORKS[args.framework]
    rust_cmd = rust_command(args.rust_cmd, args.rust_bin, spec["rust_example"])
    if rust_cmd is None:
        return 2
    python_cmd = shlex.split(args.python_cmd) if args.python_cmd else [args.python, args.python_app or spec["app"]]
    refused = dict(spec["refused"])
    if args.rust_refuses_with is not None:
        refused["rust"] = args.rust_refuses_with

    print(f"# framework {args.framework}: python {shlex.join(python_cmd)} | rust {shlex.join(rust_cmd)}", flush=True)
    if refused["rust"] != spec["refused"]["rust"]:
        info(f"rust side's CSRF refusal status overridden: {refused['rust']} (a real Rust app must answer {spec['refused']['rust']})")
    servers: dict[str, Server] = {}

    def make_servers(logdir: str) -> list[Server]:
        servers["py"] = Server("python", python_cmd, logdir, ready=ping_ok)
        servers["rs"] = Server("rust", rust_cmd, logdir, ready=ping_ok)
        return list(servers.values())

    def body(logdir: str) -> None:
        env = dict(spec["extra_env"])
        if spec["needs_db"]:
            env.update(DB_PATH=os.path.join(logdir, "db.sqlite3"), USERS_FILE=os.path.join(logdir, "users.json"))
            init_db(python_cmd, env, logdir)
            with open(env["USERS_FILE"]) as f:
                users = json.load(f)
            R.check(
                "USERS_FILE after --init: users 42 and 7, active, with a password field",
                all(isinstance(users.get(u), dict) and users[u].get("is_active") is True and users[u].get("password") for u in ("42", "7")),
                dumps(users),
            )
        py, rs = servers["py"], servers["rs"]
        for s in (py, rs):
            s.start(K0, [], env)
        info(f"SECRET_KEY=K0, {' '.join(f'{k}={v}' for k, v in env.items())} (python {py.base}, rust {rs.base})")
        Suite(args.framework, py, rs, env, refused).run(set(args.scenario or []))

    return run_live(f"login-{args.framework}", args.timeout, make_servers, body)


if __name__ == "__main__":
    sys.exit(main())
