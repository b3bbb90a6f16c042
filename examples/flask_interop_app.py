"""Flask half of the live interop suite (tests/interop/live_interop.py).

It implements the same HTTP contract as `examples/flask_interop.rs`, so that
one cookie jar can alternate between a real Flask app and the Rust app and
each side must see every write of the other.

Configuration (environment):
  SECRET_KEY            the current key (required)
  SECRET_KEY_FALLBACKS  comma-separated older keys (optional)
  PORT                  port to bind on 127.0.0.1 (default 5000)
  CLOCK_OFFSET          run this app's clock that many seconds ahead (optional;
                        the clock-skew checks: itsdangerous signs and checks
                        ages with time.time())

Run:  target/venv/bin/python examples/flask_interop_app.py
(served by waitress, a real WSGI server; `app` is also importable for
`flask --app examples/flask_interop_app.py run`).

Routes:
  GET  /state                 {"session": {...}} in natural form
  GET  /types                 {key: python type name}, e.g. {"t": "tuple", "m": "Markup"}
  POST /write/<kind>/<key>    {"value": ...}; kind: str int tuple bytes datetime uuid markup
  POST /flash                 {"category": ..., "message": ...}
  GET  /flashes               {"flashes": [[category, message], ...]} (pops them)
  POST /permanent             {"on": bool}
  POST /clear
  POST /counter               {"counter": n}
  POST /login                 {"user": name}
  POST /logout                clears the session
  GET  /whoami                {"user": name or null}
  POST /cart/add              {"item": ..., "qty": n}; a {item: qty} dict under "cart"
  GET  /cart                  {"cart": {...}}

The mixed-fleet suite (tests/e2e/run.sh) runs this app and the Rust one
behind nginx.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import time

from flask import Flask, abort, flash, get_flashed_messages, jsonify, request, session
from markupsafe import Markup

# A node whose clock is off: itsdangerous reads time.time() when it signs
# and when it checks a cookie's age.
_CLOCK_OFFSET = float(os.environ.get("CLOCK_OFFSET") or 0)
if _CLOCK_OFFSET:
    _system_time = time.time
    time.time = lambda: _system_time() + _CLOCK_OFFSET

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or None
fallbacks = [k for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k]
app.config["SECRET_KEY_FALLBACKS"] = fallbacks
# Same attributes as the Rust side: not Secure (plain http on loopback),
# HttpOnly, Path=/, SameSite=Lax.
app.config["SESSION_COOKIE_SECURE"] = False
app.config["SESSION_COOKIE_HTTPONLY"] = True
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


def natural(value):
    """Python session value -> plain JSON ("natural" form shared with Rust)."""
    if isinstance(value, Markup):  # before str: Markup is a str subclass
        return str(value)
    if isinstance(value, dict):
        return {str(k): natural(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [natural(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def convert(kind, value):
    if kind == "str":
        if not isinstance(value, str):
            abort(400, "str expects a string")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            abort(400, "int expects an integer")
        return value
    if kind == "tuple":
        if not isinstance(value, list):
            abort(400, "tuple expects an array")
        return tuple(value)
    if kind == "bytes":
        if not isinstance(value, list):
            abort(400, "bytes expects an array of ints")
        return bytes(value)
    if kind == "datetime":
        if not isinstance(value, int):
            abort(400, "datetime expects unix seconds")
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "markup":
        return Markup(value)
    abort(404, f"unknown kind {kind!r}")


def body():
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


@app.get("/state")
def state():
    return jsonify(session=natural(dict(session)))


@app.get("/types")
def types():
    return jsonify({k: type(v).__name__ for k, v in session.items()})


@app.post("/write/<kind>/<key>")
def write(kind, key):
    data = body()
    if "value" not in data:
        abort(400, "missing value")
    session[key] = convert(kind, data["value"])
    return jsonify(ok=True)


@app.post("/flash")
def do_flash():
    data = body()
    flash(data.get("message", ""), data.get("category", "message"))
    return jsonify(ok=True)


@app.get("/flashes")
def flashes():
    return jsonify(flashes=[[c, m] for c, m in get_flashed_messages(with_categories=True)])


@app.post("/permanent")
def permanent():
    session.permanent = bool(body().get("on"))
    return jsonify(permanent=session.permanent)


@app.post("/clear")
def clear():
    session.clear()
    return jsonify(ok=True)


@app.post("/counter")
def counter():
    n = session.get("counter", 0) + 1
    session["counter"] = n
    return jsonify(counter=n)


@app.post("/login")
def login():
    user = body().get("user")
    if not isinstance(user, str):
        abort(400, "user expects a string")
    session["user"] = user
    return jsonify(user=user)


@app.post("/logout")
def logout():
    session.clear()
    return jsonify(user=None)


@app.get("/whoami")
def whoami():
    return jsonify(user=session.get("user"))


@app.post("/cart/add")
def cart_add():
    data = body()
    item, qty = data.get("item"), data.get("qty", 1)
    if not isinstance(item, str) or not isinstance(qty, int) or isinstance(qty, bool):
        abort(400, "cart/add expects {item: str, qty: int}")
    cart = dict(session.get("cart", {}))  # a new dict: in-place changes are not detected
    cart[item] = cart.get(item, 0) + qty
    session["cart"] = cart
    return jsonify(cart=cart)


@app.get("/cart")
def cart():
    return jsonify(cart=session.get("cart", {}))


if __name__ == "__main__":
    import waitress

    port = int(os.environ.get("PORT", "5000"))
    waitress.serve(app, host="127.0.0.1", port=port, threads=4, _quiet=True)
