"""Flask half of the live login/CSRF suite (tests/live/login.py --framework flask).

Flask 3.1 + Flask-Login 0.6.3 + Flask-WTF 1.3.0 (`CSRFProtect(app)`), with the
default cookie session. The Rust example `flask_login_interop` implements the
same HTTP contract, so one cookie jar can log in on one side and act on the
other, and a form rendered by one side can be posted to the other.

Configuration (environment):
  SECRET_KEY            the signing key (required)
  SECRET_KEY_FALLBACKS  comma-separated older keys (Flask honours them for the
                        session cookie; Flask-Login's remember cookie and
                        Flask-WTF's tokens use SECRET_KEY only)
  PORT                  port to bind on 127.0.0.1 (default 5000)
  SESSION_PROTECTION    basic | strong (Flask-Login; default basic)
  WTF_CSRF_TIME_LIMIT   seconds a CSRF token stays valid (default 3600)

Run:  target/venv/bin/python examples/flask_login_interop_app.py   (waitress)

Users: every id "1".."99" exists and is active (UserMixin, `id` a str).

Routes (CSRF-checked: every POST; a refusal is HTTP 400 {"error": reason}):
  GET  /ping      {"ok": true}; never touches the session
  GET  /whoami    {"user": current_user.get_id() or null, "fresh": login_fresh()}
  GET  /form      HTML with <input type="hidden" name="csrf_token" value="TOKEN">
  POST /login     form: csrf_token, user_id, remember ("1" or "")
                  login_user(User(user_id), remember, duration=1 day if remember)
                  -> {"user": user_id}; unknown user -> 404 {"error": ...}
  POST /logout    form: csrf_token -> logout_user() -> {"user": null}
  POST /submit    form: csrf_token, text (or the token in X-CSRFToken /
                  X-CSRF-Token with a JSON {"text": ...} or empty body)
                  -> {"ok": true, "text": text}
"""

from __future__ import annotations

import datetime as dt
import html
import os
import sys

from flask import Flask, jsonify, request
from flask_login import LoginManager, UserMixin, current_user, login_fresh, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

SECRET_KEY = os.environ.get("SECRET_KEY")
if not SECRET_KEY:
    sys.exit("flask_login_interop_app: SECRET_KEY is required")

app = Flask(__name__)
app.config.update(
    SECRET_KEY=SECRET_KEY,
    SECRET_KEY_FALLBACKS=[k for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k],
    SESSION_PROTECTION=os.environ.get("SESSION_PROTECTION") or "basic",
    WTF_CSRF_TIME_LIMIT=int(os.environ.get("WTF_CSRF_TIME_LIMIT") or 3600),
    # Same attributes as the Rust side: not Secure (plain http on loopback),
    # HttpOnly, Path=/, SameSite=Lax.
    SESSION_COOKIE_SECURE=False,
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
)
if app.config["SESSION_PROTECTION"] not in ("basic", "strong"):
    sys.exit(f"flask_login_interop_app: SESSION_PROTECTION must be basic or strong, not {app.config['SESSION_PROTECTION']!r}")

csrf = CSRFProtect(app)
login_manager = LoginManager(app)

USER_IDS = {str(i) for i in range(1, 100)}


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id  # UserMixin.get_id() -> str(self.id)


@login_manager.user_loader
def load_user(user_id: str):
    return User(user_id) if user_id in USER_IDS else None


@app.errorhandler(CSRFError)
def csrf_error(e: CSRFError):
    return jsonify(error=e.description), 400


def text_field():
    if request.form:
        return request.form.get("text")
    data = request.get_json(force=True, silent=True)
    return data.get("text") if isinstance(data, dict) else None


@app.get("/ping")
def ping():
    return jsonify(ok=True)


@app.get("/whoami")
def whoami():
    return jsonify(user=current_user.get_id(), fresh=login_fresh())


@app.get("/form")
def form():
    token = html.escape(generate_csrf(), quote=True)
    return (
        "<!doctype html><title>form</title>\n"
        '<form method="post" action="/submit">\n'
        f'<input type="hidden" name="csrf_token" value="{token}">\n'
        '<input name="text"><button>send</button>\n'
        "</form>\n",
        200,
        {"Content-Type": "text/html; charset=utf-8"},
    )


@app.post("/login")
def login():
    user_id = request.form.get("user_id", "")
    if user_id not in USER_IDS:
        return jsonify(error=f"unknown user {user_id!r}"), 404
    remember = bool(request.form.get("remember"))
    login_user(User(user_id), remember=remember, duration=dt.timedelta(days=1) if remember else None)
    return jsonify(user=user_id)


@app.post("/logout")
def logout():
    logout_user()
    return jsonify(user=None)


@app.post("/submit")
def submit():
    return jsonify(ok=True, text=text_field())


if __name__ == "__main__":
    import waitress

    port = int(os.environ.get("PORT", "5000"))
    waitress.serve(app, host="127.0.0.1", port=port, threads=4, _quiet=True)
