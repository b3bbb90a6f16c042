"""Known-answer vectors for tower-cookie-session, produced by real Starlette and Django.

    target/venv/bin/pip install -r tests/frameworks/requirements.txt
    target/venv/bin/python tests/frameworks/gen_vectors.py

Writes, under tests/fixtures/:
    starlette_codec.json       cookies Starlette's SessionMiddleware writes / accepts / rejects
    starlette_save_table.json  what SessionMiddleware sends for each request state x view action
    django_codec.json          the same for Django's signed_cookies session backend
    django_save_table.json     the same for django.contrib.sessions SessionMiddleware

Every cookie comes from the framework's own code path: Starlette's
SessionMiddleware driven by starlette.testclient.TestClient (or, where the
middleware never writes, e.g. an empty session, the middleware instance's own
signer and encoding), and Django's signed_cookies SessionStore / django.test.Client.
Every verdict ("valid", which exception, which header) is the framework's.

Determinism: the clock is frozen (time.time is the only clock itsdangerous,
django.core.signing and Django's cookie Expires use; Django requests also
freeze django.utils.timezone.now, which set_expiry and get_expiry_age read),
secrets are fixed,
"random" payloads come from a SHA-256 stream, lists are sorted by name and
save-table rows are in a fixed loop order. Format map:
/work/shared/docs/python-formats.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import sys
import types
import zlib
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from unittest import mock

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCRIPT = "tests/frameworks/gen_vectors.py"

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z: every cookie is signed at T0 unless stated
TWO_WEEKS = 14 * 24 * 3600  # Starlette max_age default == Django SESSION_COOKIE_AGE default

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


@contextmanager
def frozen_time(ts: int):
    # itsdangerous (TimestampSigner.get_timestamp), django.core.signing
    # (TimestampSigner.timestamp / unsign) and Django's cookie Expires
    # (time.time() + max_age) all read the wall clock through time.time().
    with mock.patch("time.time", return_value=float(ts)):
        yield


def sha_stream(seed: str, n: int, alphabet: str) -> str:
    """n pseudo-random characters, stable across runs and Python versions."""
    out, counter = [], 0
    while len(out) < n:
        block = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in block)
        counter += 1
    return "".join(out[:n])


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_nopad_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flip_b64(segment: str, index: int, alphabet: str, decode, encode) -> str:
    """Change one character of a base64 segment to another canonical encoding.

    The replacement changes the decoded bytes and re-encodes to itself (the
    unused low bits of a last character stay zero), so a strict decoder still
    reaches the MAC check instead of stopping at the base64 layer.
    """
    original = decode(segment)
    for c in alphabet:
        if c == segment[index]:
            continue
        candidate = segment[:index] + c + segment[index + 1:]
        try:
            decoded = decode(candidate)
        except Exception:  # noqa: BLE001 - not decodable: try the next character
            continue
        if decoded != original and encode(decoded) == candidate:
            return candidate
    raise AssertionError(f"no canonical flip for {segment!r}[{index}]")


def change_char(segment: str, index: int, alphabet: str) -> str:
    """Replace one character with the next one in `alphabet` (never itself)."""
    c = alphabet[(alphabet.index(segment[index]) + 1) % len(alphabet)]
    return segment[:index] + c + segment[index + 1:]


def parse_set_cookie(header: str) -> dict:
    """Split a Set-Cookie line: name, raw value, attributes in wire order."""
    first, *attrs = [part.strip() for part in header.split(";")]
    name, value = first.split("=", 1)
    attributes = {}
    for attr in attrs:
        key, eq, val = attr.partition("=")
        attributes[key.strip().lower()] = val.strip() if eq else True
    return {"name": name, "value": value, "attributes": attributes, "raw": header}


def exc_name(exc: BaseException) -> str:
    """'JSONDecodeError', 'binascii.Error', 'zlib.error': unambiguous and short."""
    cls = type(exc)
    if cls.__module__ in ("builtins", "json.decoder") or cls.__module__.startswith(
            ("itsdangerous", "django")):
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


def by_name(entries):
    names = [e["name"] for e in entries]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate names: {dupes}"
    return sorted(entries, key=lambda e: e["name"])


def write(path: Path, document: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="ascii", newline="\n") as fh:
        json.dump(document, fh, indent=1, ensure_ascii=True, sort_keys=False)
        fh.write("\n")
    print(f"wrote {path}")


# --------------------------------------------------------------------------
# Session contents used by both frameworks
# --------------------------------------------------------------------------

UNICODE = {
    "caf\u00e9": "na\u00efve \u00e9t\u00e9",
    "emoji \U0001F600": "\U0001F680\U0001F468\u200d\U0001F469\u200d\U0001F467",
    "cjk \u4e2d\u6587": "\u65e5\u672c\u8a9e",
    "separators": "\u2028\u2029\u0085\u00a0\ufeff",
    "high": "\uffff\U0010ffff",
}

# Insertion order differs from sorted order at the top level and inside.
NESTED_ORDER = {"zeta": 1, "alpha": {"y": 1, "b": 2, "m": {"z": [], "a": {}}}, "mid": [{"q": 1, "p": 2}]}

BIG_INTS = {"two_pow_64": 2**64, "neg_two_pow_70": -(2**70), "i64max": 2**63 - 1,
            "i64min": -(2**63), "u64max": 2**64 - 1, "zero": 0}

FLOATS = {"tenth": 0.1, "e16": 1e16, "one_and_half": 1.5, "neg_zero": -0.0,
          "one": 1.0, "third": 1 / 3, "tiny": 5e-324, "e-05": 1e-05,
          "max": 1.7976931348623157e308}

LISTS_AND_SCALARS = {"list": [1, "two", 3.0, [4, [5]], {"six": 6}], "empty_list": [],
                     "empty_dict": {}, "true": True, "false": False, "null": None}

# Flask's tagged-JSON markers: plain data in Starlette and Django.
FLASK_TAG_LOOKALIKES = {" t": [1, 2], " di": {" t": 1}, " b": "AAH+/w==", " u": "x"}

SPECIAL_STRING = {"s": "quote\" backslash\\ slash/ </script> \x00\x01\x08\t\n\r\x1b\x1f\x7f",
                  "quote\"key\\": "/"}


def large_session(seed: str) -> dict:
    # Pseudo-random base64url text: the cookie stays over 4 KB even after
    # Django compresses it (6 bits per character still compress to ~75%).
    return {"user": "alice", "blob": sha_stream(seed, 5000, B64URL)}


def repetitive_session() -> dict:
    return {"cart": [{"sku": f"SKU-{i % 7}", "qty": 1, "note": "gift wrap please"}
                     for i in range(60)], "user": "alice"}


SHARED_CASES = {
    "empty": {},
    "simple": {"user_id": 42, "name": "alice"},
    "unicode": UNICODE,
    "nested-insertion-order": NESTED_ORDER,
    "big-ints": BIG_INTS,
    "floats": FLOATS,
    "lists-bools-null": LISTS_AND_SCALARS,
    "flask-tag-lookalike-keys": FLASK_TAG_LOOKALIKES,
    "special-string": SPECIAL_STRING,
}


# ==========================================================================
# Starlette
# ==========================================================================

from starlette.applications import Starlette  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.middleware.sessions import Session, SessionMiddleware  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

import itsdangerous  # noqa: E402
from itsdangerous.encoding import base64_decode, base64_encode  # noqa: E402

ST_SECRET = "starlette-vectors-secret-key"
ST_COOKIE = "session"


def st_app(view, secret=ST_SECRET, max_age=TWO_WEEKS, **mw_options) -> Starlette:
    return Starlette(routes=[Route("/", view)],
                     middleware=[Middleware(SessionMiddleware, secret_key=secret,
                                            max_age=max_age, **mw_options)])


def st_request(view, *, cookie=None, now=T0, secret=ST_SECRET, max_age=TWO_WEEKS,
               raise_errors=True):
    """One GET / through a fresh TestClient (empty cookie jar) at time `now`.

    The cookie goes in a raw Cookie header so that the bytes Starlette parses
    are exactly `cookie` (no jar quoting or filtering).
    """
    client = TestClient(st_app(view, secret, max_age), raise_server_exceptions=raise_errors)
    headers = {"cookie": f"{ST_COOKIE}={cookie}"} if cookie is not None else {}
    with frozen_time(now):
        return client.get("/", headers=headers)


def st_middleware(secret=ST_SECRET) -> SessionMiddleware:
    """A real middleware instance, for its signer (the app is never called)."""
    return SessionMiddleware(app=None, secret_key=secret)


def st_cookie(data: dict, ts=T0, secret=ST_SECRET) -> str:
    """The cookie SessionMiddleware writes for `data` at `ts`.

    Driven through the real middleware: a view fills the session and the
    value is cut from Set-Cookie. Starlette never writes an empty session,
    so `{}` is encoded with the same two calls the middleware makes.
    """
    direct = st_sign(base64.b64encode(json.dumps(data).encode("utf-8")).decode(), ts, secret)
    if not data:
        return direct

    async def view(request):
        request.session.update(data)
        return PlainTextResponse("ok")

    response = st_request(view, now=ts, secret=secret)
    [header] = response.headers.get_list("set-cookie")
    cookie = parse_set_cookie(header)["value"]
    assert cookie == direct, (cookie, direct)
    return cookie


def st_sign(payload_segment: str, ts=T0, secret=ST_SECRET) -> str:
    """Sign an arbitrary payload segment with the middleware's own signer."""
    with frozen_time(ts):
        return st_middleware(secret).signer.sign(payload_segment.encode()).decode()


