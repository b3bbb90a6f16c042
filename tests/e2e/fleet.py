#!/usr/bin/env python3
"""Logout-everywhere across replicas: two Rust replicas (examples/fleet.rs) behind
nginx, their revocation maps fed from a real redis-server.

  * nginx routes /a/ to replica A and /b/ to replica B (prefix stripped); one
    cookie jar, so a cookie set through /a/ is sent to /b/ too.
  * Scenario 1: log in on A, copy the cookie; "log out everywhere" on A; the
    copied cookie is refused by B — the time until B refuses is measured and
    must stay under BOUND_S.
  * Scenario 2 (ON_REDIS_DOWN=refuse): Redis stops. Nothing panics, anonymous
    requests are served, a logged-in cookie is refused once the map is stale,
    logout-everywhere answers 503. Redis comes back (same data: appendonly);
    the replicas resubscribe, and a revocation written to Redis while a replica
    could not hear the announcement reaches it through the periodic full read.
  * Scenario 3 (ON_REDIS_DOWN=admit): the same outage admits logged-in cookies
    by the last map, and revocations made before the outage still hold.

Prints `ok - …` / `FAIL - …` and `N passed, M failed`; exit 1 on any failure.
Usage (normally through tests/e2e/run-fleet.sh):
  target/venv/bin/python tests/e2e/fleet.py --rust-bin target/debug/examples/fleet \\
      --nginx /usr/sbin/nginx --redis-server /usr/bin/redis-server
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "live"))
from servers import HOST, R, Server, _die_with_parent, free_port, info, run_live, run_step  # noqa: E402

SECRET = "fleet-secret-key-0123456789abcdef012345"
BOUND_S = 1.0  # a revocation must reach the other replica within this
RESYNC_MS = 500
STALE_MS = 1500


class Proc:
    """A helper process (redis-server, nginx) in the foreground, its output in a log."""

    def __init__(self, name: str, argv: list[str], logdir: str, port: int) -> None:
        self.name, self.argv, self.port = name, argv, port
        self.log = os.path.join(logdir, f"{name}.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {open(self.log).read()[-2000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} not listening on {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_http_version 1.1;
    proxy_set_header Host $http_host;
    server {{
        listen 127.0.0.1:{port};
        location /a/ {{ proxy_pass http://127.0.0.1:{a}/; }}
        location /b/ {{ proxy_pass http://127.0.0.1:{b}/; }}
    }}
}}
"""


class Fleet:
    def __init__(self, args, logdir: str) -> None:
        self.args, self.logdir = args, logdir
        self.redis_port = free_port()
        redis_dir = os.path.join(logdir, "redis")
        os.makedirs(redis_dir, exist_ok=True)
        self.redis = Proc("redis", [args.redis_server, "--port", str(self.redis_port), "--bind", HOST,
                                    "--dir", redis_dir, "--appendonly", "yes", "--save", ""], logdir, self.redis_port)
        self.a = Server("replica-a", [args.rust_bin], logdir)
        self.b = Server("replica-b", [args.rust_bin], logdir)
        self.nginx_port = free_port()
        self.nginx = None

    def cli(self, *command: str) -> str:
        p = subprocess.run([self.args.redis_cli, "-p", str(self.redis_port), *command],
                           capture_output=True, text=True, timeout=10)
        return p.stdout.strip()

    def start_replicas(self, when_down: str) -> None:
        for name, server in (("a", self.a), ("b", self.b)):
            server.start(SECRET, [], dict(REPLICA=name, REDIS_URL=f"redis://{HOST}:{self.redis_port}/",
                                          ON_REDIS_DOWN=when_down, RESYNC_MS=RESYNC_MS, STALE_MS=STALE_MS))
        prefix = os.path.join(self.logdir, "nginx")
        os.makedirs(prefix, exist_ok=True)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(prefix=prefix, port=self.nginx_port, a=self.a.port, b=self.b.port))
        if self.nginx:
            self.nginx.stop()
        self.nginx = Proc("nginx", [self.args.nginx, "-p", prefix + "/", "-c", conf, "-e", os.path.join(prefix, "error.log")],
                          self.logdir, self.nginx_port)
        self.nginx.start()
        self.wait_health(lambda h: h["subscribed"], "both replicas subscribed")

    def url(self, replica: str, path: str) -> str:
        return f"http://{HOST}:{self.nginx_port}/{replica}{path}"

    def health(self, replica: str) -> dict:
        return requests.get(self.url(replica, "/health"), timeout=5).json()

    def wait_health(self, cond, what: str, timeout: float = 10) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if all(cond(self.health(r)) for r in ("a", "b")):
                return time.monotonic() - start
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for: {what} ({self.health('a')}, {self.health('b')})")

    def login(self, replica: str, user: str) -> requests.Session:
        s = requests.Session()
        r = s.post(self.url(replica, f"/login?user={user}"), timeout=5)
        assert r.status_code == 200, r.text
        return s

    def copy(self, s: requests.Session) -> requests.Session:
        c = requests.Session()
        c.cookies.update(s.cookies)
        return c

    def stop(self) -> None:
        for p in (self.nginx, self.redis):
            if p:
                p.stop()


