#!/usr/bin/env python3
"""The cookie inspector (examples/inspect.rs) on cookies the real Python apps write.

For Flask, Quart, Starlette and Django it starts the framework's interop app
(examples/<framework>_interop_app.py), makes it write a session (a counter and
an integer beyond 64 bits), takes the Set-Cookie it answered with, and runs the
inspector binary on it: the format is recognised without being told, the key
that verified it is named (current, or a fallback after a rotation), the
value is shown as Python wrote it, and a tampered, expired, future-dated or
half-chunked cookie is refused with its reason and exit status 1.

Usage (normally through tests/live/run.sh inspect):
  target/venv/bin/python tests/live/inspect.py --inspect target/debug/examples/inspect
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import requests

sys.path.insert(0, os.path.dirname(__file__))
from servers import HTTP_TIMEOUT, R, REPO, Server, info, run_live, run_step  # noqa: E402

K0 = "inspect-key-zero-0123456789abcdef012345"
K1 = "inspect-key-one--0123456789abcdef012345"

# One row per framework: its app, the format name the inspector prints, the
# cookie name, and how to store a value through the app.
FRAMEWORKS = {
    "flask": dict(app="flask_interop_app.py", shown="flask", cookie="session", max_age=31 * 86400,
                  write=lambda base, s, key, value: s.post(f"{base}/write/int/{key}", json={"value": value})),
    "quart": dict(app="quart_interop_app.py", shown="flask (also Quart's)", cookie="session", max_age=31 * 86400,
                  write=lambda base, s, key, value: s.post(f"{base}/set", json={"key": key, "value": value})),
    "starlette": dict(app="starlette_interop_app.py", shown="starlette", cookie="session", max_age=14 * 86400,
                      write=lambda base, s, key, value: s.post(f"{base}/set", json={"key": key, "value": value})),
    "django": dict(app="django_interop_app.py", shown="django", cookie="sessionid", max_age=14 * 86400,
                   write=lambda base, s, key, value: s.post(f"{base}/set", json={"key": key, "value": value})),
}
BIG = 2**64 + 1


def run(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, cwd=REPO)


def suite(fw: str, spec: dict, server: Server, binary: str) -> None:
    s = requests.Session()
    s.request = _with_timeout(s.request)
    assert s.post(f"{server.base}/counter").ok
    r = spec["write"](server.base, s, "big", BIG)
    assert r.ok, r.text
    cookie = s.cookies.get(spec["cookie"])
    R.check(f"{fw}: the app set its session cookie", bool(cookie), repr(s.cookies))

    out = run(binary, "--secret", K0, cookie)
    R.check(f"{fw}: accepted (exit 0)", out.returncode == 0, out.stderr)
    R.check(f"{fw}: the format is recognised untold", f"format:      {spec['shown']}" in out.stdout, out.stdout)
    R.check(f"{fw}: verified by the current key", "verified by: the current key" in out.stdout, out.stdout)
    R.check(f"{fw}: the integer beyond 64 bits as Python wrote it", f'"big": {BIG}' in out.stdout, out.stdout)
    R.check(f"{fw}: the counter", '"counter": 1' in out.stdout, out.stdout)
    signed = int(re.search(r"signed at:\s+(\d+)", out.stdout).group(1))

    out = run(binary, "--secret", K1, "--fallback", "unrelated-key-0123456789abcdef0123", "--fallback", K0, cookie)
    R.check(f"{fw}: after a rotation, fallback key 2 verifies it", "verified by: fallback key 2 (of 3 keys)" in out.stdout, out.stdout + out.stderr)

    header = f"Cookie: theme=dark; {spec['cookie']}={cookie}; other=1"
    out = run(binary, "--secret", K0, header)
    R.check(f"{fw}: read from a whole Cookie header", out.returncode == 0 and '"counter": 1' in out.stdout, out.stdout + out.stderr)

    tampered = cookie[:-6] + ("A" if cookie[-6] != "A" else "B") + cookie[-5:]
    out = run(binary, "--secret", K0, tampered)
    R.check(f"{fw}: a tampered cookie is refused: bad signature, exit 1",
            out.returncode == 1 and out.stderr.startswith("refused: bad signature"), out.stderr)

    late = signed + spec["max_age"] + 42
    out = run(binary, "--secret", K0, "--now", str(late), cookie)
    R.check(f"{fw}: expired by 42 s", out.returncode == 1 and "refused: expired by 42 s" in out.stderr, out.stderr)

    early = signed - 30
    out = run(binary, "--secret", K0, "--now", str(early), cookie)
    if fw == "django":
        R.check(f"{fw}: a future timestamp is accepted, as Django does", out.returncode == 0 and "dated 30 s in the future" in out.stdout, out.stdout + out.stderr)
    else:
        R.check(f"{fw}: dated 30 s in the future, refused", out.returncode == 1 and "refused: dated 30 s in the future" in out.stderr, out.stderr)

    half = f"{spec['cookie']}=chunks-2; {spec['cookie']}.1={cookie[:20]}"
    out = run(binary, "--secret", K0, "--format", fw, half)
    R.check(f"{fw}: a missing chunk is named", out.returncode == 1 and f"missing chunk 2 of 2 ({spec['cookie']}.2)" in out.stderr, out.stderr)


def _with_timeout(request):
    def wrapped(method, url, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return request(method, url, **kw)

    return wrapped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--framework", default="all", choices=["all"], help="every framework (for tests/live/run.sh)")
    ap.add_argument("--inspect", "--rust-bin", dest="inspect", default=os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target"), "debug", "examples", "inspect"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--timeout", type=int, default=240)
    args = ap.parse_args()
    if not os.access(args.inspect, os.X_OK):
        print(f"inspector binary not found: {args.inspect} (cargo build --example inspect)", file=sys.stderr)
        return 2
    servers: dict[str, Server] = {}

    def make(logdir: str):
        for fw, spec in FRAMEWORKS.items():
            # Any HTTP answer means up (the Flask app has no /ping).
            servers[fw] = Server(fw, [args.python, os.path.join(REPO, "examples", spec["app"])], logdir,
                                 ready=lambda r: r.status_code < 500)
        return servers.values()

    def body(_logdir: str) -> None:
        for fw, spec in FRAMEWORKS.items():
            server = servers[fw]
            server.start(K0, [])
            info(f"{fw} app on {server.base}")
            run_step(f"{fw}: inspected its cookies", lambda: suite(fw, spec, server, args.inspect))
            server.stop()

    return run_live("inspect", args.timeout, make, body)


if __name__ == "__main__":
    sys.exit(main())