def st_split(cookie: str):
    return cookie.rsplit(".", 2)


def st_session_json(cookie: str) -> str:
    return base64.b64decode(st_split(cookie)[0]).decode("utf-8")


def st_timestamp(cookie: str) -> int:
    return int.from_bytes(base64_decode(st_split(cookie)[1]), "big")


def st_outcome(cookie: str, now: int, max_age=TWO_WEEKS, secret=ST_SECRET):
    """What Starlette does with `cookie`: (result string, session or None).

    The verdict comes from a real request through SessionMiddleware; the
    exception name from repeating the middleware's steps (unsign, then
    Session(json.loads(b64decode(...)))) with its own signer.
    """
    seen = []

    async def view(request):
        seen.append(dict(request.session))
        return PlainTextResponse("ok")

    response = st_request(view, cookie=cookie, now=now, secret=secret, max_age=max_age,
                          raise_errors=False)
    error = None
    with frozen_time(now):
        try:
            signed = st_middleware(secret).signer.unsign(cookie.encode(), max_age=max_age)
            Session(json.loads(base64.b64decode(signed)))
        except Exception as exc:  # noqa: BLE001 - record whatever the framework raises
            error = exc_name(exc)
    if response.status_code == 500:
        assert not seen and error is not None, cookie
        return f"{error} (HTTP 500)", None
    assert response.status_code == 200
    [session] = seen
    if error is not None:
        assert session == {}, (cookie, session)
        return f"{error} (empty session)", session
    return "accepted", session


def st_valid(name, data=None, *, cookie=None, ts=T0, now=T0 + 60, max_age=TWO_WEEKS,
             secret=ST_SECRET, note=None):
    if cookie is None:
        cookie = st_cookie(data, ts, secret)
    result, session = st_outcome(cookie, now, max_age, secret)
    assert result == "accepted", (name, result)
    text = st_session_json(cookie)
    # json.dumps with Python's defaults reproduces the payload byte for byte:
    # same keys, same order, same float spelling (this also catches -0.0).
    assert json.dumps(session) == text, (name, text)
    entry = {"name": name, "cookie": cookie, "secret": secret, "fallbacks": [], "now": now,
             "max_age": max_age, "timestamp": st_timestamp(cookie), "session_json": text,
             "session": session}
    if note:
        entry["note"] = note
    return entry


def find_b64_specials() -> dict:
    """A session whose base64 payload contains '+', '/' and '=' padding."""
    for n in range(1, 400):
        data = {"k": sha_stream("b64-specials", n, "".join(map(chr, range(0x21, 0x7f))))}
        encoded = base64.b64encode(json.dumps(data).encode()).decode()
        if "+" in encoded and "/" in encoded and encoded.endswith("="):
            return data
    raise AssertionError("no session with + / = in its base64")


def st_valid_vectors():
    v = [st_valid(f"st-{name}", data) for name, data in SHARED_CASES.items()]
    add = v.append
    add(st_valid("st-large-over-4k", large_session("st-large")))
    specials = st_valid("st-base64-plus-slash-padding", find_b64_specials())
    payload = st_split(specials["cookie"])[0]
    assert "+" in payload and "/" in payload and payload.endswith("="), payload
    add(specials)
    add(st_valid("st-age-exactly-max-age", {"a": 1}, now=T0 + TWO_WEEKS,
                 note="itsdangerous uses integer seconds and rejects only age > max_age"))
    add(st_valid("st-same-second", {"a": 1}, now=T0))
    add(st_valid("st-max-age-60", {"a": 1}, now=T0 + 60, max_age=60))
    add(st_valid("st-ts-small", {"a": 1}, ts=1, now=61))
    add(st_valid("st-ts-five-bytes", {"a": 1}, ts=2**32 + 5, now=2**32 + 65))
    add(st_valid("st-secret-unicode", {"a": 1}, secret="cl\u00e9 \U0001F511"))
    add(st_valid("st-secret-long", {"a": 1}, secret="s" * 100))
    # Starlette reads any JSON text, not just what json.dumps writes.
    hand = base64.b64encode('{ "b" : [1,2],\n "a":"caf\u00e9" }'.encode()).decode()
    add(st_valid_handmade("st-payload-whitespace-raw-utf8", st_sign(hand)))
    return v


def st_valid_handmade(name, cookie, now=T0 + 60):
    """A validly signed cookie Starlette never writes but accepts."""
    result, session = st_outcome(cookie, now)
    assert result == "accepted", (name, result)
    return {"name": name, "cookie": cookie, "secret": ST_SECRET, "fallbacks": [], "now": now,
            "max_age": TWO_WEEKS, "timestamp": st_timestamp(cookie),
            "session_json": st_session_json(cookie), "session": session,
            "note": "hand-signed with the middleware's signer: whitespace and raw UTF-8 in the JSON"}


def st_rejected(name, cookie, expected_kind, *, now=T0 + 60, max_age=TWO_WEEKS,
                secret=ST_SECRET, note=None):
    result, session = st_outcome(cookie, now, max_age, secret)
    entry = {"name": name, "cookie": cookie, "secret": secret, "fallbacks": [], "now": now,
             "max_age": max_age, "expected_kind": expected_kind, "framework_result": result}
    if result == "accepted":
        entry["framework_session"] = session
    if note:
        entry["note"] = note
    return entry


def st_flip(cookie: str, segment: int, index: int) -> str:
    parts = st_split(cookie)
    if segment == 0:  # standard alphabet with '=' padding
        parts[0] = flip_b64(parts[0], index, B64STD, base64.b64decode,
                            lambda b: base64.b64encode(b).decode())
    else:
        parts[segment] = flip_b64(parts[segment], index, B64URL, base64_decode,
                                  lambda b: base64_encode(b).decode())
    return ".".join(parts)


