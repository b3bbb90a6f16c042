#!/usr/bin/env bash
# Live Flask <-> Rust interop suite.
#
# Builds the Rust example `flask_interop`, makes sure the Python venv
# (target/venv, Flask pinned by tests/flask/requirements.txt, plus waitress and
# requests) is there, then runs tests/interop/live_interop.py, which starts a
# real Flask app (waitress) and the Rust app on loopback and drives both with
# one cookie jar. Exits non-zero on any failure. Every stage is time-bounded.
#
# Env: VENV (default target/venv), PYTHON (to create the venv, default python3),
#      CARGO_TARGET_DIR (honoured), INTEROP_TIMEOUT (driver, seconds, default 300).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
VENV=${VENV:-$ROOT/target/venv}
PYTHON=${PYTHON:-python3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac

echo "== interop: cargo build --example flask_interop"
timeout 1200 cargo build --example flask_interop

BIN=$TARGET_DIR/debug/examples/flask_interop
if [ ! -x "$BIN" ]; then
    echo "interop: built binary not found at $BIN" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "== interop: creating venv $VENV"
    timeout 300 "$PYTHON" -m venv "$VENV"
fi
echo "== interop: pip install -r tests/interop/requirements.txt"
timeout 600 "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r tests/interop/requirements.txt

echo "== interop: live driver"
timeout -k 10 "${INTEROP_TIMEOUT:-300}" "$VENV/bin/python" tests/interop/live_interop.py --rust-bin "$BIN"
