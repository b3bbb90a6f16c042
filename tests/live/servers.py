"""Shared infrastructure of the live suites (tests/live/harness.py, tests/live/login.py).

Written once, used by every suite: a Python app and its Rust twin run as
real servers on free loopback ports and one `requests.Session` drives both.
Nothing here knows about a framework; each suite brings its own table and
scenarios.

  Results / R / info      `ok   - name` / `FAIL - name` lines, `#` lines, the tally
  HttpError, Overall      an unexpected HTTP answer; the overall time bound or a signal
  Server                  start (env: SECRET_KEY, SECRET_KEY_FALLBACKS, PORT, extra),
                          wait for GET /ping, log tails, stop
  cookie helpers          set_cookies, cookie_name/value/attrs, is_deletion, attr_differences
  run_step, run_scenarios one step = one check on exception; timed scenarios
  run_live                the main() skeleton: signals, overall alarm, log directory,
                          stop every server, dump logs on failure, summary, exit code
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Callable, Iterable, Sequence

import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
HTTP_TIMEOUT = 10  # seconds, every request
READY_TIMEOUT = 60  # seconds, each server start-up


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


def info(msg: str) -> None:
    for i, line in enumerate(msg.splitlines()):
        print(("#   " if i == 0 else "#     ") + line, flush=True)


class HttpError(Exception):
    pass


class Overall(Exception):
    pass


# --------------------------------------------------------------------------- servers


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


def ping_is_json_ok(r: requests.Response) -> bool:
    """The default readiness answer: HTTP 200 with the JSON body {"ok": true}."""
    return r.status_code == 200 and r.json() == {"ok": True}


class Server:
    """One app process on a free loopback port; every (re)start gets a new port and log file.

    `ready(response)` decides whether GET /ping means "up" (default: JSON {"ok": true})."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        logdir: str,
        ready: Callable[[requests.Response], bool] = ping_is_json_ok,
    ) -> None:
        self.name = name
        self.cmd = cmd
        self.logdir = logdir
        self.ready = ready
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = ""
        self.logs: list[str] = []
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, secret: str, fallbacks: list[str], extra_env: dict | None = None) -> None:
        """(Re)start with SECRET_KEY, SECRET_KEY_FALLBACKS (comma-joined), PORT and
        `extra_env` (applied last, so it may override anything), then wait for /ping."""
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
        if extra_env:
            env.update({k: str(v) for k, v in extra_env.items()})
        self.log_path = os.path.join(self.logdir, f"{self.name}-{self.starts}.log")
        self.logs.append(self.log_path)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}\n{self.log_tail()}")
            try:
                r = requests.get(self.base + "/ping", timeout=2)
                if self.ready(r):
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {READY_TIMEOUT}s on {self.base}: {last}\n{self.log_tail()}")

    def log_tail(self, n: int = 30, path: str | None = None) -> str:
        path = path or self.log_path
        try:
            with open(path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            name = os.path.basename(path)
            return "\n".join(f"[{name}] {l}" for l in lines[-n:])
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


def dumps(v) -> str:
    return json.dumps(v, ensure_ascii=False)


def same(a, b) -> bool:
    """JSON equality that tells 1 from 1.0 from True and compares dicts without order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def set_cookies(r: requests.Response) -> list[str]:
    return [h.strip() for h in r.raw.headers.getlist("Set-Cookie")] if r.raw is not None else []


def cookie_name(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[0].strip()


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1].strip()


def cookie_attrs(header: str) -> dict[str, str]:
    """Attribute name (lower-cased) -> value, for everything after the name=value pair."""
    attrs = {}
    for part in header.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.strip():
            attrs[k.strip().lower()] = v.strip()
    return attrs


def is_deletion(header: str) -> bool:
    a = cookie_attrs(header)
    if a.get("max-age") == "0":
        return True
    exp = a.get("expires")
    if exp:
        try:
            return email.utils.parsedate_to_datetime(exp) < dt.datetime.now(dt.timezone.utc)
        except (TypeError, ValueError):
            return False
    return False


def attr_differences(py: str, rs: str) -> list[str]:
    """Differences between two Set-Cookie headers beyond case and order (Expires within 5 s)."""
    a, b = cookie_attrs(py), cookie_attrs(rs)
    out = []
    for k in sorted(a.keys() | b.keys()):
        if k not in a:
            out.append(f"only rust has {k}={b[k]!r}")
        elif k not in b:
            out.append(f"only python has {k}={a[k]!r}")
        elif a[k].lower() != b[k].lower():
            if k == "expires":
                try:
                    da = email.utils.parsedate_to_datetime(a[k])
                    db = email.utils.parsedate_to_datetime(b[k])
                    if abs((da - db).total_seconds()) <= 5 and a[k].replace(str(da.second), "") == b[k].replace(
                        str(db.second), ""
                    ):
                        continue
                except (TypeError, ValueError):
                    pass
            out.append(f"{k}: python {a[k]!r}, rust {b[k]!r}")
        elif a[k] != b[k]:
            out.append(f"{k}: case differs: python {a[k]!r}, rust {b[k]!r}")
    names = lambda h: [p.strip().partition("=")[0] for p in h.split(";")[1:] if p.strip()]  # noqa: E731
    na, nb = names(py), names(rs)
    if [n.lower() for n in na] == [n.lower() for n in nb] and na != nb:
        out.append(f"attribute-name case differs: python {na}, rust {nb}")
    elif sorted(n.lower() for n in na) == sorted(n.lower() for n in nb) and na != nb:
        out.append(f"attribute order differs: python {na}, rust {nb}")
    if cookie_value(py) != cookie_value(rs) and is_deletion(py) and is_deletion(rs):
        out.append(f"deletion value: python {cookie_value(py)!r}, rust {cookie_value(rs)!r}")
    return out


# --------------------------------------------------------------------------- steps and the main skeleton


def run_step(name: str, fn: Callable[[], None], recover: Callable[[], None] | None = None) -> None:
    """Run one step; an exception is one failed check (with the request that broke),
    then `recover()` (errors ignored) and the suite goes on. Overall always propagates."""
    try:
        fn()
    except Overall:
        raise
    except Exception as e:  # noqa: BLE001 - reported, the suite goes on
        detail = str(e) if isinstance(e, (HttpError, AssertionError)) else traceback.format_exc()
        R.check(name, False, detail)
        if recover is not None:
            try:
                recover()
            except Exception:  # noqa: BLE001
                pass


def run_scenarios(
    scenarios: Iterable[tuple[int, str, Callable[[], None]]],
    only: set[int] | None,
    step: Callable[[str, Callable[[], None]], None] = run_step,
) -> None:
    """`# scenario n: name`, the scenario as one step, then its duration."""
    for n, name, fn in scenarios:
        if only and n not in only:
            continue
        t = time.monotonic()
        print(f"# scenario {n}: {name}", flush=True)
        step(f"scenario {n} ({name}) ran to the end", fn)
        info(f"scenario {n}: {time.monotonic() - t:.1f}s")


def run_live(
    label: str,
    timeout: int,
    make_servers: Callable[[str], Sequence[Server]],
    body: Callable[[str], None],
) -> int:
    """The main() skeleton of a live suite.

    Bounds the run by `timeout` seconds (SIGALRM; SIGTERM from `timeout(1)` too),
    makes a temporary log directory, `make_servers(logdir)` (not started yet),
    runs `body(logdir)`, always stops every server, prints their logs on failure,
    the duration and `N passed, M failed`. Returns the exit code (1 on any
    failure or when nothing passed)."""

    def on_signal(signum, _frame):
        # `timeout` sends SIGTERM, our own alarm SIGALRM: unwind so `finally` stops the servers.
        raise Overall(f"overall timeout {timeout}s" if signum == signal.SIGALRM else f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(timeout)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"live-{label}-") as logdir:
        servers = list(make_servers(logdir))
        try:
            body(logdir)
        except (Overall, KeyboardInterrupt) as e:
            R.check("suite finished before being interrupted", False, repr(e))
        except Exception:  # noqa: BLE001 - a start-up failure is a failed check
            R.check("servers start and answer", False, traceback.format_exc())
        finally:
            signal.alarm(0)
            for s in servers:
                s.stop()
        if R.failed:
            print(f"# logs ({logdir}):")
            for s in servers:
                for path in s.logs:
                    tail = s.log_tail(40, path)
                    if tail:
                        print(tail)

    print(f"# {label}: {time.monotonic() - started:.1f}s", flush=True)
    print(f"{R.passed} passed, {R.failed} failed", flush=True)
    return 1 if R.failed or R.passed == 0 else 0


def rust_command(rust_cmd: str | None, rust_bin: str | None, example: str) -> list[str] | None:
    """--rust-cmd (shell-quoted) wins; else --rust-bin or target/debug/examples/<example>
    (CARGO_TARGET_DIR honoured). None (after a message on stderr) when the binary is missing."""
    import shlex

    if rust_cmd:
        return shlex.split(rust_cmd)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    rust_bin = rust_bin or os.path.join(target, "debug", "examples", example)
    if not os.access(rust_bin, os.X_OK):
        print(f"rust example binary not found: {rust_bin} (cargo build --example {example})", file=sys.stderr)
        return None
    return [rust_bin]
