"""Starlette/FastAPI half of the live interop suite (tests/live/harness.py).

A FastAPI app whose session is Starlette's own
`starlette.middleware.sessions.SessionMiddleware` with its defaults (cookie
`session`, Max-Age 14 days, Path=/, SameSite=lax, HttpOnly, not Secure). The
Rust example `starlette_interop` implements the same HTTP contract, so one
cookie jar can alternate between the two and each side must see every write
of the other.

Configuration (environment):
  SECRET_KEY            the signing key (required)
  SECRET_KEY_FALLBACKS  ignored: Starlette has no fallback keys
  PORT                  port to bind on 127.0.0.1 (default 8000)

Run:  target/venv/bin/python examples/starlette_interop_app.py   (uvicorn)

Routes (all JSON):
  GET  /ping      {"ok": true}; never touches the session
  GET  /state     {"session": {...}, "keys": [keys in the session's order]}
  POST /set       {"key": str, "value": any}   -> {"ok": true}
  POST /remove    {"key": str}                 -> {"ok": true}
  POST /clear     empties the session          -> {"ok": true}
  POST /counter   counter += 1                 -> {"counter": n}
"""

from __future__ import annotations

import os
import sys

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.middleware.sessions import SessionMiddleware

SECRET_KEY = os.environ.get("SECRET_KEY")
if not SECRET_KEY:
    sys.exit("starlette_interop_app: SECRET_KEY is required")

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY)


async def body(request: Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(400, "expected a JSON object")
    return data


async def key_of(request: Request) -> tuple[str, dict]:
    data = await body(request)
    if not isinstance(data.get("key"), str):
        raise HTTPException(400, "key must be a string")
    return data["key"], data


@app.get("/ping")
async def ping():
    return JSONResponse({"ok": True})


@app.get("/state")
async def state(request: Request):
    s = request.session
    return JSONResponse({"session": dict(s), "keys": list(s.keys())})


@app.post("/set")
async def set_(request: Request):
    key, data = await key_of(request)
    if "value" not in data:
        raise HTTPException(400, "missing value")
    request.session[key] = data["value"]
    return JSONResponse({"ok": True})


@app.post("/remove")
async def remove(request: Request):
    key, _ = await key_of(request)
    request.session.pop(key, None)
    return JSONResponse({"ok": True})


@app.post("/clear")
async def clear(request: Request):
    request.session.clear()
    return JSONResponse({"ok": True})


@app.post("/counter")
async def counter(request: Request):
    n = request.session.get("counter", 0) + 1
    request.session["counter"] = n
    return JSONResponse({"counter": n})


if __name__ == "__main__":
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