def scenario_propagation(f: Fleet) -> None:
    s = f.login("a", "ada")
    copied = f.copy(s)
    R.check("the login made on A is valid on B", copied.get(f.url("b", "/me"), timeout=5).status_code == 200)
    r = s.post(f.url("a", "/logout-everywhere"), timeout=5)
    t0 = time.monotonic()
    R.check("logout-everywhere on A is recorded (200)", r.status_code == 200, r.text)
    refused_after = None
    while time.monotonic() - t0 < 5:
        if copied.get(f.url("b", "/me"), timeout=5).status_code == 401:
            refused_after = time.monotonic() - t0
            break
        time.sleep(0.005)
    R.check(f"the copied cookie is refused by B within {BOUND_S} s",
            refused_after is not None and refused_after <= BOUND_S, f"after {refused_after}")
    info(f"propagation A -> B: {refused_after * 1000 if refused_after is not None else float('nan'):.1f} ms (pub/sub)")
    R.check("A refuses it too", copied.get(f.url("a", "/me"), timeout=5).status_code == 401)
    fresh = f.login("b", "ada")
    R.check("a new login after the cut-off is valid on both", all(
        fresh.get(f.url(r, "/me"), timeout=5).status_code == 200 for r in ("a", "b")))


def scenario_outage(f: Fleet, when_down: str) -> None:
    before = f.login("a", "bob")
    revoked_cy = f.login("a", "cy")
    r = revoked_cy.post(f.url("a", "/logout-everywhere"), timeout=5)
    R.check(f"[{when_down}] cy revoked before the outage", r.status_code == 200, r.text)
    cy_copy = f.login("b", "cy")  # a login after the cut-off: valid
    stale_cy = requests.Session()
    stale_cy.cookies.update(revoked_cy.cookies)

    f.redis.stop()
    took = f.wait_health(lambda h: not h["current"], "both replicas notice Redis is gone", timeout=STALE_MS / 1000 + 5)
    info(f"[{when_down}] replicas stale {took:.2f} s after Redis stopped")
    R.check(f"[{when_down}] anonymous requests are served while Redis is down",
            requests.get(f.url("b", "/ping"), timeout=5).status_code == 200)
    # A copy: a refused session's cookie is deleted in the jar that sent it.
    status = f.copy(before).get(f.url("b", "/me"), timeout=5).status_code
    if when_down == "refuse":
        R.check("[refuse] a logged-in cookie is refused while the map is stale", status == 401, f"{status}")
    else:
        R.check("[admit] a logged-in cookie is admitted by the last map", status == 200, f"{status}")
        R.check("[admit] a cookie revoked before the outage stays refused",
                stale_cy.get(f.url("b", "/me"), timeout=5).status_code == 401)
    r = f.login("a", "dee").post(f.url("a", "/logout-everywhere"), timeout=10)
    if when_down == "refuse":
        R.check("[refuse] logout-everywhere without Redis: the session is already refused (401)", r.status_code == 401, f"{r.status_code} {r.text}")
    else:
        R.check("[admit] logout-everywhere without Redis is a 503, not a silent success", r.status_code == 503, f"{r.status_code} {r.text}")
    for replica in ("a", "b"):
        R.check(f"[{when_down}] replica {replica} is still alive", f.health(replica)["replica"] == replica)

    f.redis.start()
    took = f.wait_health(lambda h: h["subscribed"] and h["current"], "both replicas resubscribe", timeout=10)
    info(f"[{when_down}] replicas current again {took:.2f} s after Redis returned")
    R.check(f"[{when_down}] the revocation from before the outage survived the restart (appendonly)",
            f.cli("HEXISTS", "tcs:logout-everywhere", "cy") == "1")
    R.check(f"[{when_down}] after the outage the logged-in cookie is admitted again",
            before.get(f.url("b", "/me"), timeout=5).status_code == 200)
    R.check(f"[{when_down}] a login made after cy's cut-off still holds", cy_copy.get(f.url("a", "/me"), timeout=5).status_code == 200)

    # A revocation only in the hash (its announcement missed): the full read catches it up.
    missed = f.login("b", "eve")
    f.cli("HSET", "tcs:logout-everywhere", "eve", str(int(time.time() * 1000) + 1000))
    t0 = time.monotonic()
    caught = None
    while time.monotonic() - t0 < 5:
        if missed.get(f.url("b", "/me"), timeout=5).status_code == 401:
            caught = time.monotonic() - t0
            break
        time.sleep(0.02)
    R.check(f"[{when_down}] a revocation whose announcement was missed arrives by the periodic read (≤ {RESYNC_MS} ms + a request)",
            caught is not None and caught <= RESYNC_MS / 1000 + 0.5, f"after {caught}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rust-bin", required=True)
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--redis-server", default="/usr/bin/redis-server")
    ap.add_argument("--redis-cli", default="/usr/bin/redis-cli")
    ap.add_argument("--timeout", type=int, default=240)
    args = ap.parse_args()
    fleet: list[Fleet] = []

    def make(logdir: str):
        fleet.append(Fleet(args, logdir))
        return [fleet[0].a, fleet[0].b]

    def body(_logdir: str) -> None:
        f = fleet[0]
        try:
            f.redis.start()
            f.start_replicas("refuse")
            run_step("scenario 1: logout-everywhere reaches the other replica", lambda: scenario_propagation(f))
            run_step("scenario 2: Redis restarted, ON_REDIS_DOWN=refuse", lambda: scenario_outage(f, "refuse"))
            f.start_replicas("admit")
            run_step("scenario 3: Redis restarted, ON_REDIS_DOWN=admit", lambda: scenario_outage(f, "admit"))
        finally:
            f.stop()

    return run_live("fleet", args.timeout, make, body)


if __name__ == "__main__":
    sys.exit(main())