def st_rejected_vectors():
    v = []
    add = v.append
    good = st_cookie({"user_id": 42, "name": "Zo\u00eb"})
    payload, ts, sig = st_split(good)
    sig_kind, structural = "bad_signature", "malformed_or_bad_signature"

    add(st_rejected("st-wrong-key", good, sig_kind, secret="another-secret-key"))
    with frozen_time(T0):
        other_salt = itsdangerous.TimestampSigner(ST_SECRET, salt="other-salt").sign(
            payload.encode()).decode()
    add(st_rejected("st-wrong-salt", other_salt, sig_kind,
                    note="itsdangerous TimestampSigner with salt 'other-salt' instead of the default"))
    for where, index in (("first", 0), ("middle", len(payload) // 2), ("last", len(payload.rstrip("=")) - 1)):
        add(st_rejected(f"st-flip-payload-{where}", st_flip(good, 0, index), sig_kind))
    add(st_rejected("st-flip-timestamp-first", st_flip(good, 1, 0), sig_kind))
    add(st_rejected("st-flip-timestamp-last", st_flip(good, 1, len(ts) - 1), sig_kind))
    add(st_rejected("st-flip-signature-first", st_flip(good, 2, 0), sig_kind))
    add(st_rejected("st-flip-signature-last", st_flip(good, 2, len(sig) - 1), sig_kind))

    add(st_rejected("st-truncated-last-char", good[:-1], structural))
    add(st_rejected("st-truncated-signature", good[:-len(sig)], structural))
    add(st_rejected("st-truncated-signature-and-dot", good[:-len(sig) - 1], structural))
    add(st_rejected("st-truncated-half", good[:len(good) // 2], structural))
    add(st_rejected("st-truncated-payload-only", payload, structural))
    add(st_rejected("st-truncated-first-char", good[:1], structural))
    add(st_rejected("st-empty", "", structural))
    add(st_rejected("st-garbage", "garbage-value-123", structural))
    add(st_rejected("st-garbage-dots", "!!!.@@@.###", structural))

    add(st_rejected("st-expired-one-second", good, "expired", now=T0 + TWO_WEEKS + 1))
    add(st_rejected("st-expired-max-age-60", good, "expired", now=T0 + 61, max_age=60))
    add(st_rejected("st-future-one-second", good, "expired", now=T0 - 1,
                    note="itsdangerous rejects a negative age (SignatureExpired)"))
    add(st_rejected("st-future-far", st_cookie({"a": 1}, ts=T0 + 10**6), "expired"))

    # Validly signed payloads SessionMiddleware cannot decode: the exception
    # escapes the middleware (only BadSignature is caught), so the app 500s.
    bad = "bad_payload"
    add(st_rejected("st-payload-not-json", st_sign(base64.b64encode(b"not json {").decode()), bad))
    add(st_rejected("st-payload-truncated-json", st_sign(base64.b64encode(b'{"a": 1').decode()), bad))
    add(st_rejected("st-payload-empty", st_sign(""), bad))
    add(st_rejected("st-payload-not-base64", st_sign("!!!!"), bad,
                    note="b64decode drops non-alphabet characters, then json.loads(b'') fails"))
    add(st_rejected("st-payload-bad-padding", st_sign("eyJhIjogMX0"), bad,
                    note="base64 of '{\"a\": 1}' without its '=': b64decode raises"))
    add(st_rejected("st-payload-not-utf8", st_sign(base64.b64encode(b'{"a": "\xff"}').decode()), bad))
    add(st_rejected("st-payload-json-int", st_sign(base64.b64encode(b"42").decode()), bad))
    add(st_rejected("st-payload-json-array", st_sign(base64.b64encode(b"[1, 2]").decode()), bad))
    add(st_rejected("st-payload-json-null", st_sign(base64.b64encode(b"null").decode()), bad,
                    note="Session(None) raises TypeError"))
    add(st_rejected("st-payload-json-array-of-pairs",
                    st_sign(base64.b64encode(b'[["a", 1]]').decode()), bad,
                    note="Starlette accepts it: Session([['a', 1]]) == {'a': 1}; "
                         "a codec that requires a JSON object rejects it"))
    add(st_rejected("st-payload-json-empty-array", st_sign(base64.b64encode(b"[]").decode()), bad,
                    note="Starlette accepts it as an empty session"))
    # The urlsafe alphabet is not Starlette's: b64decode drops '-' and '_'.
    data = find_b64_specials()
    urlsafe = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    add(st_rejected("st-payload-urlsafe-alphabet", st_sign(urlsafe), "any",
                    note="payload in the base64url alphabet: Starlette's b64decode discards "
                         "'-'/'_', so it fails or decodes other bytes"))
    return v


def st_produce(name, data, ts=T0, secret=ST_SECRET, note=None):
    cookie = st_cookie(data, ts, secret)
    entry = {"name": name, "secret": secret, "timestamp": ts,
             "session_json": st_session_json(cookie), "session": data, "cookie": cookie}
    assert st_timestamp(cookie) == ts
    if note:
        entry["note"] = note
    return entry


def st_produce_vectors():
    v = [st_produce(f"st-produce-{name}", data) for name, data in SHARED_CASES.items()
         if name != "empty"]
    add = v.append
    add(st_produce("st-produce-empty", {}, note="Starlette never sends an empty session; "
                   "this is its encoding of {} (what a cleared session would be) by the "
                   "middleware's own signer"))
    add(st_produce("st-produce-large-over-4k", large_session("st-large")))
    add(st_produce("st-produce-base64-plus-slash-padding", find_b64_specials()))
    add(st_produce("st-produce-repetitive", repetitive_session()))
    add(st_produce("st-produce-secret-unicode", {"a": 1}, secret="cl\u00e9 \U0001F511"))
    for ts in (1, 255, 256, 2**32 + 5):
        add(st_produce(f"st-produce-ts-{ts}", {"a": 1}, ts=ts))
    return v


# --------------------------------------------------------------------------
# Starlette save table
# --------------------------------------------------------------------------

ST_ACTIONS = {
    "none": "pass  # request.session is never touched",
    "read": "request.session.get('a')",
    "write": "request.session['w'] = 1",
    "remove_present": "request.session.pop('a', None)",
    "pop_missing": "request.session.pop('missing', None)",
    "clear": "request.session.clear()",
    "write_then_500": "request.session['w'] = 1; return PlainTextResponse('error', status_code=500)",
}

REQUEST_STATES = ["none", "valid", "valid_empty", "tampered", "expired", "future", "garbage"]
REQUEST_SESSION = {"a": 1, "b": 2}
GARBAGE = "garbage-value-123"


def tamper(cookie: str, sep: str) -> str:
    """Valid cookie with signature character 10 changed (base64url alphabet)."""
    head, sig = cookie.rsplit(sep, 1)
    return head + sep + change_char(sig, 10, B64URL)


def st_run_action(request, action: str):
    if action == "read":
        request.session.get("a")
    elif action in ("write", "write_then_500"):
        request.session["w"] = 1
    elif action == "remove_present":
        request.session.pop("a", None)
    elif action == "pop_missing":
        request.session.pop("missing", None)
    elif action == "clear":
        request.session.clear()
    else:
        assert action == "none", action
    if action == "write_then_500":
        return PlainTextResponse("error", status_code=500)
    return PlainTextResponse("ok")


def mint_request_cookie(state: str, mint, max_age: int, sep: str):
    """(cookie value, recorded session) for a request-cookie state at time T0."""
    if state == "none":
        return None, None
    if state == "garbage":
        return GARBAGE, None
    data = {} if state == "valid_empty" else REQUEST_SESSION
    at = {"expired": T0 - max_age - 60, "future": T0 + 60}.get(state, T0)
    cookie = mint(data, at)
    if state == "tampered":
        cookie = tamper(cookie, sep)
    return cookie, data


def st_save_row(state: str, action: str):
    cookie, data = mint_request_cookie(state, st_cookie, TWO_WEEKS, ".")

    async def view(request):
        return st_run_action(request, action)

    response = st_request(view, cookie=cookie, now=T0)
    headers = response.headers.get_list("set-cookie")
    assert len(headers) <= 1, headers
    set_cookie = None
    if headers:
        parsed = parse_set_cookie(headers[0])
        assert parsed["name"] == ST_COOKIE
        deleted = parsed["value"] == "null"
        session = None
        if not deleted:
            result, session = st_outcome(parsed["value"], T0)
            assert result == "accepted", result
        set_cookie = {"deleted": deleted, "value": parsed["value"], "session": session,
                      "attributes": parsed["attributes"], "raw": parsed["raw"]}
    vary = response.headers.get("vary")
    return {
        "name": f"{state}-{action}",
        "config": {"max_age": TWO_WEEKS, "https_only": False, "same_site": "lax", "path": "/"},
        "request_cookie": None if state == "none" else {"state": state, "session": data},
        "action": action,
        "status": response.status_code,
        "set_cookie": set_cookie,
        "vary_cookie": vary is not None and "cookie" in vary.lower(),
    }


def st_save_rows():
    return [st_save_row(state, action) for state in REQUEST_STATES for action in ST_ACTIONS]


def st_raising_view_result() -> dict:
    """What the client sees when the view raises after writing."""
    async def view(request):
        request.session["w"] = 1
        raise RuntimeError("boom")

    response = st_request(view, raise_errors=False)
    return {"status": response.status_code,
            "set_cookie": response.headers.get_list("set-cookie")}


# ==========================================================================
# Django
# ==========================================================================

import django  # noqa: E402
from django.conf import settings  # noqa: E402

DJ_SECRET = "django-vectors-secret-key"
DJ_SALT = "django.contrib.sessions.backends.signed_cookies"
DJ_COOKIE = "sessionid"
DJ_URLCONF = "frameworks_gen_vectors_urls"


def dj_dispatch(request):
    # One URL; the view to run is swapped in per request by dj_client_get.
    return dj_dispatch.view(request)


def setup_django():
    urls = types.ModuleType(DJ_URLCONF)
    sys.modules[DJ_URLCONF] = urls
    settings.configure(
        DEBUG=False,
        SECRET_KEY=DJ_SECRET,
        SECRET_KEY_FALLBACKS=[],
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        ROOT_URLCONF=DJ_URLCONF,
        USE_TZ=True,
        LOGGING_CONFIG=None,  # no "Internal Server Error" noise for the 500 rows
    )
    django.setup()
    # Django logs every 5xx response ("Internal Server Error: /"); the
    # write_then_500 rows are deliberate.
    logging.getLogger("django.request").disabled = True
    from django.urls import path
    urls.urlpatterns = [path("", dj_dispatch)]


setup_django()

from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.core import signing  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402


@contextmanager
def dj_settings(secret=DJ_SECRET, fallbacks=(), max_age=TWO_WEEKS, save_every_request=False):
    with override_settings(SECRET_KEY=secret, SECRET_KEY_FALLBACKS=list(fallbacks),
                           SESSION_COOKIE_AGE=max_age,
                           SESSION_SAVE_EVERY_REQUEST=save_every_request):
        yield


def dj_cookie(data: dict, ts=T0, secret=DJ_SECRET, fallbacks=()) -> str:
    """The session key SessionStore.save() makes, i.e. the cookie value.

    SessionStore._get_session_key is signing.dumps(self._session,
    compress=True, salt=DJ_SALT, serializer=JSONSerializer).
    """
    with dj_settings(secret, fallbacks), frozen_time(ts):
        store = SessionStore()
        store.update(data)
        store.save()
        cookie = store.session_key
        direct = signing.dumps(data, salt=DJ_SALT, compress=True,
                               serializer=signing.JSONSerializer)
    assert cookie == direct, (cookie, direct)
    return cookie


@contextmanager
def dj_frozen_clock(ts: int):
    """frozen_time plus django.utils.timezone.now, the clock set_expiry(timedelta),
    get_expiry_age() and get_expiry_date() use (datetime.now ignores time.time)."""
    def now():
        return datetime.fromtimestamp(ts, tz=timezone.utc if settings.USE_TZ else None)

    with frozen_time(ts), mock.patch("django.utils.timezone.now", side_effect=now):
        yield


def dj_client_get(view, *, cookie=None, now=T0, raise_errors=True, **config):
    """One GET / through SessionMiddleware with a fresh django.test.Client.

    The raw Cookie header is passed as HTTP_COOKIE so Django parses exactly
    `cookie` (the client's own jar is empty).
    """
    dj_dispatch.view = view
    extra = {"HTTP_COOKIE": f"{DJ_COOKIE}={cookie}"} if cookie is not None else {}
    with dj_settings(**config), dj_frozen_clock(now):
        return Client(raise_request_exception=raise_errors).get("/", **extra)


def dj_set_cookie_lines(response) -> list[str]:
    # Django's WSGI handler emits morsel.output(header="") (a leading space
    # the server trims); OutputString() is the header value on the wire.
    return [morsel.OutputString() for morsel in response.cookies.values()]


def dj_cookie_via_middleware(data: dict, ts=T0, secret=DJ_SECRET) -> str:
    def view(request):
        request.session.update(data)
        return HttpResponse("ok")

    [line] = dj_set_cookie_lines(dj_client_get(view, now=ts, secret=secret))
    return parse_set_cookie(line)["value"]


def dj_split(cookie: str):
    return cookie.rsplit(":", 2)


def dj_session_json(cookie: str) -> tuple[str, bool]:
    payload = dj_split(cookie)[0]
    compressed = payload.startswith(".")
    raw = b64url_nopad_decode(payload.lstrip("."))
    if compressed:
        raw = zlib.decompress(raw)
    return raw.decode("latin-1"), compressed


def dj_timestamp(cookie: str) -> int:
    return signing.b62_decode(dj_split(cookie)[1])


def dj_outcome(cookie: str, now: int, max_age=TWO_WEEKS, secret=DJ_SECRET, fallbacks=()):
    """What Django does with `cookie`: (result string, session).

    The session comes from SessionStore(session_key=cookie).load(), which
    swallows every error into {}; the exception name from calling
    signing.loads exactly as load() does.
    """
    with dj_settings(secret, fallbacks, max_age), frozen_time(now):
        store = SessionStore(session_key=cookie)
        session = store.load()
        try:
            signing.loads(cookie, salt=DJ_SALT, serializer=signing.JSONSerializer,
                          max_age=max_age)
            error = None
        except Exception as exc:  # noqa: BLE001 - record whatever Django raises
            error = exc_name(exc)
    status, seen = dj_read_via_middleware(cookie, now, max_age, secret, fallbacks)
    if error is not None:
        assert session == {} and store.modified, (cookie, session)
        assert (status, seen) == (200, {}), (cookie, status, seen)
        return f"{error} (empty session)", session
    if not isinstance(session, dict):
        # load() hands back whatever JSON value was signed; the first
        # session access in a view then fails.
        assert status == 500, (cookie, status)
        return f"accepted as {type(session).__name__}; request.session.get() -> {seen} (HTTP 500)", session
    assert (status, seen) == (200, session), (cookie, status, seen)
    return "accepted", session


def dj_read_via_middleware(cookie, now, max_age, secret, fallbacks):
    """(status, session dict or exception name) for a view reading the session."""
    seen = []

    def view(request):
        try:
            request.session.get("a")
            seen.append(dict(request.session.items()))
        except Exception as exc:  # noqa: BLE001
            seen.append(exc_name(exc))
            raise
        return HttpResponse("ok")

    response = dj_client_get(view, cookie=cookie, now=now, secret=secret, fallbacks=fallbacks,
                             max_age=max_age, raise_errors=False)
    [result] = seen
    return response.status_code, result


def dj_valid(name, data=None, *, cookie=None, ts=T0, now=T0 + 60, max_age=TWO_WEEKS,
             secret=DJ_SECRET, fallbacks=(), signed_with=None, note=None):
    if cookie is None:
        cookie = dj_cookie(data, ts, signed_with or secret)
    result, session = dj_outcome(cookie, now, max_age, secret, fallbacks)
    assert result == "accepted", (name, result)
    text, compressed = dj_session_json(cookie)
    if data is not None:
        assert session == data
        assert signing.JSONSerializer().dumps(session).decode() == text, name
    entry = {"name": name, "cookie": cookie, "secret": secret, "fallbacks": list(fallbacks),
             "now": now, "max_age": max_age, "timestamp": dj_timestamp(cookie),
             "session_json": text, "session": session, "compressed": compressed}
    if note:
        entry["note"] = note
    return entry


def dj_sign(payload_segment: str, ts=T0, secret=DJ_SECRET) -> str:
    """Sign an arbitrary payload segment with the signer signing.dumps uses."""
    with dj_settings(secret), frozen_time(ts):
        return signing.TimestampSigner(salt=DJ_SALT).sign(payload_segment)


def near_boundary_sessions() -> dict:
    """Sessions whose zlib output is 0, 1, 2 or 3 bytes shorter than the JSON.

    Django keeps the compressed form only if len(z) < len(data) - 1, i.e.
    it saves at least 2 bytes; these pin the threshold.
    """
    found = {}
    alphabet = "".join(chr(c) for c in range(0x21, 0x7f) if chr(c) not in "\"\\")
    for n in range(50, 600):
        data = {"d": sha_stream("dj-boundary", n, alphabet)}
        raw = signing.JSONSerializer().dumps(data)
        saved = len(raw) - len(zlib.compress(raw))
        if saved in (0, 1, 2, 3) and saved not in found:
            found[saved] = data
    assert set(found) == {0, 1, 2, 3}, sorted(found)
    return found


def dj_valid_vectors():
    v = [dj_valid(f"dj-{name}", data) for name, data in SHARED_CASES.items()]
    add = v.append
    add(dj_valid("dj-large-over-4k", large_session("dj-large")))
    add(dj_valid("dj-compressed-repetitive", repetitive_session()))
    add(dj_valid("dj-compressed-long-string", {"s": "abc" * 2000}))
    add(dj_valid("dj-uncompressed-short-random", {"r": sha_stream("dj-short", 24, B64URL)}))
    for saved, data in sorted(near_boundary_sessions().items()):
        add(dj_valid(f"dj-zlib-boundary-saves-{saved}", data))
    add(dj_valid("dj-auth-login", {"_auth_user_id": "1",
                                   "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                                   "_auth_user_hash": sha_stream("hash", 64, "0123456789abcdef")}))

    old, older, new = "old-secret-key", "older-secret-key", "new-secret-key"
    add(dj_valid("dj-fallback-first", {"a": 1}, secret=new, fallbacks=[old, older], signed_with=old))
    add(dj_valid("dj-fallback-second", {"a": 1}, secret=new, fallbacks=[old, older], signed_with=older))
    add(dj_valid("dj-fallback-configured-current-signed", {"a": 1}, secret=new,
                 fallbacks=[old, older]))

    add(dj_valid("dj-future-one-second", {"a": 1}, now=T0 - 1,
                 note="Django checks only age > max_age: a future timestamp is accepted"))
    add(dj_valid("dj-future-far", {"a": 1}, ts=T0 + 10**6, now=T0))
    add(dj_valid("dj-age-exactly-max-age", {"a": 1}, now=T0 + TWO_WEEKS,
                 note="age = time.time() - ts as a float; with the clock frozen at a whole "
                      "second age == max_age exactly and Django accepts (age > max_age rejects)"))
    add(dj_valid("dj-same-second", {"a": 1}, now=T0))
    add(dj_valid("dj-max-age-60", {"a": 1}, now=T0 + 60, max_age=60))
    add(dj_valid("dj-ts-small", {"a": 1}, ts=1, now=61))
    add(dj_valid("dj-ts-zero", {"a": 1}, ts=0, now=60, note="base62 timestamp '0'"))
    add(dj_valid("dj-secret-unicode", {"a": 1}, secret="cl\u00e9 \U0001F511"))
    add(dj_valid("dj-secret-long", {"a": 1}, secret="s" * 100))
    # Django decompresses any zlib stream (level 9 here), and json.loads
    # accepts whitespace Django never writes.
    level9 = zlib.compress(json.dumps({"level": 9, "pad": "x" * 200}).encode(), 9)
    add(dj_valid("dj-zlib-level-9", cookie=dj_sign("." + b64url_nopad(level9)),
                 note="hand-signed: Django decompresses any zlib stream"))
    add(dj_valid("dj-payload-whitespace", cookie=dj_sign(b64url_nopad(b'{ "b" : [1, 2],\n "a" : 1 }')),
                 note="hand-signed: whitespace in the JSON"))
    return v


def dj_rejected(name, cookie, expected_kind, *, now=T0 + 60, max_age=TWO_WEEKS,
                secret=DJ_SECRET, fallbacks=(), note=None):
    result, session = dj_outcome(cookie, now, max_age, secret, fallbacks)
    entry = {"name": name, "cookie": cookie, "secret": secret, "fallbacks": list(fallbacks),
             "now": now, "max_age": max_age, "expected_kind": expected_kind,
             "framework_result": result}
    if result == "accepted":
        entry["framework_session"] = session
    if note:
        entry["note"] = note
    return entry


def dj_flip(cookie: str, segment: int, index: int) -> str:
    parts = dj_split(cookie)
    seg = parts[segment]
    if segment == 1:  # base62 timestamp: any other digit changes the value
        parts[1] = change_char(seg, index, BASE62)
    else:
        prefix = "." if seg.startswith(".") else ""
        parts[segment] = prefix + flip_b64(seg[len(prefix):], index, B64URL,
                                           b64url_nopad_decode, b64url_nopad)
    return ":".join(parts)


def dj_rejected_vectors():
    v = []
    add = v.append
    plain = dj_cookie({"user_id": 42, "name": "Zo\u00eb"})
    comp = dj_cookie(repetitive_session())
    assert comp.startswith(".") and not plain.startswith(".")
    sig_kind, structural = "bad_signature", "malformed_or_bad_signature"

    add(dj_rejected("dj-wrong-key", plain, sig_kind, secret="another-secret-key"))
    add(dj_rejected("dj-fallback-not-configured", dj_cookie({"a": 1}, secret="old-secret-key"),
                    sig_kind, secret="new-secret-key"))
    add(dj_rejected("dj-signed-with-unlisted-key", dj_cookie({"a": 1}, secret="retired-key"),
                    sig_kind, secret="new-secret-key", fallbacks=["old-secret-key"]))
    with dj_settings(), frozen_time(T0):
        other_salt = signing.dumps({"user_id": 42}, salt="django.core.signing", compress=True,
                                   serializer=signing.JSONSerializer)
    add(dj_rejected("dj-wrong-salt", other_salt, sig_kind,
                    note="signing.dumps with salt 'django.core.signing' (the default salt)"))

    for label, cookie in (("plain", plain), ("compressed", comp)):
        payload, ts, sig = dj_split(cookie)
        body = payload.lstrip(".")
        for where, index in (("first", 0), ("middle", len(body) // 2), ("last", len(body) - 1)):
            add(dj_rejected(f"dj-flip-payload-{where}-{label}", dj_flip(cookie, 0, index), sig_kind))
        add(dj_rejected(f"dj-flip-timestamp-first-{label}", dj_flip(cookie, 1, 0), sig_kind))
        add(dj_rejected(f"dj-flip-timestamp-last-{label}", dj_flip(cookie, 1, len(ts) - 1), sig_kind))
        add(dj_rejected(f"dj-flip-signature-first-{label}", dj_flip(cookie, 2, 0), sig_kind))
        add(dj_rejected(f"dj-flip-signature-last-{label}", dj_flip(cookie, 2, len(sig) - 1), sig_kind))
        add(dj_rejected(f"dj-truncated-last-char-{label}", cookie[:-1], structural))
        add(dj_rejected(f"dj-truncated-signature-{label}", cookie[:-len(sig)], structural))
        add(dj_rejected(f"dj-truncated-signature-and-colon-{label}", cookie[:-len(sig) - 1], structural))
        add(dj_rejected(f"dj-truncated-half-{label}", cookie[:len(cookie) // 2], structural))
        add(dj_rejected(f"dj-truncated-payload-only-{label}", payload, structural))
        add(dj_rejected(f"dj-expired-one-second-{label}", cookie, "expired", now=T0 + TWO_WEEKS + 1))
    # The '.' compression marker is covered by the MAC like any other byte.
    add(dj_rejected("dj-compressed-marker-dropped", comp[1:], sig_kind))
    add(dj_rejected("dj-compressed-marker-replaced", "A" + comp[1:], sig_kind))
    add(dj_rejected("dj-compressed-marker-added", "." + plain, sig_kind))

    add(dj_rejected("dj-expired-max-age-60", plain, "expired", now=T0 + 61, max_age=60))
    add(dj_rejected("dj-expired-via-fallback-key", dj_cookie({"a": 1}, secret="old-secret-key"),
                    "expired", now=T0 + TWO_WEEKS + 1, secret="new-secret-key",
                    fallbacks=["old-secret-key"]))
    add(dj_rejected("dj-empty", "", structural))
    add(dj_rejected("dj-garbage", "garbage-value-123", structural))
    add(dj_rejected("dj-garbage-colons", "!!!:@@@:###", structural))
    add(dj_rejected("dj-starlette-format", st_cookie({"a": 1}), structural,
                    note="a Starlette cookie ('.'-separated) has no ':'"))

    # Validly signed payloads Django cannot decode: load() catches every
    # exception and starts an empty session.
    bad = "bad_payload"
    add(dj_rejected("dj-payload-not-json", dj_sign(b64url_nopad(b"not json {")), bad))
    add(dj_rejected("dj-payload-truncated-json", dj_sign(b64url_nopad(b'{"a":1')), bad))
    add(dj_rejected("dj-payload-empty", dj_sign(""), bad))
    add(dj_rejected("dj-payload-not-base64", dj_sign("!!!!"), bad))
    add(dj_rejected("dj-payload-base64-length-1-mod-4", dj_sign("eyJhIjoxf"), bad))
    add(dj_rejected("dj-payload-not-latin1-json", dj_sign(b64url_nopad('{"a":"\u00e9"}'.encode())), "any",
                    note="raw UTF-8 bytes: Django decodes latin-1 and accepts mojibake"))
    add(dj_rejected("dj-payload-not-zlib", dj_sign("." + b64url_nopad(b'{"a":1}')), bad))
    add(dj_rejected("dj-payload-zlib-truncated",
                    dj_sign("." + b64url_nopad(zlib.compress(b'{"a":"' + b"x" * 100 + b'"}')[:-6])), bad))
    add(dj_rejected("dj-payload-compressed-marker-empty", dj_sign("."), bad))
    add(dj_rejected("dj-payload-json-int", dj_sign(b64url_nopad(b"42")), bad,
                    note="signing.loads returns 42 and SessionStore.load() returns it as the session"))
    add(dj_rejected("dj-payload-json-array", dj_sign(b64url_nopad(b"[1,2]")), bad,
                    note="SessionStore.load() returns the list; the first session access then raises"))
    add(dj_rejected("dj-payload-json-null", dj_sign(b64url_nopad(b"null")), bad))
    return v


def dj_produce(name, data, ts=T0, secret=DJ_SECRET, note=None, via_middleware=True):
    """The cookie Django writes at `ts`: from SessionMiddleware when it would
    write (non-empty session), checked against SessionStore.save()."""
    cookie = dj_cookie(data, ts, secret)
    if via_middleware:
        assert dj_cookie_via_middleware(data, ts, secret) == cookie, name
    text, compressed = dj_session_json(cookie)
    entry = {"name": name, "secret": secret, "timestamp": ts, "session_json": text,
             "session": data, "cookie": cookie, "compressed": compressed}
    assert dj_timestamp(cookie) == ts
    if note:
        entry["note"] = note
    return entry


def dj_produce_vectors():
    v = [dj_produce(f"dj-produce-{name}", data) for name, data in SHARED_CASES.items()
         if name != "empty"]
    add = v.append
    add(dj_produce("dj-produce-empty", {}, via_middleware=False,
                   note="SessionMiddleware never writes an empty session (it deletes or does "
                        "nothing); this is SessionStore.save() of {}, which is what it writes "
                        "after clear() on a request that carried a cookie"))
    add(dj_produce("dj-produce-large-over-4k", large_session("dj-large")))
    add(dj_produce("dj-produce-compressed-repetitive", repetitive_session()))
    add(dj_produce("dj-produce-compressed-long-string", {"s": "abc" * 2000}))
    add(dj_produce("dj-produce-uncompressed-short-random", {"r": sha_stream("dj-short", 24, B64URL)}))
    for saved, data in sorted(near_boundary_sessions().items()):
        add(dj_produce(f"dj-produce-zlib-boundary-saves-{saved}", data,
                       note=f"zlib saves {saved} byte(s); compressed iff it saves >= 2"))
    add(dj_produce("dj-produce-secret-unicode", {"a": 1}, secret="cl\u00e9 \U0001F511"))
    for ts in (0, 61, 62, 2**32 + 5):
        add(dj_produce(f"dj-produce-ts-{ts}", {"a": 1}, ts=ts))
    return v


# --------------------------------------------------------------------------
# Django save table
# --------------------------------------------------------------------------

DJ_ACTIONS = {
    "none": "pass  # request.session is never touched",
    "read": "request.session.get('a')",
    "write": "request.session['w'] = 1",
    "remove_present": "request.session.pop('a', None)",
    "pop_missing": "request.session.pop('missing', None)",
    "clear": "request.session.clear()",
    "flush": "request.session.flush()  # what django.contrib.auth.logout() does",
    "write_then_500": "request.session['w'] = 1; return HttpResponse('error', status=500)",
}

DJ_CONFIGS = [
    {"SESSION_SAVE_EVERY_REQUEST": False, "SESSION_COOKIE_AGE": TWO_WEEKS},
    {"SESSION_SAVE_EVERY_REQUEST": True, "SESSION_COOKIE_AGE": TWO_WEEKS},
]


def dj_run_action(request, action: str):
    if action == "read":
        request.session.get("a")
    elif action in ("write", "write_then_500"):
        request.session["w"] = 1
    elif action == "remove_present":
        request.session.pop("a", None)
    elif action == "pop_missing":
        request.session.pop("missing", None)
    elif action == "clear":
        request.session.clear()
    elif action == "flush":
        request.session.flush()
    else:
        assert action == "none", action
    if action == "write_then_500":
        return HttpResponse("error", status=500)
    return HttpResponse("ok")


def dj_save_row(state: str, action: str, config: dict):
    cookie, data = mint_request_cookie(state, dj_cookie, config["SESSION_COOKIE_AGE"], ":")
    response = dj_client_get(lambda request: dj_run_action(request, action), cookie=cookie,
                             now=T0, max_age=config["SESSION_COOKIE_AGE"],
                             save_every_request=config["SESSION_SAVE_EVERY_REQUEST"])
    lines = dj_set_cookie_lines(response)
    assert len(lines) <= 1, lines
    set_cookie = None
    if lines:
        parsed = parse_set_cookie(lines[0])
        assert parsed["name"] == DJ_COOKIE
        deleted = parsed["attributes"].get("max-age") == "0"
        session = None
        if not deleted:
            result, session = dj_outcome(parsed["value"], T0, config["SESSION_COOKIE_AGE"])
            assert result == "accepted", result
        set_cookie = {"deleted": deleted, "value": parsed["value"], "session": session,
                      "attributes": parsed["attributes"], "raw": parsed["raw"]}
    vary = response.headers.get("Vary")
    every = "-save-every-request" if config["SESSION_SAVE_EVERY_REQUEST"] else ""
    return {
        "name": f"{state}-{action}{every}",
        "config": dict(config),
        "request_cookie": None if state == "none" else {"state": state, "session": data},
        "action": action,
        "status": response.status_code,
        "set_cookie": set_cookie,
        "vary_cookie": vary is not None and "cookie" in vary.lower(),
    }


def dj_save_rows():
    return [dj_save_row(state, action, config) for config in DJ_CONFIGS
            for state in REQUEST_STATES for action in DJ_ACTIONS]


def dj_flush_then_500_result() -> dict:
    """Whether the deletion cookie survives a 500 (the write path does not)."""
    def view(request):
        request.session.flush()
        return HttpResponse("error", status=500)

    response = dj_client_get(view, cookie=dj_cookie(REQUEST_SESSION))
    return {"request_cookie": "valid", "action": "request.session.flush(); return a 500",
            "status": response.status_code, "set_cookie": dj_set_cookie_lines(response),
            "vary": response.headers.get("Vary")}


def dj_short_cookie_result() -> dict:
    """A cookie shorter than 8 characters is not a session key at all."""
    response = dj_client_get(lambda request: HttpResponse("ok"), cookie="short")
    return {"request_cookie": "short", "action": "none", "status": response.status_code,
            "set_cookie": dj_set_cookie_lines(response)}


# --------------------------------------------------------------------------
# Django save table: custom expiry (request.session.set_expiry)
# --------------------------------------------------------------------------


def dj_iso(ts: float) -> str:
    """What set_expiry(aware datetime) stores: value.isoformat() (USE_TZ=True, UTC)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


# (label, _session_expiry) already in the request cookie's session, signed at T0.
DJ_EXPIRY_VALUES = [
    ("0", 0),
    ("300", 300),
    ("30d", 30 * 86400),  # longer than SESSION_COOKIE_AGE
    ("neg300", -300),  # set_expiry(-300) stores it as is
    ("datetime-1d-us", dj_iso(T0 + 86400 + 0.25)),
    ("datetime-1d", dj_iso(T0 + 86400)),
    ("datetime-past-1h", dj_iso(T0 - 3600)),
    ("false", False),
    ("null", None),
]
DJ_EXPIRY_SESSION = {"a": 1}

DJ_EXPIRY_ACTIONS = {
    "none": DJ_ACTIONS["none"],
    "read": DJ_ACTIONS["read"],
    "write": DJ_ACTIONS["write"],
    "set_expiry_0": "request.session.set_expiry(0); request.session['w'] = 1",
    "set_expiry_300": "request.session.set_expiry(300); request.session['w'] = 1",
    "set_expiry_timedelta_1d": "request.session.set_expiry(timedelta(days=1)); "
                               "request.session['w'] = 1",
    "set_expiry_datetime_1d": "request.session.set_expiry(<aware UTC datetime now + 1 day>); "
                              "request.session['w'] = 1",
    "set_expiry_none_after_0": "request.session.set_expiry(0); request.session.set_expiry(None); "
                               "request.session['w'] = 1",
}
DJ_SET_EXPIRY_STATES = ["none", "valid"]


def dj_run_expiry_action(request, action: str):
    if action.startswith("set_expiry_"):
        value = {
            "set_expiry_0": 0,
            "set_expiry_300": 300,
            "set_expiry_timedelta_1d": timedelta(days=1),
            "set_expiry_datetime_1d": datetime.fromtimestamp(T0 + 86400, tz=timezone.utc),
            "set_expiry_none_after_0": 0,
        }[action]
        request.session.set_expiry(value)
        if action == "set_expiry_none_after_0":
            request.session.set_expiry(None)
        action = "write"
    return dj_run_action(request, action)


def dj_expiry_row(name: str, data, action: str, config: dict):
    """dj_save_row for a request cookie of `data` (None: no cookie) signed at T0."""
    cookie = None if data is None else dj_cookie(data)
    response = dj_client_get(lambda request: dj_run_expiry_action(request, action),
                             cookie=cookie, now=T0, max_age=config["SESSION_COOKIE_AGE"],
                             save_every_request=config["SESSION_SAVE_EVERY_REQUEST"])
    lines = dj_set_cookie_lines(response)
    assert len(lines) <= 1, lines
    set_cookie = None
    if lines:
        parsed = parse_set_cookie(lines[0])
        assert parsed["name"] == DJ_COOKIE
        deleted = parsed["attributes"].get("max-age") == "0"
        session = None
        if not deleted:
            result, session = dj_outcome(parsed["value"], T0, config["SESSION_COOKIE_AGE"])
            assert result == "accepted", result
        set_cookie = {"deleted": deleted, "value": parsed["value"], "session": session,
                      "attributes": parsed["attributes"], "raw": parsed["raw"]}
    vary = response.headers.get("Vary")
    every = "-save-every-request" if config["SESSION_SAVE_EVERY_REQUEST"] else ""
    return {
        "name": f"{name}{every}",
        "config": dict(config),
        "request_cookie": None if data is None else {"state": "valid", "session": data},
        "action": action,
        "status": response.status_code,
        "set_cookie": set_cookie,
        "vary_cookie": vary is not None and "cookie" in vary.lower(),
    }


def dj_expiry_rows():
    rows = [dj_expiry_row(f"expiry-{label}-{action}",
                          {**DJ_EXPIRY_SESSION, "_session_expiry": expiry}, action, config)
            for config in DJ_CONFIGS for label, expiry in DJ_EXPIRY_VALUES
            for action in ("write", "read", "none")]
    rows += [dj_expiry_row(f"{state}-{action}",
                           None if state == "none" else dict(DJ_EXPIRY_SESSION), action,
                           DJ_CONFIGS[0])
             for state in DJ_SET_EXPIRY_STATES for action in DJ_EXPIRY_ACTIONS
             if action.startswith("set_expiry_")]
    return rows


# ==========================================================================
# Documents
# ==========================================================================


def generator_info(framework: str) -> dict:
    info = {"python": sys.version.split()[0], framework: version(framework)}
    if framework == "starlette":
        info["itsdangerous"] = version("itsdangerous")
        info["httpx2"] = version("httpx2")  # what starlette.testclient imports first
    info["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    info["script"] = SCRIPT
    return info


CODEC_NOTES = {
    "expected_kind": "malformed | bad_signature | expired | bad_payload | "
                     "malformed_or_bad_signature (either is fine) | any (any error, or accepting "
                     "it, is fine)",
    "framework_result": "what the real framework did: 'accepted', or '<exception> (empty session)' "
                        "when it starts an empty session, or '<exception> (HTTP 500)' when the "
                        "error escapes the middleware",
    "framework_session": "present when the framework accepted a cookie listed as rejected",
    "session_json": "payload text exactly as the framework serialized it (after base64 decode "
                    "and, for Django, zlib decompress)",
    "session": "the decoded session; JSON object keys are in the framework's (insertion) order",
    "timestamp": "the signed timestamp, seconds since the epoch",
    "now": "clock (time.time(), frozen to this whole second) when the framework checked the cookie",
}


def starlette_documents():
    codec = {
        "generator": generator_info("starlette"),
        "notes": {
            **CODEC_NOTES,
            "fallbacks": "always []: SessionMiddleware has one key and no rotation",
            "age": "itsdangerous: age = int(time.time()) - timestamp; rejected if age > max_age "
                   "or age < 0 (SignatureExpired). Age == max_age is accepted "
                   "(st-age-exactly-max-age); one second in the future is rejected "
                   "(st-future-one-second)",
            "payload": "base64.b64encode(json.dumps(session).encode()) (standard alphabet with "
                       "'=' padding, json separators ', ' and ': ', ensure_ascii, insertion "
                       "order); signed by itsdangerous.TimestampSigner(str(secret_key)) with "
                       "all defaults",
            "bad_payload": "only BadSignature is caught: a validly signed payload that is not "
                           "base64/JSON raises inside the middleware and the app answers 500; "
                           "a JSON array of pairs (or []) is accepted as a dict",
            "produce_empty": "SessionMiddleware never writes an empty session; "
                             "st-produce-empty is its encoding of {} by the middleware's signer",
        },
        "valid": by_name(st_valid_vectors()),
        "rejected": by_name(st_rejected_vectors()),
        "produce": by_name(st_produce_vectors()),
    }
    table = {
        "generator": generator_info("starlette"),
        "secret": ST_SECRET,
        "notes": {
            "request_cookie": "re-mint at test time from `session`: valid/valid_empty at now, "
                              "expired at now - max_age - 60, future at now + 60, tampered = "
                              "valid with signature character 10 replaced by the next base64url "
                              f"character, garbage = {GARBAGE!r} (session null); null = no "
                              "cookie sent",
            "clock": f"recorded with time.time() frozen at {T0}; set_cookie.value is the cookie "
                     "minted at that time",
            "vary_cookie": "Vary: Cookie is added whenever request.session is accessed (the "
                           "property marks it), even by a plain read or a pop of a missing key; "
                           "the 'none' action never gets Vary",
            "write_on_500": "Starlette writes the cookie on a 500 response the view returns "
                            "(write_then_500 rows)",
            "view_raises": st_raising_view_result(),
            "delete": "sent only when the session was modified, is now empty, and the request "
                      "carried a cookie that decoded (valid or valid_empty): value 'null', "
                      "lowercase attributes 'path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                      "httponly; samesite=lax', no Max-Age",
            "write": "lowercase attributes in the order 'path=/; Max-Age=1209600; httponly; "
                     "samesite=lax'; no Expires",
            "no_refresh": "an unmodified session is never re-sent (no sliding refresh)",
        },
        "actions": ST_ACTIONS,
        "rows": st_save_rows(),
    }
    return codec, table


def django_documents():
    codec = {
        "generator": generator_info("django"),
        "notes": {
            **CODEC_NOTES,
            "age": "django.core.signing: age = time.time() - timestamp as a float; rejected only "
                   "if age > SESSION_COOKIE_AGE. With the clock frozen at a whole second, age "
                   "== max_age is accepted (dj-age-exactly-max-age); a real float clock is "
                   "usually a fraction past it, so the last second is racy. Future timestamps "
                   "are accepted (dj-future-one-second, dj-future-far)",
            "fallbacks": "verification tries SECRET_KEY then each SECRET_KEY_FALLBACKS entry; "
                         "signing always uses SECRET_KEY",
            "bad_payload": "SessionStore.load() catches every exception and starts an empty "
                           "session (and marks it modified). A validly signed JSON value that "
                           "is not an object (42, [1,2]) is returned by load() as the session "
                           "itself; later access fails",
            "compressed": "payload is '.' + base64url(zlib level 6) iff zlib saves >= 2 bytes "
                          "(len(z) < len(json) - 1); the '.' is inside the MAC",
            "produce_empty": "SessionMiddleware never writes {} for a request without a cookie; "
                             "dj-produce-empty is SessionStore.save() of {}",
        },
        "valid": by_name(dj_valid_vectors()),
        "rejected": by_name(dj_rejected_vectors()),
        "produce": by_name(dj_produce_vectors()),
    }
    table = {
        "generator": generator_info("django"),
        "secret": DJ_SECRET,
        "notes": {
            "request_cookie": "re-mint at test time from `session`: valid/valid_empty at now, "
                              "expired at now - SESSION_COOKIE_AGE - 60, future at now + 60, "
                              "tampered = valid with signature character 10 replaced by the next "
                              f"base64url character, garbage = {GARBAGE!r} (session null); null = no "
                              "cookie sent",
            "clock": f"recorded with time.time() frozen at {T0}; set_cookie.value and the "
                     "Expires date follow from it",
            "raw": "Django's WSGI handler emits morsel.output(header='') (leading space); raw is "
                   "morsel.OutputString(), the header value after the server trims it",
            "bad_cookie_rewritten": "a tampered/expired/garbage cookie that is accessed makes "
                                    "load() fail, which marks the session modified: Django "
                                    "answers with a freshly signed cookie of {} for a read "
                                    "(get) or clear(), not a deletion. pop() does NOT rewrite: "
                                    "SessionBase.pop computes `self.modified or key in "
                                    "self._session`, and the failed load inside that expression "
                                    "sets modified=True only for the assignment to overwrite it "
                                    "with False (tampered-remove_present, tampered-pop_missing)",
            "delete": "only when the request carried the cookie AND the session is empty with "
                      "no session key, i.e. after flush() (clear() keeps the key, so it writes a "
                      "signed {} instead). Attributes 'sessionid=\"\"; expires=Thu, 01 Jan 1970 "
                      "00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax' (value is the two "
                      "characters \"\", no HttpOnly); it always adds Vary: Cookie",
            "flush_then_500": dj_flush_then_500_result(),
            "write_on_500": "no Set-Cookie when the status is >= 500 (write_then_500)",
            "write": "attributes in the order 'expires=<now + SESSION_COOKIE_AGE as an HTTP "
                     "date>; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax' (http.cookies "
                     "sorts them; 'expires' stays lowercase)",
            "vary_cookie": "added when the session was accessed (get, pop, clear, ...), when a "
                           "cookie is set and on deletion. With SESSION_SAVE_EVERY_REQUEST even "
                           "the 'none' action gets it when a cookie was sent: the middleware's "
                           "get_expiry_age() reads the session",
            "future": "a cookie signed 60 s in the future is a valid session (no rewrite on "
                      "read)",
            "save_every_request": "re-signs (sliding refresh) on every request with a non-empty "
                                  "session key, even when the view did not touch the session; "
                                  "that load also rewrites bad cookies",
            "short_cookie": dj_short_cookie_result(),
            "short_cookie_why": "a cookie value shorter than 8 characters is not a valid session "
                                "key (session_key becomes None), so the session is 'empty' and "
                                "the middleware deletes the cookie even when the view never "
                                "touches the session",
            "expiry_rows": "custom expiry (set_expiry / '_session_expiry' in the session), "
                           "clock frozen at T0 (time.time and django.utils.timezone.now). "
                           "'expiry-<label>-<action>' rows: request cookie signed at T0 with "
                           "the session shown. '<none|valid>-set_expiry_*' rows: the view calls "
                           "set_expiry then writes (expiry_actions). When set_cookie is written: "
                           "_session_expiry == 0 (also false and 0.0: get_expire_at_browser_close "
                           "is `expiry == 0`) -> no Max-Age and no Expires; an int -> Max-Age=int "
                           "and Expires=now+int, even when negative or longer than "
                           "SESSION_COOKIE_AGE; an ISO string -> Max-Age = days*86400 + seconds "
                           "of (datetime.fromisoformat(s) - now), microseconds dropped, negative "
                           "for a past date; absent or null -> SESSION_COOKIE_AGE. set_expiry "
                           "stores a datetime/timedelta as value.isoformat() ('+00:00', "
                           "microseconds only if nonzero) and set_expiry(None) deletes the key. "
                           "_session_expiry never makes the middleware write: only modified or "
                           "SESSION_SAVE_EVERY_REQUEST do",
            "expiry_read_age": {
                "why": "signed_cookies load() checks the signature age against "
                       "SESSION_COOKIE_AGE only, whatever _session_expiry says",
                "expiry-30d signed 15 days before now":
                    dj_outcome(dj_cookie({**DJ_EXPIRY_SESSION, "_session_expiry": 30 * 86400},
                                         ts=T0 - 15 * 86400), T0)[0],
                "expiry-300 signed 600 s before now":
                    dj_outcome(dj_cookie({**DJ_EXPIRY_SESSION, "_session_expiry": 300},
                                         ts=T0 - 600), T0)[0],
                "expiry-datetime-past-1h signed at now":
                    dj_outcome(dj_cookie({**DJ_EXPIRY_SESSION,
                                          "_session_expiry": dj_iso(T0 - 3600)}), T0)[0],
            },
        },
        "actions": DJ_ACTIONS,
        "rows": dj_save_rows(),
        "expiry_actions": DJ_EXPIRY_ACTIONS,
        "expiry_rows": dj_expiry_rows(),
    }
    return codec, table


def main():
    st_codec, st_table = starlette_documents()
    dj_codec, dj_table = django_documents()
    write(FIXTURES / "starlette_codec.json", st_codec)
    write(FIXTURES / "starlette_save_table.json", st_table)
    write(FIXTURES / "django_codec.json", dj_codec)
    write(FIXTURES / "django_save_table.json", dj_table)


if __name__ == "__main__":
    main()
