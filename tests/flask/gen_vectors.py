"""Known-answer vectors for tower-cookie-session, produced by real Flask.

    python3 -m venv target/venv
    target/venv/bin/pip install -r tests/flask/requirements.txt
    target/venv/bin/python tests/flask/gen_vectors.py

Writes tests/fixtures/flask_codec.json and tests/fixtures/flask_save_table.json.
The output is deterministic: the clock is frozen for every signature, cases
are sorted by name, and the few "random" payloads come from a SHA-256 stream.
The save table is recorded against the live clock, but only time-independent
facts (booleans, decoded payloads, lifetimes) are written out.

Every cookie comes from Flask's own code path: an app's
`session_interface.get_signing_serializer(app)` or, for the save table, a
Flask app driven with `app.test_client()`. Wire-format reference:
/work/shared/docs/flask-wire-format.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
import uuid
import zlib
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from unittest import mock

import flask
import itsdangerous
from flask import Flask, flash, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous.encoding import base64_decode, base64_encode
from markupsafe import Markup
from werkzeug.http import parse_date

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
FLASK_MAX_AGE = 2_678_400  # PERMANENT_SESSION_LIFETIME default (31 days)
SECRET = b"flask-vectors-secret-key"
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


# --------------------------------------------------------------------------
# Flask plumbing
# --------------------------------------------------------------------------


def make_app(secret=SECRET, fallbacks=(), salt="cookie-session",
             key_derivation="hmac", digest="sha1") -> Flask:
    """A Flask app whose session interface uses the given signer settings.

    Non-default salt/derivation/digest are set the way Flask documents it:
    by overriding the class attributes of SecureCookieSessionInterface.
    """
    app = Flask(__name__)
    app.secret_key = secret
    app.config["SECRET_KEY_FALLBACKS"] = list(fallbacks)
    interface = type("Interface", (SecureCookieSessionInterface,), {
        "salt": salt,
        "key_derivation": key_derivation,
        "digest_method": staticmethod(DIGESTS[digest]),
    })()
    app.session_interface = interface
    return app


def serializer(app: Flask):
    return app.session_interface.get_signing_serializer(app)


@contextmanager
def frozen_time(ts: int):
    # itsdangerous reads the clock only through time.time(), both when
    # signing and when checking max_age.
    with mock.patch("time.time", return_value=float(ts)):
        yield


def cfg_fields(secret=SECRET, fallbacks=(), salt="cookie-session",
               key_derivation="hmac", digest="sha1") -> dict:
    return {
        "secret_hex": secret.hex(),
        "fallbacks_hex": [f.hex() for f in fallbacks],
        "salt": salt,
        "key_derivation": key_derivation,
        "digest": digest,
    }


def flask_dumps(data, ts=T0, **cfg) -> str:
    """Sign `data` exactly as save_session does.

    Inside a request context so that flask.json sorts keys (outside an app
    context Flask keeps insertion order, which no real app ever emits).
    """
    app = make_app(**cfg)
    with app.test_request_context(), frozen_time(ts):
        return serializer(app).dumps(data)


def sign_raw(payload_segment: str, ts=T0, **cfg) -> str:
    """Validly sign an arbitrary payload segment.

    The serializer's own TimestampSigner (same keys, salt, derivation and
    digest) signs `payload_segment` verbatim, which is how we mint cookies
    that Flask's dumps() can never produce: non-JSON, bad zlib, odd levels.
    """
    app = make_app(**cfg)
    with frozen_time(ts):
        return serializer(app).make_signer().sign(payload_segment).decode()


def b64(data: bytes) -> str:
    return base64_encode(data).decode()


def split_cookie(cookie: str) -> tuple[str, str, str]:
    # Right-split: a compressed payload segment starts with ".".
    payload, ts, sig = cookie.rsplit(".", 2)
    return payload, ts, sig


def payload_text(cookie: str) -> tuple[str, bool]:
    segment = split_cookie(cookie)[0]
    compressed = segment.startswith(".")
    raw = base64_decode(segment[1:] if compressed else segment)
    if compressed:
        raw = zlib.decompress(raw)
    return raw.decode("utf-8"), compressed


def natural(value):
    """What a Rust handler reads back through `Session::get_value`."""
    if isinstance(value, dict):
        return {k: natural(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [natural(v) for v in value]
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def flask_outcome(cookie: str, now: int, max_age, **cfg) -> tuple[str, object]:
    """Replay open_session: ("none", session dict) or (exception name, None)."""
    app = make_app(**cfg)
    with app.app_context(), frozen_time(now):
        try:
            data = serializer(app).loads(cookie, max_age=max_age)
            return "none", dict(SecureCookieSession(data))
        except Exception as exc:  # noqa: BLE001 - we record whatever Flask raises
            return type(exc).__name__, None


def sha_stream(seed: str, n: int, alphabet: str) -> str:
    """n pseudo-random characters, stable across Python versions."""
    out, counter = [], 0
    while len(out) < n:
        block = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in block)
        counter += 1
    return "".join(out[:n])


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flip(cookie: str, segment: int, index: int) -> str:
    """Change one character of a segment (0 payload, 1 timestamp, 2 signature).

    The replacement stays in the base64url alphabet, changes the decoded
    bytes, and keeps the encoding canonical (unused low bits of the last
    character stay zero), so even a strict decoder reaches the MAC check.
    """
    parts = list(split_cookie(cookie))
    seg = parts[segment]
    prefix = "." if seg.startswith(".") else ""
    body = seg[len(prefix):]
    original = base64_decode(body)
    for c in B64URL:
        if c == body[index]:
            continue
        candidate = body[:index] + c + body[index + 1:]
        decoded = base64_decode(candidate)
        if decoded != original and b64(decoded) == candidate:
            parts[segment] = prefix + candidate
            return ".".join(parts)
    raise AssertionError(f"no canonical flip for {seg!r}[{index}]")


# --------------------------------------------------------------------------
# Session contents shared by several vectors
# --------------------------------------------------------------------------

UUID_A = uuid.UUID("12345678-1234-5678-1234-567812345678")
DT_NAIVE = dt.datetime(2024, 2, 29, 18, 59, 59)
# +05:30 and microseconds: Flask converts to UTC and drops the fraction.
DT_AWARE = dt.datetime(2024, 3, 1, 0, 29, 59, 123456,
                       tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))

ALL_TAGS = {
    "tuple": (1, "a", None),
    "tuple_empty": (),
    "tuple_nested": ((1, 2), (3, (4,)), [5, (6,)], {"k": (7,)}),
    "bytes": b"\x00\x01\xfe\xff",
    "bytes_empty": b"",
    "bytes_b64_specials": b"\xfb\xff\xbf>?",  # standard alphabet: "+/+/Pj8="
    "markup": Markup("<b>bold</b> &amp; co"),
    "uuid": UUID_A,
    "datetime_naive": DT_NAIVE,
    "datetime_aware_micro": DT_AWARE,
    "datetime_epoch": dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
    "datetime_max": dt.datetime(9999, 12, 31, 23, 59, 59),
    "escape": {" t": 1},
    "escape_nested": {" di": {" t": (1, 2)}},
    "escape_of_tagged": {" b": (1, 2)},
    "escape_every_tag": [{" di": 0}, {" t": 1}, {" b": 2}, {" m": 3}, {" u": 4}, {" d": 5}],
    "two_tag_keys": {" b": 2, " t": 1},
    "tag_lookalikes": {"t": 1, " x": 2, " t ": 3, "t ": 4},
    "list_of_tagged": [b"x", (1,), UUID_A],
}

UNICODE = {
    "caf\u00e9": "na\u00efve \u00e9t\u00e9",
    "emoji \U0001F600": "\U0001F680\U0001F468\u200d\U0001F469\u200d\U0001F467",
    "cjk \u4e2d\u6587": "\u65e5\u672c\u8a9e",
    "del\x7f": "a\x7fb",
    "controls": "\x00\x01\x08\t\n\x0b\x0c\r\x1b\x1f",
    "quote\"back\\slash": "\"\\",
    "slash/html": "</script><a href=\"/x?a=1&b=2\">'</a>",
    "separators": "\u2028\u2029\u0085\u00a0\ufeff",
    "high": "\uffff\U0010ffff",
}

KEY_ORDER = {k: i for i, k in enumerate([
    "\U0001F600", "\uffff", "\ue000", "\u00e9", "\x7f", "~", "a", "_", "Z",
    "B", "A", "9", "0", " ", "\x00", "", "aa", "a\x00", "ab", "\ud7ff",
])}

FLOATS = {
    "one": 1.0, "hundred": 100.0, "e16": 1e16, "e-05": 1e-05, "e-04": 0.0001,
    "neg_zero": -0.0, "e300": 1.5e300, "sixteen_digits": 1234567890123456.0,
    "tenth": 0.1, "third": 1 / 3, "neg": -2.5, "tiny": 5e-324,
    "max": 1.7976931348623157e308, "e15": 1e15, "e22": 1e22,
}

INTS = {
    "zero": 0, "one": 1, "neg": -1, "i32max": 2**31 - 1, "u32max": 2**32 - 1,
    "i53": 2**53 + 1, "i64max": 2**63 - 1, "i64min": -(2**63),
    "bools": [True, False, None],
}


def repetitive_session():
    return {
        "cart": [{"sku": f"SKU-{i % 7}", "qty": 1, "note": "gift wrap please"}
                 for i in range(60)],
        "user": "alice",
    }


def near_boundary_sessions():
    """Sessions whose zlib output is 1, 2 or 0 bytes shorter than the JSON.

    Compression is used only when it saves at least 2 bytes
    (`len(compressed) < len(raw) - 1`), so these pin the exact threshold.
    High-entropy printable text hovers around the break-even point as the
    dynamic Huffman tables start to pay off.
    """
    found = {}
    alphabet = "".join(chr(c) for c in range(0x21, 0x7f) if chr(c) not in "\"\\")
    for n in range(100, 400):
        text = sha_stream("boundary", n, alphabet)
        raw = flask.json.dumps({"d": text}, separators=(",", ":")).encode()
        saved = len(raw) - len(zlib.compress(raw))
        if saved in (0, 1, 2, 3) and saved not in found:
            found[saved] = {"d": text}
    assert set(found) == {0, 1, 2, 3}, found.keys()
    return found


# --------------------------------------------------------------------------
# flask_codec.json
# --------------------------------------------------------------------------


def valid_vector(name, data=None, *, cookie=None, ts=T0, now=T0 + 60,
                 max_age=FLASK_MAX_AGE, verify_cfg=None, **cfg):
    """A cookie Flask accepts. `verify_cfg` overrides the verifier's config."""
    if cookie is None:
        cookie = flask_dumps(data, ts=ts, **cfg)
    verify_cfg = verify_cfg or cfg
    app = make_app(**verify_cfg)
    with app.app_context(), frozen_time(now):
        loaded = serializer(app).loads(cookie, max_age=max_age)
    assert isinstance(loaded, dict), name
    text, compressed = payload_text(cookie)
    tagged = json.loads(text)
    vector = {"name": name, **cfg_fields(**verify_cfg), "cookie": cookie,
              "now": now, "max_age": max_age, "tagged": tagged,
              "compressed": compressed}
    # `natural` only where it says something `tagged` does not.
    if natural(loaded) != tagged:
        vector["natural"] = natural(loaded)
    vector["rewritten"] = flask_rewrite(cookie, now, max_age, **verify_cfg)
    return vector


