"""Quart half of the live interop suite (tests/live/harness.py).

A Quart app with Quart's default `SecureCookieSessionInterface`, which writes
exactly Flask's cookie (salt `cookie-session`, HMAC-SHA1, tagged JSON with
sorted keys, optional zlib). Cookie `session`, HttpOnly, Path=/, browser-session
lifetime; SameSite=Lax is set explicitly (Quart's own default is no SameSite),
as the Flask example does. The Rust example `quart_interop` implements the same
HTTP contract, so one cookie jar can alternate between the two and each side
must see every write of the other.

Configuration (environment):
  SECRET_KEY            the signing key (required)
  SECRET_KEY_FALLBACKS  comma-separated older keys, still accepted on read
  PORT                  port to bind on 127.0.0.1 (default 8000)

Run:  target/venv/bin/python examples/quart_interop_app.py   (hypercorn)

Routes (all JSON):
  GET  /ping      {"ok": true}; never touches the session
  GET  /state     {"session": {...}, "keys": [keys in the session's order]}
  POST /set       {"key": str, "value": any}   -> {"ok": true}
  POST /remove    {"key": str}                 -> {"ok": true}
  POST /clear     session.clear()              -> {"ok": true}
  POST /counter   counter += 1                 -> {"counter": n}
"""

from __future__ import annotations

import os
import sys

from quart import Quart, abort, jsonify, request, session

SECRET_KEY = os.environ.get("SECRET_KEY")
if not SECRET_KEY:
    sys.exit("quart_interop_app: SECRET_KEY is required")

app = Quart(__name__)
app.config["SECRET_KEY"] = SECRET_KEY
app.config["SECRET_KEY_FALLBACKS"] = [k for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k]
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


async def body() -> dict:
    data = await request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        abort(400, "expected a JSON object")
    return data


async def key_of() -> tuple[str, dict]:
    data = await body()
    if not isinstance(data.get("key"), str):
        abort(400, "key must be a string")
    return data["key"], data


@app.get("/ping")
async def ping():
    return jsonify(ok=True)


@app.get("/state")
async def state():
    return jsonify(session=dict(session), keys=list(session.keys()))


@app.post("/set")
async def set_():
    key, data = await key_of()
    if "value" not in data:
        abort(400, "missing value")
    session[key] = data["value"]
    return jsonify(ok=True)


@app.post("/remove")
async def remove():
    key, _ = await key_of()
    session.pop(key, None)
    return jsonify(ok=True)


@app.post("/clear")
async def clear():
    session.clear()
    return jsonify(ok=True)


@app.post("/counter")
async def counter():
    n = session.get("counter", 0) + 1
    session["counter"] = n
    return jsonify(counter=n)


if __name__ == "__main__":
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{int(os.environ.get('PORT', '8000'))}"]
    config.accesslog = None
    asyncio.run(serve(app, config))
