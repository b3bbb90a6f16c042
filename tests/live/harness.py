#!/usr/bin/env python3
"""Live interop harness: a real Python framework app and its Rust twin share ONE cookie jar.

For one framework (starlette, django or quart) it starts the Python app from
examples/<framework>_interop_app.py and the Rust example binary
<framework>_interop on free loopback ports, then alternates requests between
them with a single `requests.Session()`; each side must see every write of the
other. Both implement the same JSON contract:

  GET /ping  GET /state  POST /set {key, value}  POST /remove {key}
  POST /clear  POST /counter

Everything a framework differs in (cookie name, key rotation, deletion form,
cookie attributes) is one entry of FRAMEWORKS below.

Usage (normally through tests/live/run.sh <framework>):
  target/venv/bin/python tests/live/harness.py --framework django \\
      --rust-bin target/debug/examples/django_interop

Without the Rust binary, run the Python app against itself (the "rust" side
is then a second instance of the same Python app):
  target/venv/bin/python tests/live/harness.py --framework quart \\
      --rust-cmd "target/venv/bin/python examples/quart_interop_app.py"

Prints one line per check (`ok   - name` / `FAIL - name` plus detail), `#`
lines for information (attribute differences between the two sides), and
`N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import os
import random
import shlex
import string
import sys

import requests

from servers import (  # tests/live/servers.py: the infrastructure shared by the live suites
    HOST,
    HTTP_TIMEOUT,
    REPO,
    HttpError,
    R,
    Server,
    attr_differences,
    cookie_attrs,
    cookie_name,
    cookie_value,
    dumps,
    info,
    is_deletion,
    run_live,
    run_scenarios,
    run_step,
    rust_command,
    same,
    set_cookies,
)

TWO_WEEKS = 14 * 24 * 3600

# >= 32 bytes each, so the Rust side does not warn about short keys.
K0 = "live-key-zero-0123456789abcdef0123456789"
K1 = "live-key-one--0123456789abcdef0123456789"
K_UNKNOWN = "live-key-nobody-knows-0123456789abcdef01"

# Per-framework knowledge. A new framework is one entry here plus its app.
#   cookie        session cookie name
#   sig_sep       separator before the signature (last part of the value)
#   fallbacks     the framework has SECRET_KEY_FALLBACKS (key rotation)
#   max_age       Max-Age a write must carry (None: must carry none)
#   expires       a write carries Expires too
#   big           values a Rust session cannot hold natively (scenario 5)
#   delete_value  cookie value of the framework's deletion Set-Cookie (informational)
#   read_rewrites_bad_cookie  reading a session whose cookie does not verify makes
#                 the framework answer with a signed empty session (Django)
FRAMEWORKS: dict[str, dict] = {
    "starlette": dict(
        cookie="session",
        sig_sep=".",
        fallbacks=False,
        max_age=TWO_WEEKS,
        expires=False,
        big={"big": 2**64, "neg": -(2**70)},
        delete_value="null",
        read_rewrites_bad_cookie=False,
    ),
    "django": dict(
        cookie="sessionid",
        sig_sep=":",
        fallbacks=True,
        max_age=TWO_WEEKS,
        expires=True,
        big={"big": 2**64, "neg": -(2**70)},
        delete_value='""',
        read_rewrites_bad_cookie=True,
    ),
    "quart": dict(
        cookie="session",
        sig_sep=".",
        fallbacks=True,
        max_age=None,
        expires=False,
        big={"big": 2**64},
        delete_value="",
        read_rewrites_bad_cookie=False,
    ),
}
for _name, _fw in FRAMEWORKS.items():
    _fw.setdefault("app", os.path.join(REPO, "examples", f"{_name}_interop_app.py"))
    _fw.setdefault("rust_example", f"{_name}_interop")


# --------------------------------------------------------------------------- the suite


class Suite:
    def __init__(self, fw: str, python: Server, rust: Server, minter: Server) -> None:
        self.fw = fw
        self.spec = FRAMEWORKS[fw]
        self.cookie = self.spec["cookie"]
        self.py = python
        self.rs = rust
        self.minter = minter
        self.http = requests.Session()  # THE cookie jar shared by both sides
        self.expected: dict = {}  # the driver's model; its order is the expected key order

    # ---- servers
    def restart_both(self, secret: str, fallbacks: list[str]) -> None:
        for s in (self.py, self.rs):
            s.start(secret, fallbacks)
        fb = f", SECRET_KEY_FALLBACKS={','.join(self.key_name(k) for k in fallbacks)}" if fallbacks else ""
        info(f"both restarted: SECRET_KEY={self.key_name(secret)}{fb} (python {self.py.base}, rust {self.rs.base})")

    @staticmethod
    def key_name(k: str) -> str:
        return {K0: "K0", K1: "K1", K_UNKNOWN: "K_UNKNOWN"}.get(k, "?")

    # ---- HTTP
    def req(self, side: Server, method: str, path: str, body=None) -> requests.Response:
        r = self.http.request(method, side.base + path, json=body, timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            raise HttpError(
                f"{method} {side.name}{path} body={dumps(body)}\n"
                f"expected HTTP 200, got {r.status_code}: {r.text[:500]}\n{side.log_tail(10)}"
            )
        return r

    def state(self, side: Server) -> tuple[dict, list]:
        j = self.req(side, "GET", "/state").json()
        return j["session"], j["keys"]

    def ordered_state(self, side: Server) -> dict:
        """The session in the side's own key order (a JSON object's order may be sorted)."""
        s, keys = self.state(side)
        return {k: s[k] for k in keys if k in s}

    def set(self, side: Server, key: str, value) -> requests.Response:
        r = self.req(side, "POST", "/set", {"key": key, "value": value})
        self.expected[key] = value
        return r

    def remove(self, side: Server, key: str) -> requests.Response:
        r = self.req(side, "POST", "/remove", {"key": key})
        self.expected.pop(key, None)
        return r

    def clear(self, side: Server) -> requests.Response:
        r = self.req(side, "POST", "/clear")
        self.expected = {}
        return r

    # ---- jar
    def jar_cookies(self) -> list:
        return [c for c in self.http.cookies if c.name == self.cookie]

    def jar_value(self) -> str | None:
        cs = self.jar_cookies()
        if len(cs) > 1:
            raise AssertionError(f"jar holds {len(cs)} {self.cookie!r} cookies: {[(c.domain, c.path) for c in cs]}")
        return cs[0].value if cs else None

    def put_cookie(self, value: str) -> None:
        for c in self.jar_cookies():
            self.http.cookies.clear(c.domain, c.path, c.name)
        self.http.cookies.set(self.cookie, value, domain=HOST, path="/")

    def session_header(self, r: requests.Response) -> str | None:
        found = [h for h in set_cookies(r) if cookie_name(h) == self.cookie]
        return found[-1] if found else None

    # ---- checks
    def step(self, name: str, fn) -> None:
        """Run one step; an exception is one failed check (with the request that broke)."""

        def recover() -> None:  # continue from what Python sees, to avoid cascades
            self.expected = self.ordered_state(self.py)

        run_step(name, fn, recover)

    def agree(self, label: str, expected: dict | None = None) -> bool:
        """Both sides report the expected session, with keys in the expected order."""
        want = self.expected if expected is None else expected
        want_keys = list(want)
        ps, pk = self.state(self.py)
        rs, rk = self.state(self.rs)
        # The Rust side may leave out of `session` what it cannot hold natively,
        # but must still list it in `keys`.
        omittable = set(self.spec["big"])
        rs_cmp = dict(rs)
        for k in omittable & set(want) - set(rs):
            rs_cmp[k] = want[k]
        ok = same(ps, want) and same(rs_cmp, want) and pk == want_keys and rk == want_keys
        detail = (
            f"expected: {dumps(want)} keys {want_keys}\n"
            f"python  : {dumps(ps)} keys {pk}\n"
            f"rust    : {dumps(rs)} keys {rk}\n"
            f"cookie  : {self.jar_value()}"
        )
        if not ok and expected is None:
            self.expected = {k: ps[k] for k in pk if k in ps}
        return R.check(f"{label}: python == rust == expected (values and key order)", ok, detail)

    def no_cookie_set(self, label: str, r: requests.Response) -> None:
        R.check(label, not set_cookies(r), f"Set-Cookie: {set_cookies(r)}")

    # ---------------------------------------------------------------- scenarios
    def s1_fresh(self) -> None:
        self.http.cookies.clear()
        self.expected = {}
        for side in (self.py, self.rs):
            r = self.req(side, "GET", "/ping")
            self.no_cookie_set(f"fresh jar: GET {side.name}/ping sets no cookie", r)
            r = self.req(side, "GET", "/state")
            j = r.json()
            R.check(
                f"fresh jar: {side.name} /state is empty",
                j.get("session") == {} and j.get("keys") == [],
                dumps(j),
            )
            self.no_cookie_set(f"fresh jar: GET {side.name}/state sets no cookie", r)
        R.check("fresh jar: still no session cookie", self.jar_value() is None, f"{self.jar_value()!r}")

    def s2_cross_writes(self) -> None:
        self.set(self.py, "user", "alice")
        self.agree("python set user; rust sees it")
        cart = {"zeta": {"\u00fc": 1, "a": [1, 2.5, None, True]}, "alpha": "\u2603 \U0001f600"}
        self.set(self.rs, "cart", cart)
        self.agree("rust set nested unicode cart; python sees both")

    def s3_order(self) -> None:
        self.clear(self.py)
        self.set(self.py, "b", 1)
        self.set(self.py, "a", 2)
        self.set(self.rs, "c", 3)
        self.agree("python b, python a, rust c: keys [b, a, c]")
        self.set(self.py, "a", 20)
        self.agree("python sets a again: it keeps its place")
        self.set(self.rs, "b", 10)
        self.agree("rust sets b again: it keeps its place")

    def s4_counter(self) -> None:
        self.remove(self.py, "counter")
        prev, bad = 0, []
        for i in range(20):
            side = self.py if i % 2 == 0 else self.rs
            got = self.req(side, "POST", "/counter").json().get("counter")
            if got != prev + 1:
                bad.append(f"#{i + 1} on {side.name}: expected {prev + 1}, got {got}")
            prev = got if isinstance(got, int) else prev + 1
        self.expected["counter"] = 20
        R.check("20 alternating /counter POSTs: each = previous + 1, ending at 20", not bad and prev == 20, "\n".join(bad))
        self.agree("after the counter run")

    def s5_big(self) -> None:
        for k, v in self.spec["big"].items():
            self.set(self.py, k, v)
        self.agree(f"python set {', '.join(self.spec['big'])}")
        self.set(self.rs, "x", 1)
        ps, _ = self.state(self.py)
        for k, v in self.spec["big"].items():
            R.check(f"after a rust write python still reads {k} == {v} exactly", same(ps.get(k), v), f"{ps.get(k)!r}")
        self.agree("after the rust write (rust may omit them from session, not from keys)")

    def s6_remove_clear(self) -> None:
        self.set(self.rs, "from_rust", "r")
        self.set(self.py, "from_python", "p")
        self.remove(self.py, "from_rust")
        self.agree("python removed a key rust wrote")
        self.remove(self.rs, "from_python")
        self.agree("rust removed a key python wrote")

        for side in (self.py, self.rs):
            if not self.expected:
                self.set(side, "user", "alice")
            r = self.clear(side)
            h = self.session_header(r)
            R.check(
                f"/clear on {side.name}: a deletion Set-Cookie for {self.cookie!r}",
                h is not None and is_deletion(h),
                f"Set-Cookie: {set_cookies(r)}",
            )
            self.deletions[side.name] = h
            v = self.jar_value()
            R.check(
                f"/clear on {side.name}: the jar holds no usable session cookie",
                v is None or v in ("", '""', "null"),
                f"jar value {v!r}",
            )
            self.agree(f"/clear on {side.name}: both empty")
            self.set(self.py if side is self.rs else self.rs, "after_clear", 1)
            self.agree(f"after /clear on {side.name}: a new session works")

    def s7_tamper(self) -> None:
        self.set(self.py, "user", "alice")
        self.set(self.rs, "role", "admin")
        self.agree("before tampering")
        value = self.jar_value() or ""
        head, sep, sig = value.rpartition(self.spec["sig_sep"])
        assert sep and sig, f"cannot find a signature in {value!r}"
        # The first character: the last one may only carry padding bits.
        tampered = head + sep + ("A" if sig[0] != "A" else "B") + sig[1:]
        self.put_cookie(tampered)
        self.agree("signature changed in one character: empty on both", {})
        r = self.req(self.rs, "GET", "/state")
        R.check("rust does not crash or answer non-JSON on a tampered cookie", r.json().get("keys") == [], r.text[:200])
        self.http.cookies.clear()
        self.expected = {}

    def chunk_cookies(self) -> list[str]:
        return sorted(c.name for c in self.http.cookies if c.name.startswith(self.cookie + "."))

    def s10_chunked(self) -> None:
        """A session too large for one cookie: Rust splits it; Python, which cannot
        join chunks, sees no session (never a partial one); a Python write replaces
        it and Rust expires the chunks left behind."""
        self.http.cookies.clear()
        self.expected = {}
        rng = random.Random(10)
        blob = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(4500))
        self.set(self.rs, "blob", blob)
        chunks = self.chunk_cookies()
        R.check("rust writes a 4500-character value as chunk cookies", len(chunks) >= 2, f"jar: {chunks}")
        rs, rk = self.state(self.rs)
        R.check("rust reads its chunked session back", rs.get("blob") == blob and rk == ["blob"], f"keys {rk}")
        ps, pk = self.state(self.py)
        R.check("python sees a chunked session as no session", ps == {} and pk == [], dumps(ps))
        rs, rk = self.state(self.rs)
        if self.spec["read_rewrites_bad_cookie"]:
            R.check(
                "python's read replaced the chunk marker with a signed empty session: rust sees none",
                rs == {} and rk == [],
                f"keys {rk}",
            )
        else:
            R.check("python's read left the chunked session alone", rs.get("blob") == blob, f"keys {rk}")
        self.expected = {}
        self.set(self.py, "user", "alice")
        self.agree("python's write replaced the chunked session on both sides")
        R.check("rust expired the chunk cookies python's write left behind", not self.chunk_cookies(), f"jar: {self.chunk_cookies()}")
        self.http.cookies.clear()
        self.expected = {}

    def s9_cookie_attrs(self) -> None:
        spec = self.spec
        headers = {}
        for side in (self.py, self.rs):
            self.http.cookies.clear()
            self.expected = {}
            r = self.set(side, "attr_probe", side.name)
            h = self.session_header(r)
            headers[side.name] = h
            info(f"{side.name} write : {h}")
            if h is None:
                R.check(f"{side.name}: a write sets the {self.cookie!r} cookie", False, f"Set-Cookie: {set_cookies(r)}")
                continue
            a = cookie_attrs(h)
            R.check(f"{side.name}: a write sets the {self.cookie!r} cookie", True)
            R.check(f"{side.name}: HttpOnly", "httponly" in a, h)
            R.check(f"{side.name}: SameSite=Lax", a.get("samesite", "").lower() == "lax", h)
            R.check(f"{side.name}: Path=/", a.get("path") == "/", h)
            R.check(f"{side.name}: not Secure", "secure" not in a, h)
            if spec["max_age"] is None:
                R.check(f"{side.name}: no Max-Age (browser-session cookie)", "max-age" not in a, h)
            else:
                R.check(f"{side.name}: Max-Age={spec['max_age']}", a.get("max-age") == str(spec["max_age"]), h)
            if spec["expires"]:
                ok = False
                try:
                    exp = email.utils.parsedate_to_datetime(a.get("expires", ""))
                    left = (exp - dt.datetime.now(dt.timezone.utc)).total_seconds()
                    ok = abs(left - spec["max_age"]) < 60
                except (TypeError, ValueError):
                    pass
                R.check(f"{side.name}: Expires about Max-Age from now", ok, h)
            else:
                R.check(f"{side.name}: no Expires", "expires" not in a, h)
            info(f"{side.name} Vary  : {r.headers.get('Vary')}")
        if headers.get("python") and headers.get("rust"):
            diffs = attr_differences(headers["python"], headers["rust"])
            info("write Set-Cookie python vs rust: " + ("no difference beyond case/order" if not diffs else "; ".join(diffs)))
        for side in ("python", "rust"):
            info(f"{side} delete: {self.deletions.get(side)}")
        if self.deletions.get("python") and self.deletions.get("rust"):
            diffs = attr_differences(self.deletions["python"], self.deletions["rust"])
            info("delete Set-Cookie python vs rust: " + ("no difference beyond case/order" if not diffs else "; ".join(diffs)))
        dv = cookie_value(self.deletions["python"]) if self.deletions.get("python") else None
        if dv is not None and dv != self.spec["delete_value"]:
            info(f"python deletion value {dv!r} differs from the table's {self.spec['delete_value']!r}")
        self.http.cookies.clear()
        self.expected = {}

    def mint_unknown(self) -> str:
        """A session cookie signed only with K_UNKNOWN, written by the real Python framework."""
        self.minter.start(K_UNKNOWN, [])
        try:
            jar = requests.Session()
            r = jar.post(self.minter.base + "/set", json={"key": "user", "value": "mallory"}, timeout=HTTP_TIMEOUT)
            assert r.status_code == 200, f"minter: HTTP {r.status_code} {r.text[:200]}"
            v = [c.value for c in jar.cookies if c.name == self.cookie]
            assert v, f"minter set no cookie: {set_cookies(r)}"
            return v[0]
        finally:
            self.minter.stop()

    def s8_rotation(self) -> None:
        unknown = self.mint_unknown()
        self.http.cookies.clear()
        self.expected = {}
        self.set(self.py, "user", "rotating")
        self.set(self.rs, "role", "admin")
        self.agree("written under K0")
        k0_cookie = self.jar_value()
        k0_expected = dict(self.expected)

        if not self.spec["fallbacks"]:
            self.restart_both(K1, [])
            self.agree(f"{self.fw} has no fallback keys: after a key change both see an empty session", {})
            self.put_cookie(unknown)
            self.agree("cookie signed with an unknown key: empty on both", {})
            self.http.cookies.clear()
            self.expected = {}
            self.set(self.rs, "fresh", 1)
            self.set(self.py, "fresh2", 2)
            self.agree("a new session under K1 works on both")
            return

        self.restart_both(K1, [K0])
        self.agree("K0 cookie read by both under SECRET_KEY=K1, FALLBACKS=K0")
        for side in (self.py, self.rs):
            r = self.req(side, "GET", "/state")
            h = self.session_header(r)
            if h is not None:
                info(f"{side.name}: reading a fallback-signed cookie re-issued it: {h}")
        self.set(self.py, "written_by", "python")
        py_cookie, py_expected = self.jar_value(), dict(self.expected)
        self.set(self.rs, "written_by", "rust")
        rs_cookie, rs_expected = self.jar_value(), dict(self.expected)
        self.agree("after writes by both under K1 (+K0)")

        self.put_cookie(unknown)
        self.agree("cookie signed only with an unknown key: empty on both", {})
        self.put_cookie(k0_cookie)
        self.agree("K0 cookie still accepted via the fallback", k0_expected)

        self.restart_both(K1, [])
        self.put_cookie(py_cookie)
        self.agree("python's write under K1+K0 was signed with K1 (readable with only K1)", py_expected)
        self.put_cookie(rs_cookie)
        self.agree("rust's write under K1+K0 was signed with K1 (readable with only K1)", rs_expected)
        self.put_cookie(k0_cookie)
        self.agree("K0 cookie rejected once K0 is no longer a fallback", {})
        self.expected = {}

    def run(self, only: set[int] | None) -> None:
        self.deletions: dict[str, str | None] = {}
        scenarios = [
            (1, "fresh jar", self.s1_fresh),
            (2, "cross writes", self.s2_cross_writes),
            (3, "insertion order", self.s3_order),
            (4, "counter", self.s4_counter),
            (5, "values rust cannot hold natively", self.s5_big),
            (6, "remove and clear", self.s6_remove_clear),
            (7, "tampering", self.s7_tamper),
            (9, "cookie attributes", self.s9_cookie_attrs),
            (10, "chunked session", self.s10_chunked),
            (8, "key rotation", self.s8_rotation),  # last: it restarts both servers
        ]
        run_scenarios(scenarios, only, self.step)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--framework", required=True, choices=sorted(FRAMEWORKS))
    ap.add_argument("--rust-bin", help="the Rust example binary (default target/debug/examples/<framework>_interop)")
    ap.add_argument("--rust-cmd", help="shell-quoted command for the 'rust' side instead of --rust-bin")
    ap.add_argument("--python-app", help="the Python app (default examples/<framework>_interop_app.py)")
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

    print(f"# framework {args.framework}: python {shlex.join(python_cmd)} | rust {shlex.join(rust_cmd)}", flush=True)
    servers: dict[str, Server] = {}

    def make_servers(logdir: str) -> list[Server]:
        servers["py"] = Server("python", python_cmd, logdir)
        servers["rs"] = Server("rust", rust_cmd, logdir)
        servers["minter"] = Server("python-minter", python_cmd, logdir)
        return list(servers.values())

    def body(_logdir: str) -> None:
        py, rs = servers["py"], servers["rs"]
        for s in (py, rs):
            s.start(K0, [])
        info(f"SECRET_KEY=K0 (python {py.base}, rust {rs.base})")
        Suite(args.framework, py, rs, servers["minter"]).run(set(args.scenario or []))

    return run_live(args.framework, args.timeout, make_servers, body)


if __name__ == "__main__":
    sys.exit(main())