REWRITE_KEY = "rust_added"


def flask_rewrite(cookie, now, max_age, **cfg) -> str:
    """The cookie Flask writes at `now` after a view sets one more key.

    A Rust write of the same key must give these bytes: every value the
    view did not touch goes back as it came, in Flask's key order.
    """
    app = make_app(**cfg)
    # No max age: a lifetime longer than any timestamp is old.
    app.permanent_session_lifetime = max_age if max_age is not None else now + 1

    @app.route("/")
    def view():
        session[REWRITE_KEY] = 1
        return ""

    client = app.test_client()
    client.set_cookie("session", cookie)
    with frozen_time(now):
        response = client.get("/")
    return response.headers["Set-Cookie"].split(";", 1)[0].removeprefix("session=")


def valid_vectors():
    v = []
    add = v.append

    add(valid_vector("doc-worked-example", {"user_id": 42}))
    add(valid_vector("empty-session", {}))
    for key, value in ALL_TAGS.items():
        add(valid_vector(f"tag-{key}", {key: value}))
    add(valid_vector("tag-all", ALL_TAGS))

    # The top-level session is itself escaped when its only key is a tag.
    add(valid_vector("escape-top-level-u", {" u": "not a uuid"}))
    add(valid_vector("escape-top-level-di", {" di": {" t": ()}}))
    add(valid_vector("escape-top-level-two-keys", {" t": 1, " b": 2}))

    app = make_app()
    with app.test_request_context(), frozen_time(T0):
        flash("Hello")
        flash("Careful", "warning")
        flash(Markup("<i>safe</i>"), "info")
        flashes_cookie = serializer(app).dumps(dict(session))
    add(valid_vector("flashes", cookie=flashes_cookie))

    add(valid_vector("unicode", UNICODE))
    add(valid_vector("key-order", KEY_ORDER))
    add(valid_vector("floats", FLOATS))
    add(valid_vector("ints", INTS))
    add(valid_vector("nested-containers", {"a": {"b": {"c": [[], {}, [{}], {"d": [1, [2, [3]]]}]}}}))

    # Outside an app context Flask leaves keys in insertion order; a
    # verifier must not care.
    plain = make_app()
    with frozen_time(T0):
        unsorted = serializer(plain).dumps({"b": 1, "a": {"z": 1, "y": (2,)}})
    assert payload_text(unsorted)[0].startswith('{"b"'), unsorted
    add(valid_vector("unsorted-keys-no-app-context", cookie=unsorted))

    add(valid_vector("compressed-repetitive", repetitive_session()))
    add(valid_vector("compressed-long-string", {"s": "abc" * 2000}))
    add(valid_vector("compressed-flash-flood", {"_flashes": [("message", f"Saved item {i}") for i in range(40)]}))
    for saved, data in sorted(near_boundary_sessions().items()):
        add(valid_vector(f"zlib-boundary-saves-{saved}", data))

    # Flask decompresses any zlib stream, not just level 6 output.
    raw = flask.json.dumps({"level": 9, "pad": "x" * 200}, separators=(",", ":")).encode()
    add(valid_vector("zlib-level-9", cookie=sign_raw("." + b64(zlib.compress(raw, 9)))))
    add(valid_vector("zlib-level-0-longer-than-raw", cookie=sign_raw("." + b64(zlib.compress(b'{"a":1}', 0)))))
    # A hand-signed payload with whitespace and raw UTF-8 (Flask never
    # writes this, but json.loads accepts it).
    raw_utf8 = '{ "b" : [1, 2],\n "a" : "caf\u00e9 \U0001F600" }'.encode()
    add(valid_vector("payload-whitespace-raw-utf8", cookie=sign_raw(b64(raw_utf8))))

    # Key material.
    add(valid_vector("secret-short", {"a": 1}, secret=b"k"))
    add(valid_vector("secret-not-utf8", {"a": 1}, secret=bytes(range(256))[::-7][:24]))
    add(valid_vector("secret-64-bytes", {"a": 1}, secret=b"s" * 64))
    add(valid_vector("secret-65-bytes", {"a": 1}, secret=b"s" * 65))
    add(valid_vector("secret-200-bytes", {"a": 1}, secret=hashlib.sha512(b"x").digest() * 3 + b"tail"))
    add(valid_vector("secret-str-unicode", {"a": 1}, secret="cl\u00e9 \U0001F511".encode()))

    old, older, new = b"old-secret-key", b"older-secret-key", b"new-secret-key"
    add(valid_vector("fallback-newest", {"a": 1}, secret=old,
                     verify_cfg=dict(secret=new, fallbacks=[older, old])))
    add(valid_vector("fallback-oldest", {"a": 1}, secret=older,
                     verify_cfg=dict(secret=new, fallbacks=[older, old])))
    add(valid_vector("fallback-configured-but-current-signed", {"a": 1}, secret=new,
                     verify_cfg=dict(secret=new, fallbacks=[older, old])))

    # Non-Flask signer settings (itsdangerous options Flask exposes through
    # SecureCookieSessionInterface subclasses).
    add(valid_vector("salt-custom", {"a": 1}, salt="my-app.session"))
    add(valid_vector("salt-empty", {"a": 1}, salt=""))
    add(valid_vector("salt-unicode", {"a": 1}, salt="s\u00e9l"))
    for kd in ("concat", "django-concat", "none"):
        add(valid_vector(f"keyderiv-{kd}", {"a": 1}, key_derivation=kd))
    add(valid_vector("digest-sha256", {"a": 1}, digest="sha256"))
    add(valid_vector("digest-sha256-concat", {"a": 1}, digest="sha256", key_derivation="concat"))
    add(valid_vector("digest-sha256-compressed", repetitive_session(), digest="sha256"))
    add(valid_vector("keyderiv-none-long-secret", {"a": 1}, key_derivation="none", secret=b"L" * 100))

    # Timestamps.
    add(valid_vector("ts-boundary-exact-max-age", {"a": 1}, now=T0 + FLASK_MAX_AGE))
    add(valid_vector("ts-same-second", {"a": 1}, now=T0))
    add(valid_vector("ts-max-age-zero-same-second", {"a": 1}, now=T0, max_age=0))
    add(valid_vector("ts-no-max-age-very-old", {"a": 1}, ts=1_000_000_000, now=T0, max_age=None))
    add(valid_vector("ts-small", {"a": 1}, ts=1, now=61, max_age=3600))
    add(valid_vector("ts-five-bytes", {"a": 1}, ts=2**32 + 5, now=2**32 + 65))
    add(valid_vector("ts-year-9999", {"a": 1}, ts=253_402_300_799, now=253_402_300_799))
    return v


