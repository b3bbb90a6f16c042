#!/usr/bin/env bash
# Mixed-fleet end-to-end suite: nginx in front of the Flask app (waitress) and
# the Rust example, one client cookie jar (tests/e2e/mixed_fleet.py).
#
# Needs nginx on PATH or in /usr/sbin (Debian package `nginx`; this script
# installs nothing system-wide). Builds the Rust example `flask_interop`,
# makes sure the Python venv (target/venv, tests/e2e/requirements.txt) is
# there, then runs the driver, which starts every server itself on loopback,
# each nginx as a foreground child with its own config and prefix under a
# temp dir, and stops them all on exit. Exits non-zero on any failure.
#
# Env: VENV (default target/venv), PYTHON (to create the venv, default python3),
#      CARGO_TARGET_DIR (honoured), NGINX (path to the nginx binary),
#      E2E_TIMEOUT (driver, seconds, default 300).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
VENV=${VENV:-$ROOT/target/venv}
PYTHON=${PYTHON:-python3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac

NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then
    echo "e2e: nginx not found (install the Debian package: apt-get install -y nginx)" >&2
    exit 1
fi
echo "== e2e: $("$NGINX" -v 2>&1)"

echo "== e2e: cargo build --example flask_interop"
timeout 1200 cargo build --example flask_interop

BIN=$TARGET_DIR/debug/examples/flask_interop
if [ ! -x "$BIN" ]; then
    echo "e2e: built binary not found at $BIN" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "== e2e: creating venv $VENV"
    timeout 300 "$PYTHON" -m venv "$VENV"
fi
echo "== e2e: pip install -r tests/e2e/requirements.txt"
timeout 600 "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r tests/e2e/requirements.txt

echo "== e2e: mixed fleet driver"
timeout -k 10 "${E2E_TIMEOUT:-300}" "$VENV/bin/python" tests/e2e/mixed_fleet.py --rust-bin "$BIN" --nginx "$NGINX"
