#!/usr/bin/env bash
# Live <framework> <-> Rust interop suites:
#   tests/live/run.sh starlette|django|quart     session bytes (tests/live/harness.py)
#   tests/live/run.sh flask-login|django-auth    login + CSRF (tests/live/login.py)
#
# Builds the Rust example (`<framework>_interop`, or `flask_login_interop` /
# `django_auth_interop`), makes sure the Python venv (target/venv; frameworks
# pinned by tests/frameworks/requirements.txt, plus requests and waitress from
# tests/interop/requirements.txt) is there, then runs the driver, which starts
# the real Python app (examples/<example>_app.py) and the Rust app on loopback
# and drives both with one cookie jar. Exits non-zero on any failure. Every
# stage is time-bounded.
#
# Env: VENV (default target/venv), PYTHON (to create the venv, default python3),
#      CARGO_TARGET_DIR (honoured), LIVE_TIMEOUT (driver, seconds, default 300).
set -euo pipefail

FRAMEWORK=${1:-}
case "$FRAMEWORK" in
    starlette|django|quart)
        EXAMPLE=${FRAMEWORK}_interop DRIVER=tests/live/harness.py DRIVER_FRAMEWORK=$FRAMEWORK ;;
    flask-login)
        EXAMPLE=flask_login_interop DRIVER=tests/live/login.py DRIVER_FRAMEWORK=flask ;;
    django-auth)
        EXAMPLE=django_auth_interop DRIVER=tests/live/login.py DRIVER_FRAMEWORK=django ;;
    inspect)
        EXAMPLE=inspect DRIVER=tests/live/inspect.py DRIVER_FRAMEWORK=all ;;
    *) echo "usage: $0 starlette|django|quart|flask-login|django-auth|inspect" >&2; exit 2 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
VENV=${VENV:-$ROOT/target/venv}
PYTHON=${PYTHON:-python3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac

echo "== live $FRAMEWORK: cargo build --example $EXAMPLE"
timeout 1200 cargo build --example "$EXAMPLE"

BIN=$TARGET_DIR/debug/examples/$EXAMPLE
if [ ! -x "$BIN" ]; then
    echo "live $FRAMEWORK: built binary not found at $BIN" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "== live $FRAMEWORK: creating venv $VENV"
    timeout 300 "$PYTHON" -m venv "$VENV"
fi
echo "== live $FRAMEWORK: pip install -r tests/frameworks/requirements.txt -r tests/interop/requirements.txt"
timeout 600 "$VENV/bin/python" -m pip install --disable-pip-version-check -q \
    -r tests/frameworks/requirements.txt -r tests/interop/requirements.txt

echo "== live $FRAMEWORK: $DRIVER"
LIVE_TIMEOUT=${LIVE_TIMEOUT:-300}
timeout -k 10 "$LIVE_TIMEOUT" "$VENV/bin/python" "$DRIVER" \
    --framework "$DRIVER_FRAMEWORK" --rust-bin "$BIN" --timeout "$((LIVE_TIMEOUT - 10))"