def rejected_vector(name, cookie, expected_kind, *, now=T0 + 60,
                    max_age=FLASK_MAX_AGE, note=None, **cfg):
    error, data = flask_outcome(cookie, now, max_age, **cfg)
    vector = {"name": name, **cfg_fields(**cfg), "cookie": cookie, "now": now,
              "max_age": max_age, "flask_error": error,
              "expected_kind": expected_kind}
    if error == "none":
        vector["flask_session"] = data
    if note:
        vector["note"] = note
    return vector


def rejected_vectors():
    v = []
    add = v.append
    good = flask_dumps({"user_id": 42, "name": "Zo\u00eb"})
    comp = flask_dumps(repetitive_session())
    assert comp.startswith(".")
    # Structure is intact and the MAC simply does not match: itsdangerous
    # raises BadTimeSignature, Rust must say bad_signature.
    sig = "bad_signature"
    # Broken structure: Flask also raises BadSignature, but a Rust codec
    # may reasonably report either kind.
    structural = "malformed_or_bad_signature"

    add(rejected_vector("wrong-key", good, sig, secret=b"another-secret-key"))
    add(rejected_vector("wrong-salt", good, sig, salt="other-salt"))
    add(rejected_vector("wrong-key-derivation", good, sig, key_derivation="concat"))
    add(rejected_vector("wrong-digest", good, structural, digest="sha256",
                        note="a SHA-1 signature has the wrong length for SHA-256"))
    add(rejected_vector("fallback-not-configured",
                        flask_dumps({"a": 1}, secret=b"old-secret-key"), sig,
                        secret=b"new-secret-key"))
    add(rejected_vector("signed-with-fallback-list-order-irrelevant-but-key-missing",
                        flask_dumps({"a": 1}, secret=b"retired"), sig,
                        secret=b"new-secret-key", fallbacks=[b"old-secret-key"]))

    for label, cookie in (("plain", good), ("compressed", comp)):
        payload, ts, signature = split_cookie(cookie)
        body = payload.lstrip(".")
        add(rejected_vector(f"flip-payload-first-{label}", flip(cookie, 0, 0), sig))
        add(rejected_vector(f"flip-payload-middle-{label}", flip(cookie, 0, len(body) // 2), sig))
        add(rejected_vector(f"flip-payload-last-{label}", flip(cookie, 0, len(body) - 1), sig))
        add(rejected_vector(f"flip-timestamp-first-{label}", flip(cookie, 1, 0), sig,
                            note="moves the timestamp by years; the MAC must be checked first"))
        add(rejected_vector(f"flip-timestamp-last-{label}", flip(cookie, 1, len(ts) - 1), sig))
        add(rejected_vector(f"flip-signature-first-{label}", flip(cookie, 2, 0), sig))
        add(rejected_vector(f"flip-signature-last-{label}", flip(cookie, 2, len(signature) - 1), sig))

    payload, ts, signature = split_cookie(good)
    # Lenient base64: itsdangerous accepts these, a strict decoder does not.
    lenient = "Flask accepts this (lenient base64); a strict decoder rejects it"
    unused_bits = signature[:-1] + B64URL[B64URL.index(signature[-1]) ^ 1]
    add(rejected_vector("signature-unused-low-bits", f"{payload}.{ts}.{unused_bits}", "any", note=lenient))
    add(rejected_vector("signature-padded", f"{good}=", "any", note=lenient))
    add(rejected_vector("signature-junk-inside", f"{payload}.{ts}.{signature[:5]}!!!!{signature[5:]}", "any", note=lenient))
    # The "." marker is covered by the MAC like any other byte.
    add(rejected_vector("payload-added-compressed-marker", "." + good, sig))
    add(rejected_vector("payload-dropped-compressed-marker", comp[1:], sig))

    add(rejected_vector("empty", "", structural))
    add(rejected_vector("garbage", "garbage", structural))
    add(rejected_vector("garbage-symbols", "!!!.@@@.###", structural))
    add(rejected_vector("garbage-non-ascii", "\u00e9.\u00e9.\u00e9", structural))
    add(rejected_vector("whitespace", "   ", structural))
    add(rejected_vector("only-dots", "...", structural))
    add(rejected_vector("one-dot", "abc.def", structural))
    add(rejected_vector("one-dot-real-parts", f"{payload}.{signature}", structural))
    add(rejected_vector("no-dots-real-parts", f"{payload}{ts}{signature}", structural))
    add(rejected_vector("truncated-last-char", good[:-1], structural))
    add(rejected_vector("truncated-signature", good[: -len(signature)], structural))
    add(rejected_vector("truncated-signature-and-dot", good[: -len(signature) - 1], structural))
    add(rejected_vector("truncated-half", good[: len(good) // 2], structural))
    add(rejected_vector("truncated-payload-only", payload, structural))
    add(rejected_vector("extra-segment", f"x.{good}", sig,
                        note="rsplit keeps 'x.<payload>' as the payload segment, so the MAC fails"))
    add(rejected_vector("signature-sha256-length", f"{payload}.{ts}.{b64(bytes(32))}", structural))

    add(rejected_vector("expired-one-second", flask_dumps({"a": 1}), "expired",
                        now=T0 + FLASK_MAX_AGE + 1))
    add(rejected_vector("expired-long-ago", flask_dumps({"a": 1}, ts=1_000_000_000), "expired"))
    add(rejected_vector("expired-max-age-zero", flask_dumps({"a": 1}), "expired", now=T0 + 1, max_age=0))
    add(rejected_vector("future-one-second", flask_dumps({"a": 1}), "expired", now=T0 - 1))
    add(rejected_vector("future-far", flask_dumps({"a": 1}, ts=T0 + 10**6), "expired"))
    add(rejected_vector("expired-via-fallback-key", flask_dumps({"a": 1}, secret=b"old-secret-key"),
                        "expired", now=T0 + FLASK_MAX_AGE + 1,
                        secret=b"new-secret-key", fallbacks=[b"old-secret-key"]))
    add(rejected_vector("expired-compressed", comp, "expired", now=T0 + FLASK_MAX_AGE + 1))

    # Validly signed but odd timestamps: Flask turns an empty or undecodable
    # timestamp into 0 (then "expired"); more than 8 bytes is "Malformed
    # timestamp". A Rust codec may classify these differently.
    add(rejected_vector("ts-empty", _sign_without_timestamp(b64(b'{"a":1}') + "."), "any"))
    add(rejected_vector("ts-nine-bytes", _sign_without_timestamp(
        b64(b'{"a":1}') + "." + b64(b"\x01" + bytes(8))), "any"))
    add(rejected_vector("ts-missing", _sign_without_timestamp(b64(b'{"a":1}')), "any",
                        note="validly signed, no timestamp segment at all"))

    # Validly signed, undecodable payloads: Flask raises BadPayload (or a
    # TypeError/ValueError in open_session) and answers 500. Signed with the
    # serializer's TimestampSigner (sign_raw) or with dumps() of non-dicts.
    bad = "bad_payload"
    add(rejected_vector("payload-json-int", flask_dumps(42), bad))
    add(rejected_vector("payload-json-string", flask_dumps("ab"), bad))
    add(rejected_vector("payload-json-array-empty", flask_dumps([]), bad,
                        note="Flask: dict([]) is an empty session"))
    add(rejected_vector("payload-json-array-of-pairs", flask_dumps([["a", "b"]]), bad,
                        note="Flask: dict([['a','b']]) == {'a': 'b'}"))
    add(rejected_vector("payload-json-null", flask_dumps(None), bad,
                        note="Flask: SecureCookieSession(None) is an empty session"))
    add(rejected_vector("payload-json-true", flask_dumps(True), bad))
    add(rejected_vector("payload-json-float", flask_dumps(1.5), bad))
    add(rejected_vector("payload-not-json", sign_raw(b64(b"not json {")), bad))
    add(rejected_vector("payload-truncated-json", sign_raw(b64(b'{"a":1')), bad))
    add(rejected_vector("payload-empty", sign_raw(""), bad))
    add(rejected_vector("payload-not-utf8", sign_raw(b64(b'{"a":"\xff\xfe"}')), bad))
    add(rejected_vector("payload-base64-length-1-mod-4", sign_raw("eyJhIjoxf"), bad,
                        note="signed payload segment is not decodable base64"))
    add(rejected_vector("payload-not-zlib", sign_raw("." + b64(b'{"a":1}')), bad))
    add(rejected_vector("payload-zlib-truncated", sign_raw("." + b64(zlib.compress(b'{"a":"' + b"x" * 100 + b'"}')[:-6])), bad))
    corrupt = bytearray(zlib.compress(b'{"a":"' + b"x" * 100 + b'"}'))
    corrupt[-1] ^= 0xFF  # Adler-32 trailer
    add(rejected_vector("payload-zlib-bad-checksum", sign_raw("." + b64(bytes(corrupt))), bad))
    add(rejected_vector("payload-zlib-of-non-json", sign_raw("." + b64(zlib.compress(b"not json" * 10))), bad))
    add(rejected_vector("payload-compressed-marker-empty", sign_raw("."), bad))
    return v


def _sign_without_timestamp(signed_part: str, **cfg) -> str:
    """Append a valid MAC to `signed_part` without adding a timestamp.

    Uses itsdangerous' plain Signer with the same key derivation, so the
    timestamp segment is whatever `signed_part` already contains.
    """
    app = make_app(**cfg)
    signer = serializer(app).make_signer()
    return itsdangerous.Signer(signer.secret_keys, salt=signer.salt,
                               key_derivation=signer.key_derivation,
                               digest_method=signer.digest_method).sign(signed_part).decode()


def unsupported_vectors():
    """Cookies a Rust Map<String, Value> cannot hold as Flask means them.

    No outcome is prescribed for the Rust codec. `raw` cases sign tagged
    JSON that Flask's tagger cannot produce (or cannot untag) directly.
    """
    cases = [
        ("nan", {"x": float("nan")}, False, "NaN is not JSON"),
        ("infinity", {"x": float("inf"), "y": float("-inf")}, False, "Infinity is not JSON"),
        ("int-2-pow-64", {"x": 2**64}, False, "beyond 64 bits"),
        ("int-neg-2-pow-63-minus-1", {"x": -(2**63) - 1}, False, "beyond 64 bits"),
        ("int-huge", {"x": 10**40}, False, "beyond 64 bits"),
        ("lone-surrogate-value", {"x": "\ud800"}, False, "lone surrogate is not a Rust String"),
        ("lone-surrogate-key", {"\udfff": 1}, False, "lone surrogate is not a Rust String"),
        ("uuid-tag-junk", {"x": {" u": "zz"}}, True, "Flask cannot untag it (BadPayload)"),
        ("datetime-tag-junk", {"x": {" d": "yesterday"}}, True, "Flask silently reads None"),
        ("bytes-tag-junk", {"x": {" b": "!!"}}, True, "Flask silently reads b''"),
        ("tuple-top-level", {" t": ["a", "b"]}, True,
         "a JSON object on the wire, but a tuple (not a dict) once Flask untags it: "
         "open_session raises ValueError (HTTP 500)"),
    ]
    out = []
    for name, data, raw, reason in cases:
        if raw:
            text = json.dumps(data, separators=(",", ":"), sort_keys=True)
            cookie = sign_raw(b64(text.encode()))
        else:
            cookie = flask_dumps(data)
        error, flask_session = flask_outcome(cookie, T0 + 60, FLASK_MAX_AGE)
        entry = {"name": name, **cfg_fields(), "cookie": cookie, "now": T0 + 60,
                 "max_age": FLASK_MAX_AGE, "payload": payload_text(cookie)[0],
                 "flask_error": error, "reason": reason}
        if error == "none":
            entry["flask_session"] = repr(flask_session)
            if not raw:
                # What Flask wrote itself; junk tags (raw) are normalised by
                # Flask on a rewrite, where Rust keeps them as they came.
                entry["rewritten"] = flask_rewrite(cookie, T0 + 60, FLASK_MAX_AGE)
        out.append(entry)
    return out


def produce_vector(name, data=None, *, fill=None, ts=T0, **cfg):
    """Record what Flask's save_session writes at time `ts`.

    The session is filled by a real view (`session.update(data)` or
    `fill()`, e.g. flask.flash) and the cookie is read back from Set-Cookie.
    For plain data it must also equal serializer.dumps(data) inside an app
    context, which is how the empty session (never saved by Flask) is made.
    """
    app = make_app(**cfg)
    with app.test_request_context(), frozen_time(ts):
        expected = None if fill else serializer(app).dumps(data)

    if data == {}:
        cookie = expected
    else:
        @app.route("/")
        def view():
            fill() if fill else session.update(data)
            return ""

        with frozen_time(ts):
            response = app.test_client().get("/")
        cookie = response.headers["Set-Cookie"].split(";", 1)[0].removeprefix("session=")
        assert expected is None or cookie == expected, (name, cookie, expected)

    text, compressed = payload_text(cookie)
    fields = cfg_fields(**cfg)
    vector = {"name": name, "secret_hex": fields["secret_hex"], "salt": fields["salt"],
              "key_derivation": fields["key_derivation"], "digest": fields["digest"],
              "timestamp": ts, "tagged": json.loads(text), "cookie": cookie,
              "compressed": compressed}
    if fields["fallbacks_hex"]:
        vector["fallbacks_hex"] = fields["fallbacks_hex"]
    return vector


def produce_vectors():
    v = []
    add = v.append
    add(produce_vector("produce-doc-worked-example", {"user_id": 42}))
    add(produce_vector("produce-name-umlaut", {"user_id": 42, "name": "Zo\u00eb"}))

    def flashes():
        flash("Hello")
        flash("Careful", "warning")
    add(produce_vector("produce-flashes", fill=flashes))

    def flashes_many():
        for i in range(30):
            flash(f"Saved item {i}", "message" if i % 3 else "info")
    add(produce_vector("produce-flashes-compressed", fill=flashes_many))

    for key, value in ALL_TAGS.items():
        add(produce_vector(f"produce-tag-{key}", {key: value}))
    add(produce_vector("produce-tag-all", ALL_TAGS))
    add(produce_vector("produce-escape-top-level", {" u": "x"}))
    add(produce_vector("produce-escape-top-level-di", {" di": {" t": ()}}))
    add(produce_vector("produce-unicode", UNICODE))
    add(produce_vector("produce-key-order", KEY_ORDER))
    add(produce_vector("produce-floats", FLOATS))
    for key, value in FLOATS.items():
        add(produce_vector(f"produce-float-{key}", {"f": value}))
    add(produce_vector("produce-ints", INTS))
    add(produce_vector("produce-permanent", {"_permanent": True, "user": "alice"}))
    add(produce_vector("produce-compressed-repetitive", repetitive_session()))
    add(produce_vector("produce-compressed-long-string", {"s": "abc" * 2000}))
    add(produce_vector("produce-compressed-all-tags-x10", {f"k{i}": ALL_TAGS for i in range(10)}))
    for saved, data in sorted(near_boundary_sessions().items()):
        add(produce_vector(f"produce-zlib-boundary-saves-{saved}", data))
    # From /work/shared/docs/flask-wire-format.md §3: miniz_oxide flips the
    # compression decision on this one.
    add(produce_vector("produce-incompressible", {"d": sha_stream("incompressible", 180, B64URL)}))

    add(produce_vector("produce-secret-not-utf8", {"a": 1}, secret=bytes(range(256))[::-7][:24]))
    add(produce_vector("produce-secret-200-bytes", {"a": 1}, secret=hashlib.sha512(b"x").digest() * 3 + b"tail"))
    add(produce_vector("produce-fallbacks-never-sign", {"a": 1}, secret=b"new-secret-key",
                       fallbacks=[b"older-secret-key", b"old-secret-key"]))
    add(produce_vector("produce-salt-custom", {"a": 1}, salt="my-app.session"))
    for kd in ("concat", "django-concat", "none"):
        add(produce_vector(f"produce-keyderiv-{kd}", {"a": 1}, key_derivation=kd))
    add(produce_vector("produce-digest-sha256", {"a": 1}, digest="sha256"))
    add(produce_vector("produce-digest-sha256-compressed", repetitive_session(), digest="sha256"))
    add(produce_vector("produce-ts-zero", {"a": 1}, ts=0))
    add(produce_vector("produce-ts-one", {"a": 1}, ts=1))
    add(produce_vector("produce-ts-255", {"a": 1}, ts=255))
    add(produce_vector("produce-ts-256", {"a": 1}, ts=256))
    add(produce_vector("produce-ts-five-bytes", {"a": 1}, ts=2**32 + 5))
    add(produce_vector("produce-ts-year-9999", {"a": 1}, ts=253_402_300_799))
    add(produce_vector("produce-empty-session", {}))
    return v


# --------------------------------------------------------------------------
# flask_save_table.json
# --------------------------------------------------------------------------

SAVE_SECRET = b"flask-save-table-secret"

# What each action does, in Flask and in the Rust test.
ACTIONS = {
    "none": "view does not touch the session",
    "read": "session.get('a')",
    "write": "session['w'] = 1",
    "clear": "session.clear()",
    "pop_missing": "session.pop('missing', None)",
    "remove_present": "session.pop('a', None) ('a' is in every request cookie)",
    "make_permanent": "session.permanent = True",
    "write_then_500": "session['w'] = 1, then the view returns status 500",
}


def run_action(action: str):
    if action == "read":
        session.get("a")
    elif action in ("write", "write_then_500"):
        session["w"] = 1
    elif action == "clear":
        session.clear()
    elif action == "pop_missing":
        session.pop("missing", None)
    elif action == "remove_present":
        session.pop("a", None)
    elif action == "make_permanent":
        session.permanent = True
    else:
        assert action == "none", action
    return ("error", 500) if action == "write_then_500" else "ok"


def parse_set_cookie(header: str) -> tuple[str, dict]:
    first, *attrs = [part.strip() for part in header.split(";")]
    name, value = first.split("=", 1)
    assert name == "session", header
    parsed = {}
    for attr in attrs:
        key, _, val = attr.partition("=")
        parsed[key] = val
    return value, parsed


def save_row(name, action, request=None, *, lifetime=FLASK_MAX_AGE, refresh=True):
    """Run one request through a real Flask app and record save_session's output.

    `request` is None (no cookie) or (state, data): the cookie is minted at
    the current time by the app's serializer; "expired" backdates it past
    the lifetime, "tampered" flips a signature character.
    """
    app = make_app(secret=SAVE_SECRET)
    app.config["PERMANENT_SESSION_LIFETIME"] = lifetime
    app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
    app.add_url_rule("/", "view", lambda: run_action(action))

    client = app.test_client()
    request_cookie = None
    if request is not None:
        state, data = request
        minted_at = int(time.time()) - (lifetime + 60 if state == "expired" else 0)
        with app.test_request_context(), frozen_time(minted_at):
            cookie = serializer(app).dumps(data)
        if state == "tampered":
            cookie = flip(cookie, 2, 10)
        # Not headers={"Cookie": ...}: the test client drops that header
        # when its own cookie jar is empty.
        client.set_cookie("session", cookie)
        request_cookie = {"state": state, "tagged": json.loads(payload_text(cookie)[0])}

    sent_at = time.time()
    response = client.get("/")
    set_cookies = response.headers.getlist("Set-Cookie")
    assert len(set_cookies) <= 1, set_cookies

    set_cookie = None
    if set_cookies:
        value, attrs = parse_set_cookie(set_cookies[0])
        deleted = value == "" and attrs.get("Expires") == "Thu, 01 Jan 1970 00:00:00 GMT"
        set_cookie = {"deleted": deleted, "has_expires": "Expires" in attrs,
                      "tagged": None if deleted else json.loads(payload_text(value)[0]),
                      "attributes": sorted(attrs)}
        if "Expires" in attrs and not deleted:
            expires = parse_date(attrs["Expires"]).timestamp()
            assert abs(expires - sent_at - lifetime) < 5, (name, expires, sent_at)
            set_cookie["expires_in"] = lifetime
        if not deleted:
            with app.app_context():
                serializer(app).loads(value, max_age=lifetime)  # Flask re-reads it

    return {
        "name": name,
        "config": {"permanent_lifetime": lifetime, "refresh_each_request": refresh},
        "request_cookie": request_cookie,
        "action": action,
        "status": response.status_code,
        "set_cookie": set_cookie,
        "vary_cookie": "cookie" in response.vary,
    }


def save_rows():
    rows = []
    add = rows.append
    one = ("valid", {"a": 1})
    two = ("valid", {"a": 1, "b": (2, "x")})
    perm = ("valid_permanent", {"_permanent": True, "a": 1})
    rich = ("valid", {"a": ALL_TAGS["tuple"], "tags": ALL_TAGS,
                      "_flashes": [("message", "hi")]})

    for action in ACTIONS:
        add(save_row(f"no-cookie-{action}", action))
        add(save_row(f"valid-{action}", action, two))
        add(save_row(f"valid-permanent-{action}", action, perm))
        add(save_row(f"valid-permanent-{action}-no-refresh", action, perm, refresh=False))
        add(save_row(f"valid-{action}-no-refresh", action, two, refresh=False))
        add(save_row(f"tampered-{action}", action, ("tampered", {"a": 1, "b": 2})))
        add(save_row(f"expired-{action}", action, ("expired", {"a": 1, "b": 2})))
        add(save_row(f"expired-permanent-{action}", action, ("expired", {"_permanent": True, "a": 1})))

    add(save_row("valid-remove-last-key", "remove_present", one))
    add(save_row("valid-clear-single-key", "clear", one))
    add(save_row("valid-tagged-values-survive-write", "write", rich))
    add(save_row("valid-tagged-values-permanent-refresh", "none",
                 ("valid_permanent", {**rich[1], "_permanent": True})))
    # Removing "a" leaves a single tag-named key, which must be escaped.
    add(save_row("valid-remove-leaves-tag-key", "remove_present", ("valid", {"a": 1, " t": 5})))
    add(save_row("valid-write-to-tag-key-session", "write", ("valid", {" t": 5})))
    add(save_row("valid-empty-session-cookie-read", "read", ("valid", {})))
    add(save_row("valid-empty-session-cookie-clear", "clear", ("valid", {})))
    add(save_row("valid-permanent-false-flag-none", "none", ("valid", {"_permanent": False, "a": 1})))
    add(save_row("valid-permanent-only-flag-remove", "remove_present", ("valid_permanent", {"_permanent": True, "a": 1})))
    for lifetime in (60, 3600):
        add(save_row(f"lifetime-{lifetime}-permanent-none", "none", perm, lifetime=lifetime))
        add(save_row(f"lifetime-{lifetime}-make-permanent", "make_permanent", one, lifetime=lifetime))
        add(save_row(f"lifetime-{lifetime}-expired-read", "read", ("expired", {"a": 1}), lifetime=lifetime))
        add(save_row(f"lifetime-{lifetime}-expired-write", "write", ("expired", {"a": 1}), lifetime=lifetime))
    return rows


def flask_saves_when_view_raises() -> bool:
    """Whether save_session runs when the view raises (Flask's own 500 path)."""
    app = make_app(secret=SAVE_SECRET)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True

    @app.route("/")
    def view():
        session["w"] = 1
        raise RuntimeError("boom")

    response = app.test_client().get("/")
    assert response.status_code == 500
    return bool(response.headers.getlist("Set-Cookie"))


# --------------------------------------------------------------------------


def generator_info():
    return {
        "flask": version("flask"),
        "itsdangerous": version("itsdangerous"),
        "werkzeug": version("werkzeug"),
        "markupsafe": version("markupsafe"),
        "python": sys.version.split()[0],
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "script": "tests/flask/gen_vectors.py",
    }


def by_name(vectors):
    names = [x["name"] for x in vectors]
    assert len(names) == len(set(names)), "duplicate vector names"
    return sorted(vectors, key=lambda x: x["name"])


def write(path: Path, document: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=True)
    path.write_text(text + "\n", encoding="ascii")
    print(f"wrote {path}")


def main():
    codec = {
        "generator": generator_info(),
        "notes": {
            "expected_kind": "malformed | bad_signature | expired | bad_payload | "
                             "malformed_or_bad_signature (either is fine) | any (any error)",
            "flask_error": "exception Flask raises in open_session; 'none' = Flask accepts "
                           "(see flask_session)",
            "natural": "present only where it differs from tagged",
            "unsupported": "Flask accepts these; they are out of scope for the Rust codec",
        },
        "valid": by_name(valid_vectors()),
        "rejected": by_name(rejected_vectors()),
        "produce": by_name(produce_vectors()),
        "unsupported": by_name(unsupported_vectors()),
    }
    save_table = {
        "generator": generator_info(),
        "secret_hex": SAVE_SECRET.hex(),
        "actions": ACTIONS,
        "notes": {
            "request_cookie": "re-mint at test time from `tagged`: valid/valid_permanent at "
                              "now, expired at now - permanent_lifetime - 60, tampered = valid "
                              "with one signature character changed",
            "flask_saves_when_view_raises": flask_saves_when_view_raises(),
        },
        "rows": by_name(save_rows()),
    }
    write(FIXTURES / "flask_codec.json", codec)
    write(FIXTURES / "flask_save_table.json", save_table)


if __name__ == "__main__":
    main()
