"""Known-answer vectors for sharing the login and the CSRF protection with Flask and Django.

    target/venv/bin/pip install -r tests/frameworks/requirements.txt
    target/venv/bin/python tests/login/gen_vectors.py

Writes tests/fixtures/login_vectors.json: Flask-Login 0.6.3 session identifiers
(`_id`), remember-me cookies and the session `login_user` leaves behind;
Flask-WTF 1.3.0 CSRF tokens and `validate_csrf` verdicts; Django 5.2 session
auth hashes (current key and SECRET_KEY_FALLBACKS) and the session `login()`
writes; Django's CSRF mask/unmask, token-format/match, Origin and Referer
checks. Every value comes from the pinned packages' own functions (several are
private: they are the ones the frameworks' middleware calls, named in comments)
run with the clock frozen (`time.time`) and randomness fixed (Django's
`get_random_string` draws from a seeded `random.Random`, or returns a chosen
mask), so the output is byte-identical on every run; CI regenerates it and
diffs. The one exception is `flask_login.identifier_v07`: Flask-Login 0.7 is
not released, so its `_id` is the formula of the main-branch source, fed with
the real `request.remote_addr` and `request.user_agent.string` Werkzeug gives.
Lists keep the order they are written in below; every entry carries a `case`
label. Algorithms: /work/shared/docs/login-and-csrf.md sections 1-3.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import zlib
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from unittest import mock

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "login_vectors.json"
SCRIPT = "tests/login/gen_vectors.py"

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
T5 = 2**32  # 2106-02-07: the first timestamp itsdangerous encodes in 5 bytes

FLASK_SECRET = "flask-vectors-secret-key"
DJ_SECRET = "django-vectors-secret-key"
DJ_FALLBACKS = ["old-django-secret"]
DJ_BACKEND = "django.contrib.auth.backends.ModelBackend"
DJ_ALLOWED_HOSTS = [".example.com"]

HEX = "0123456789abcdef"


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


@contextmanager
def frozen_time(ts: int):
    # itsdangerous (TimestampSigner.get_timestamp -> int(time.time())),
    # django.core.signing and the cookies' Expires all read time.time().
    with mock.patch("time.time", return_value=float(ts)):
        yield


@contextmanager
def seeded_django_random(seed: str):
    # django.utils.crypto.get_random_string is
    # "".join(secrets.choice(allowed_chars) ...): give it a seeded
    # random.Random in place of the `secrets` module, so the real function
    # runs with reproducible choices.
    with mock.patch("django.utils.crypto.secrets", random.Random(seed)):
        yield


def sha1_hex(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def change_char(text: str, index: int, alphabet: str) -> str:
    """Replace one character with the next one in `alphabet` (never itself)."""
    c = alphabet[(alphabet.index(text[index]) + 1) % len(alphabet)]
    return text[:index] + c + text[index + 1:]


def utf8_hex(text: str | None) -> str | None:
    return None if text is None else text.encode("utf-8").hex()


def write(path: Path, document: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        json.dump(document, fh, indent=1, ensure_ascii=False, sort_keys=False)
        fh.write("\n")
    print(f"wrote {path}")


# --------------------------------------------------------------------------
# Flask-Login
# --------------------------------------------------------------------------

from flask import Flask, g, request, session  # noqa: E402
from flask_login import LoginManager, UserMixin, login_user  # noqa: E402
import flask_login.utils as fl_utils  # noqa: E402


class FlaskUser(UserMixin):
    def __init__(self, user_id: str):
        self.id = user_id


def flask_app(secret: str = FLASK_SECRET) -> Flask:
    app = Flask(__name__)
    app.secret_key = secret
    manager = LoginManager(app)
    manager.user_loader(FlaskUser)

    @app.get("/login")
    def login():
        login_user(FlaskUser("42"), remember=True, duration=timedelta(days=1))
        return "ok"

    return app


def flask_context(app: Flask, remote_addr, user_agent, forwarded_for):
    # test_request_context builds the environ with werkzeug's EnvironBuilder
    # directly: no REMOTE_ADDR unless given (unlike the test client, which
    # defaults it to 127.0.0.1), header text passed through unchanged.
    environ = {} if remote_addr is None else {"REMOTE_ADDR": remote_addr}
    headers = {}
    if user_agent is not None:
        headers["User-Agent"] = user_agent
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    return app.test_request_context("/", environ_base=environ, headers=headers)


class RecordingSha512:
    """hashlib.sha512 that also keeps the bytes it was fed (the `_id` base)."""

    def __init__(self):
        self.fed = b""
        self._h = hashlib.sha512()

    def update(self, data: bytes):
        self.fed += data
        self._h.update(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


# (case, REMOTE_ADDR, User-Agent, X-Forwarded-For); None = absent.
IDENTIFIER_CASES = [
    ("plain", "203.0.113.7", "Mozilla/5.0", None),
    ("no User-Agent", "203.0.113.7", None, None),
    ("empty User-Agent", "203.0.113.7", "", None),
    ("X-Forwarded-For with two entries", "203.0.113.7", "Mozilla/5.0",
     "198.51.100.1, 10.0.0.1"),
    ("X-Forwarded-For, spaces and tabs around the first entry", "203.0.113.7",
     "Mozilla/5.0", " \t198.51.100.1 \t, 10.0.0.1"),
    ("X-Forwarded-For starting with a comma (empty first entry)", "203.0.113.7",
     "Mozilla/5.0", ", 10.0.0.1"),
    ("empty X-Forwarded-For", "203.0.113.7", "Mozilla/5.0", ""),
    ("User-Agent with ' and \" and non-ASCII \u00e9 (test client: text hashed as its UTF-8)",
     "203.0.113.7", "it's \"q\" \u00e9", None),
    ("User-Agent whose wire bytes are UTF-8 'it's \"q\" \u00e9' (...C3 A9) as a PEP 3333 "
     "WSGI server presents them: latin-1-decoded, so C3 83 C2 A9 is hashed",
     "203.0.113.7", "it's \"q\" \u00c3\u00a9", None),
    ("User-Agent with only '", "203.0.113.7", "it's", None),
    ("User-Agent with only \"", "203.0.113.7", "say \"hi\"", None),
    ("User-Agent with a backslash and a tab", "203.0.113.7", "a\\b\tc", None),
    ("IPv6 REMOTE_ADDR", "2001:db8::1", "Mozilla/5.0", None),
    ("no REMOTE_ADDR in the environ", None, "Mozilla/5.0", None),
    ("no REMOTE_ADDR, X-Forwarded-For present", None, "Mozilla/5.0", "198.51.100.1"),
    ("no REMOTE_ADDR and no User-Agent", None, None, None),
]


def identifier_v06(app: Flask, case, remote_addr, user_agent, forwarded_for) -> dict:
    with flask_context(app, remote_addr, user_agent, forwarded_for):
        # flask_login.utils._create_identifier is what login_user() stores as
        # session["_id"] and what session protection compares it with
        # (LoginManager._session_identifier_generator). Run it once as is,
        # once with sha512 recording its input.
        ident = fl_utils._create_identifier()
        recorder = RecordingSha512()
        with mock.patch.object(fl_utils, "sha512", lambda: recorder):
            again = fl_utils._create_identifier()
    assert ident == again == hashlib.sha512(recorder.fed).hexdigest(), case
    return {"case": case, "remote_addr": remote_addr, "user_agent": user_agent,
            "user_agent_bytes_hex": utf8_hex(user_agent), "forwarded_for": forwarded_for,
            "base": recorder.fed.decode("utf-8"), "id": ident}


def identifier_v07(app: Flask, case, remote_addr, user_agent, forwarded_for) -> dict:
    with flask_context(app, remote_addr, user_agent, forwarded_for):
        # Flask-Login main @ c8bba84b, utils._create_identifier:
        #   f"{request.remote_addr}|{request.user_agent.string}" -> sha512 hex.
        # The two inputs are Werkzeug's own values for this request.
        base = f"{request.remote_addr}|{request.user_agent.string}"
    formula = f"{remote_addr}|{user_agent or ''}"
    assert base == formula, (case, base, formula)
    return {"case": case, "remote_addr": remote_addr, "user_agent": user_agent,
            "user_agent_bytes_hex": utf8_hex(user_agent), "forwarded_for": forwarded_for,
            "base": base, "id": hashlib.sha512(base.encode("utf8")).hexdigest()}


REMEMBER_IDS = [
    ("small integer id", "42"),
    ("single digit id", "7"),
    ("uuid-looking id", "0b5c7c2e-9f1a-4c3e-8d2b-6a1f3e5d7c90"),
    ("pipe inside the id", "a|b"),
    ("non-ASCII id", "\u00e9"),
    ("empty id", ""),
]


def remember_vectors(app: Flask):
    with app.app_context():
        encoded = [{"case": case, "user_id": uid, "cookie": fl_utils.encode_cookie(uid)}
                   for case, uid in REMEMBER_IDS]
        by_id = {e["user_id"]: e["cookie"] for e in encoded}
        c42 = by_id["42"]
        digest42 = c42.split("|", 1)[1]
        digest7 = by_id["7"].split("|", 1)[1]
        other_key = fl_utils.encode_cookie("42", key="another-secret-key")
        by_id_a = fl_utils.encode_cookie("a")
        cookies = [(f"valid: {e['case']}", e["cookie"]) for e in encoded] + [
            ("last hex digit changed", change_char(c42, len(c42) - 1, HEX)),
            ("first hex digit changed", "42|" + change_char(digest42, 0, HEX)),
            ("uppercase digest", "42|" + digest42.upper()),
            ("digest truncated to 127 hex digits", c42[:-1]),
            ("digest with one extra hex digit", c42 + "0"),
            ("empty digest", "42|"),
            ("no pipe", "42"),
            ("empty string", ""),
            ("digest of another id (7) on id 42", "42|" + digest7),
            ("valid cookie for 'a' followed by '|b'", by_id_a + "|b"),
            ("signed with another SECRET_KEY", other_key),
            ("space before the pipe", "42 |" + digest42),
        ]
        decoded = [{"case": case, "cookie": cookie, "user_id": fl_utils.decode_cookie(cookie)}
                   for case, cookie in cookies]
    return encoded, decoded


def flask_session_json(cookie: str) -> dict:
    """The JSON object inside a Flask session cookie, in the order Flask wrote it."""
    payload = cookie.rsplit(".", 2)[0]
    compressed = payload.startswith(".")
    raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    if compressed:
        raw = zlib.decompress(raw)
    return json.loads(raw.decode("utf-8"))


def login_through_client(app: Flask):
    """GET /login -> login_user(User("42"), remember=True, duration=1 day) via the test client."""
    with frozen_time(T0):
        client = app.test_client()
        response = client.get("/login", headers={"User-Agent": "Mozilla/5.0"},
                              environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 200, response.status
    cookies = {}
    for line in response.headers.getlist("Set-Cookie"):
        name, value = line.split(";", 1)[0].split("=", 1)
        cookies[name] = value
    session_cookie = cookies["session"]
    contents = flask_session_json(session_cookie)
    # Cross-check: the app's own serializer reads the same dict back.
    with frozen_time(T0):
        loaded = app.session_interface.get_signing_serializer(app).loads(session_cookie)
    assert loaded == contents, (loaded, contents)
    return contents, cookies["remember_token"]


def flask_login_document() -> dict:
    app = flask_app()
    v06 = [identifier_v06(app, *c) for c in IDENTIFIER_CASES]
    v07 = [identifier_v07(app, *c) for c in IDENTIFIER_CASES]
    encoded, decoded = remember_vectors(app)
    session_dict, remember_cookie = login_through_client(app)
    plain = v06[0]
    assert plain["case"] == "plain" and session_dict["_id"] == plain["id"]
    assert remember_cookie == encoded[0]["cookie"]
    return {
        "secret_key": FLASK_SECRET,
        "source": "formula from flask-login main c8bba84b (not installed)",
        "identifier_v06": v06,
        "identifier_v07": v07,
        "remember_encode": encoded,
        "remember_decode": decoded,
        "login_session": session_dict,
        "login_remember_cookie": remember_cookie,
    }


# --------------------------------------------------------------------------
# Flask-WTF
# --------------------------------------------------------------------------

from flask_wtf.csrf import generate_csrf, validate_csrf  # noqa: E402
from itsdangerous import URLSafeTimedSerializer  # noqa: E402
from wtforms import ValidationError  # noqa: E402

WTF_RAWS = [
    "e5ab853a0d62a9b760f76735db04ebb5173656f6",  # the notes' example
    sha1_hex("login-vectors csrf raw 1"),
    sha1_hex("login-vectors csrf raw 2"),
]
WTF_TIMESTAMPS = [T0, T5]
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def wtf_generate(app: Flask, raw: str, ts: int, secret_key=None) -> str:
    with app.test_request_context("/"), frozen_time(ts):
        session["csrf_token"] = raw
        token = generate_csrf(secret_key=secret_key)
        assert session["csrf_token"] == raw and g.csrf_token == token
    return token


def wtf_validate(app: Flask, case, raw, data, now, time_limit) -> dict:
    """validate_csrf(data, time_limit=...) at `now`.

    time_limit None means no limit: validate_csrf then falls back to the
    WTF_CSRF_TIME_LIMIT config, set to None here (itsdangerous max_age=None).
    """
    app.config["WTF_CSRF_TIME_LIMIT"] = time_limit
    try:
        with app.test_request_context("/"), frozen_time(now):
            if raw is not None:
                session["csrf_token"] = raw
            try:
                validate_csrf(data, time_limit=time_limit)
                ok, error = True, None
            except ValidationError as exc:
                ok, error = False, exc.args[0]
    finally:
        app.config.pop("WTF_CSRF_TIME_LIMIT")
    return {"case": case, "raw": raw, "data": data, "now": now, "time_limit": time_limit,
            "ok": ok, "error": error}


def flask_wtf_document() -> dict:
    app = Flask(__name__)
    app.secret_key = FLASK_SECRET
    tokens = [{"raw": raw, "timestamp": ts, "token": wtf_generate(app, raw, ts)}
              for raw in WTF_RAWS for ts in WTF_TIMESTAMPS]
    r0, r1 = WTF_RAWS[0], WTF_RAWS[1]
    tok = tokens[0]["token"]
    assert tokens[0]["raw"] == r0 and tokens[0]["timestamp"] == T0
    tok5 = tokens[1]["token"]
    payload, ts_seg, sig = tok.split(".")
    other_secret = wtf_generate(app, r0, T0, secret_key="another-secret-key")
    with frozen_time(T0):
        # Same serializer as Flask-WTF, another salt.
        other_salt = URLSafeTimedSerializer(FLASK_SECRET, salt="not-wtf-csrf-token").dumps(r0)
    cases = [
        ("valid, 60 s old", r0, tok, T0 + 60, 3600),
        ("valid, signed this second", r0, tok, T0, 3600),
        ("exactly at the limit (age == time_limit)", r0, tok, T0 + 3600, 3600),
        ("expired (age == time_limit + 1)", r0, tok, T0 + 3601, 3600),
        ("from the future (age -1)", r0, tok, T0 - 1, 3600),
        ("time_limit 60, age 60", r0, tok, T0 + 60, 60),
        ("time_limit 60, age 61", r0, tok, T0 + 61, 60),
        ("no time limit (WTF_CSRF_TIME_LIMIT None), ten years old", r0, tok,
         T0 + 10 * 365 * 86400, None),
        ("no time limit (WTF_CSRF_TIME_LIMIT None), from the future", r0, tok, T0 - 3600, None),
        ("5-byte timestamp, valid", r0, tok5, T5 + 10, 3600),
        ("tampered signature (first character)", r0,
         f"{payload}.{ts_seg}.{change_char(sig, 0, B64URL)}", T0 + 60, 3600),
        ("tampered payload (first character)", r0,
         f"{change_char(payload, 0, B64URL)}.{ts_seg}.{sig}", T0 + 60, 3600),
        ("tampered timestamp (last character)", r0,
         f"{payload}.{change_char(ts_seg, len(ts_seg) - 1, B64URL)}.{sig}", T0 + 60, 3600),
        ("token for a different raw", r1, tok, T0 + 60, 3600),
        ("missing data (empty string)", r0, "", T0 + 60, 3600),
        ("session token missing", None, tok, T0 + 60, 3600),
        ("missing data and session token missing", None, "", T0 + 60, 3600),
        ("garbage 'abc'", r0, "abc", T0 + 60, 3600),
        ("signed with a different secret key", r0, other_secret, T0 + 60, 3600),
        ("signed with a different salt", r0, other_salt, T0 + 60, 3600),
    ]
    return {
        "secret_key": FLASK_SECRET,
        "tokens": tokens,
        "validate": [wtf_validate(app, *c) for c in cases],
    }


# --------------------------------------------------------------------------
# Django
# --------------------------------------------------------------------------

import django  # noqa: E402
from django.conf import settings  # noqa: E402


def setup_django():
    settings.configure(
        DEBUG=False,
        SECRET_KEY=DJ_SECRET,
        SECRET_KEY_FALLBACKS=list(DJ_FALLBACKS),
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        ALLOWED_HOSTS=DJ_ALLOWED_HOSTS,
        AUTHENTICATION_BACKENDS=[DJ_BACKEND],
        # Only set_unusable_password (no hashing) and a stored field are used;
        # a fast hasher keeps any accidental make_password cheap.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)  # in-memory: auth tables for login()


setup_django()

from django.contrib.auth import get_user_model, login as dj_login  # noqa: E402
from django.contrib.sessions.middleware import SessionMiddleware  # noqa: E402
from django.middleware import csrf as dj_csrf  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

PBKDF2_FIELD = "pbkdf2_sha256$1000000$somesalt$abcdefabcdefabcdefabcdefabcdefabcdefabcdefa="
ARGON2_FIELD = ("argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHRzb21lc2FsdA"
                "$YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWI")


def unusable_password_field() -> str:
    user = get_user_model()()
    with seeded_django_random("login-vectors unusable password"):
        user.set_unusable_password()  # make_password(None): "!" + get_random_string(40)
    assert user.password.startswith("!") and len(user.password) == 41
    return user.password


def dj_hashes() -> list:
    rows = []
    for password in (PBKDF2_FIELD, ARGON2_FIELD, unusable_password_field()):
        user = get_user_model()(password=password)
        with override_settings(SECRET_KEY=DJ_SECRET, SECRET_KEY_FALLBACKS=list(DJ_FALLBACKS)):
            current = user.get_session_auth_hash()
            # What django.contrib.auth.get_user tries when the current hash
            # does not match: one hash per SECRET_KEY_FALLBACKS entry.
            fallback_hashes = list(user.get_session_auth_fallback_hash())
        rows.append({"kind": "current", "password": password, "secret": DJ_SECRET,
                     "hash": current})
        for secret, h in zip(DJ_FALLBACKS, fallback_hashes, strict=True):
            # Same as the current-key hash computed under SECRET_KEY = fallback.
            with override_settings(SECRET_KEY=secret):
                assert user.get_session_auth_hash() == h
            assert user._get_session_auth_hash(secret=secret) == h
            rows.append({"kind": "fallback", "password": password, "secret": secret,
                         "hash": h})
    return rows


def dj_login_session(password: str) -> dict:
    user = get_user_model().objects.create(pk=42, username="alice", password=password)
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    with frozen_time(T0), seeded_django_random("login-vectors rotate_token"):
        dj_login(request, user, backend=DJ_BACKEND)
    return dict(request.session.items())


def django_auth_document() -> dict:
    hashes = dj_hashes()
    session = dj_login_session(PBKDF2_FIELD)
    assert session["_auth_user_hash"] == hashes[0]["hash"]
    return {
        "secret_key": DJ_SECRET,
        "fallbacks": list(DJ_FALLBACKS),
        "hashes": hashes,
        "login_password": PBKDF2_FIELD,
        "login_session": session,
    }


NOTES_SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"
NOTES_MASK = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


def dj_mask_with(secret: str, mask: str) -> str:
    # _mask_cipher_secret is what get_token() returns: mask + cipher, the mask
    # drawn by get_random_string (patched here to return the chosen mask).
    with mock.patch.object(dj_csrf, "get_random_string", return_value=mask):
        return dj_csrf._mask_cipher_secret(secret)


def dj_mask_seeded(seed: str):
    with seeded_django_random(seed):
        secret = dj_csrf._get_new_csrf_string()  # what rotate_token / a new cookie uses
        token = dj_csrf._mask_cipher_secret(secret)
    return secret, token[:dj_csrf.CSRF_SECRET_LENGTH], token


def dj_mask_vectors() -> list:
    rows = [("the notes' example", NOTES_SECRET, NOTES_MASK,
             dj_mask_with(NOTES_SECRET, NOTES_MASK)),
            ("all '9' (index 61): wraps around", "9" * 32, "9" * 32,
             dj_mask_with("9" * 32, "9" * 32)),
            ("all 'a' mask (index 0): cipher == secret", NOTES_SECRET, "a" * 32,
             dj_mask_with(NOTES_SECRET, "a" * 32))]
    for i in range(4):
        rows.append((f"seeded {i}", *dj_mask_seeded(f"login-vectors csrf mask {i}")))
    out = []
    for case, secret, mask, token in rows:
        assert token[:32] == mask and len(token) == 64
        out.append({"case": case, "secret": secret, "mask": mask, "token": token})
    return out


def dj_unmask_vectors(masks: list) -> list:
    tokens = [(m["case"], m["token"]) for m in masks]
    with seeded_django_random("login-vectors csrf unmask"):
        tokens.append(("random 64 characters (not a mask of anything chosen)",
                       dj_csrf._get_new_csrf_string() + dj_csrf._get_new_csrf_string()))
    # _unmask_cipher_token: used by _does_token_match and by _get_secret for a
    # 64-character cookie (Django < 4.0 stored the secret masked).
    return [{"case": case, "token": t, "secret": dj_csrf._unmask_cipher_token(t)}
            for case, t in tokens]


def dj_match(case: str, secret: str, token: str) -> dict:
    # CsrfViewMiddleware._check_token: _check_token_format(request_csrf_token)
    # (InvalidTokenFormat -> 403 with exc.reason), then
    # _does_token_match(request_csrf_token, csrf_secret).
    try:
        dj_csrf._check_token_format(token)
    except dj_csrf.InvalidTokenFormat as exc:
        return {"case": case, "secret": secret, "token": token, "ok": False,
                "error": exc.reason}
    ok = dj_csrf._does_token_match(token, secret)
    return {"case": case, "secret": secret, "token": token, "ok": ok, "error": None}


def dj_match_vectors(masks: list) -> list:
    secret = NOTES_SECRET
    masked = masks[0]["token"]
    other_mask = masks[2]["token"]  # same secret, mask all 'a'
    alnum = dj_csrf.CSRF_ALLOWED_CHARS
    seeded_secret, _, seeded_token = dj_mask_seeded("login-vectors csrf mask 0")
    cases = [
        ("bare 32-character secret", secret, secret),
        ("64-character masked token", secret, masked),
        ("same secret, another mask", secret, other_mask),
        ("one character of the bare secret changed", secret, change_char(secret, 5, alnum)),
        ("one character of the cipher half changed", secret, change_char(masked, 40, alnum)),
        ("one character of the mask half changed", secret, change_char(masked, 3, alnum)),
        ("masked token of another secret", secret, seeded_token),
        ("length 31", secret, secret[:31]),
        ("length 63", secret, masked[:63]),
        ("length 65", secret, masked + "a"),
        ("empty", secret, ""),
        ("non-alphanumeric character, length 32", secret, secret[:31] + "-"),
        ("non-alphanumeric character, length 64", secret, masked[:63] + "_"),
        ("non-ASCII \u00e9, 32 characters (33 UTF-8 bytes)", secret, secret[:31] + "\u00e9"),
        ("seeded secret, its own masked token", seeded_secret, seeded_token),
    ]
    return [dj_match(*c) for c in cases]


def dj_request(*, host: str, secure: bool, server_port: str | None = None, **headers):
    extra = {"HTTP_HOST": host, **headers}
    if server_port is not None:
        extra["SERVER_PORT"] = server_port
    return RequestFactory().post("/", secure=secure, **extra)


def dj_origin(case, origin, host, secure, trusted) -> dict:
    with override_settings(CSRF_TRUSTED_ORIGINS=list(trusted)):
        # A new middleware per case: its trusted-origin views are cached_property.
        middleware = dj_csrf.CsrfViewMiddleware(lambda r: None)
        # _origin_verified is what process_view calls when an Origin header is present.
        ok = middleware._origin_verified(dj_request(host=host, secure=secure, HTTP_ORIGIN=origin))
    return {"case": case, "origin": origin, "host": host, "secure": secure,
            "trusted_origins": list(trusted), "allowed_hosts": DJ_ALLOWED_HOSTS, "ok": ok}


def dj_origin_vectors() -> list:
    wild = ["https://*.example.com"]
    cases = [
        ("same origin, http", "http://example.com", "example.com", False, []),
        ("same origin, https", "https://example.com", "example.com", True, []),
        ("https origin, http request", "https://example.com", "example.com", False, []),
        ("http origin, https request", "http://example.com", "example.com", True, []),
        ("origin with a port, host without", "http://example.com:8000", "example.com", False, []),
        ("same origin with a port", "http://example.com:8000", "example.com:8000", False, []),
        ("host with a port, origin without", "http://example.com", "example.com:8000", False, []),
        ("trusted exact", "https://app.other.test", "example.com", True,
         ["https://app.other.test"]),
        ("trusted exact, other port", "https://app.other.test:8443", "example.com", True,
         ["https://app.other.test"]),
        ("trusted wildcard, subdomain", "https://sub.example.com", "example.com", True, wild),
        ("trusted wildcard, the bare domain (request to api.example.com)",
         "https://example.com", "api.example.com", True, wild),
        ("trusted wildcard, http subdomain", "http://sub.example.com", "example.com", False, wild),
        ("trusted wildcard, two levels down", "https://a.b.example.com", "example.com", True,
         wild),
        ("trusted wildcard, suffix without the dot", "https://evilexample.com", "example.com",
         True, wild),
        ("trusted wildcard, subdomain with a port", "https://sub.example.com:8443",
         "example.com", True, wild),
        ("trusted wildcard, uppercase origin", "https://SUB.EXAMPLE.COM", "example.com", True,
         wild),
        ("uppercase trusted wildcard, lowercase origin", "https://sub.example.com",
         "example.com", True, ["https://*.EXAMPLE.COM"]),
        ("'null' origin", "null", "example.com", True, []),
        ("empty origin", "", "example.com", True, []),
        ("uppercase Host header", "http://example.com", "EXAMPLE.COM", False, []),
        ("uppercase origin", "http://EXAMPLE.COM", "example.com", False, []),
        ("origin with a trailing slash", "http://example.com/", "example.com", False, []),
        ("evil origin", "https://evil.test", "example.com", True, []),
        ("Host not in ALLOWED_HOSTS, origin equal to it", "http://attacker.test",
         "attacker.test", False, []),
    ]
    return [dj_origin(*c) for c in cases]


def dj_referer(case, referer, host, trusted, cookie_domain=None, use_sessions=False,
               session_cookie_domain=None, server_port="443") -> dict:
    with override_settings(CSRF_TRUSTED_ORIGINS=list(trusted), CSRF_COOKIE_DOMAIN=cookie_domain,
                           CSRF_USE_SESSIONS=use_sessions,
                           SESSION_COOKIE_DOMAIN=session_cookie_domain):
        middleware = dj_csrf.CsrfViewMiddleware(lambda r: None)
        headers = {} if referer is None else {"HTTP_REFERER": referer}
        request = dj_request(host=host, secure=True, server_port=server_port, **headers)
        # _check_referer is what process_view calls for a secure request
        # without an Origin header.
        try:
            middleware._check_referer(request)
            ok, reason = True, None
        except dj_csrf.RejectRequest as exc:
            ok, reason = False, exc.reason
    return {"case": case, "referer": referer, "host": host, "server_port": server_port,
            "trusted_origins": list(trusted), "cookie_domain": cookie_domain,
            "use_sessions": use_sessions, "session_cookie_domain": session_cookie_domain,
            "allowed_hosts": DJ_ALLOWED_HOSTS, "ok": ok, "reason": reason}


def dj_referer_vectors() -> list:
    h = "example.com"
    cases = [
        ("no Referer", None, h, []),
        ("malformed: unclosed IPv6 bracket", "https://[::1/form", h, []),
        ("malformed: no scheme", "example.com/form", h, []),
        ("malformed: no host", "https:///form", h, []),
        ("http Referer on https", "http://example.com/form", h, []),
        ("same host", "https://example.com/form?x=1#frag", h, []),
        ("same host, explicit :443", "https://example.com:443/form", h, []),
        ("other host", "https://evil.test/form", h, []),
        ("subdomain without a cookie domain", "https://sub.example.com/form", h, []),
        ("uppercase Referer host", "https://EXAMPLE.COM/form", h, []),
        ("userinfo in the Referer", "https://user@example.com/form", h, []),
        ("trusted origin host", "https://trusted.test/page", h, ["https://trusted.test"]),
        ("trusted origin given as http, https Referer", "https://trusted.test/page", h,
         ["http://trusted.test"]),
        ("trusted origin with a port, Referer without", "https://trusted.test/page", h,
         ["https://trusted.test:8443"]),
        ("wildcard trusted origin", "https://sub.example.net/page", h,
         ["https://*.example.net"]),
        ("wildcard trusted origin, the bare domain", "https://example.net/page", h,
         ["https://*.example.net"]),
        ("cookie domain .example.com, subdomain Referer", "https://sub.example.com/form", h, [],
         ".example.com"),
        ("cookie domain .example.com, other domain", "https://evil.test/form", h, [],
         ".example.com"),
        ("non-default port, same host:port", "https://example.com:8443/form",
         "example.com:8443", [], None, False, None, "8443"),
        ("non-default port, Referer without the port", "https://example.com/form",
         "example.com:8443", [], None, False, None, "8443"),
        ("non-default port, cookie domain, subdomain with the port",
         "https://sub.example.com:8443/form", "example.com:8443", [], ".example.com", False,
         None, "8443"),
        ("non-default port, cookie domain, subdomain without the port",
         "https://sub.example.com/form", "example.com:8443", [], ".example.com", False, None,
         "8443"),
        ("CSRF_USE_SESSIONS: SESSION_COOKIE_DOMAIN is used", "https://sub.example.com/form", h,
         [], None, True, ".example.com"),
        ("CSRF_USE_SESSIONS: CSRF_COOKIE_DOMAIN is ignored", "https://sub.example.com/form", h,
         [], ".example.com", True, None),
        ("Host not in ALLOWED_HOSTS, Referer equal to it", "https://attacker.test/form",
         "attacker.test", []),
    ]
    return [dj_referer(*c) for c in cases]


def django_csrf_document() -> dict:
    masks = dj_mask_vectors()
    return {
        "allowed_chars": dj_csrf.CSRF_ALLOWED_CHARS,
        "mask": masks,
        "unmask": dj_unmask_vectors(masks),
        "match": dj_match_vectors(masks),
        "origin": dj_origin_vectors(),
        "referer": dj_referer_vectors(),
    }


# --------------------------------------------------------------------------


def main():
    document = {
        "generated_by": SCRIPT,
        "versions": {name.replace("-", "_"): version(name) for name in
                     ("flask", "flask-login", "flask-wtf", "itsdangerous", "werkzeug",
                      "django")},
        "flask_login": flask_login_document(),
        "flask_wtf": flask_wtf_document(),
        "django_auth": django_auth_document(),
        "django_csrf": django_csrf_document(),
    }
    write(OUT, document)


if __name__ == "__main__":
    main()
