#!/usr/bin/env bash
# Logout-everywhere across two Rust replicas behind nginx, fed from a real
# redis-server (tests/e2e/fleet.py). Needs nginx and redis-server (Debian
# packages `nginx`, `redis-server`; .ci/run installs them). Every stage is
# time-bounded.
#
# Env: VENV (default target/venv), CARGO_TARGET_DIR (honoured), FLEET_TIMEOUT
#      (driver, seconds, default 240).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
VENV=${VENV:-$ROOT/target/venv}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac

NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
for tool in "$NGINX" "$REDIS_SERVER" "$REDIS_CLI"; do
    if [ ! -x "$tool" ]; then
        echo "fleet: $tool not found (apt-get install -y nginx redis-server)" >&2
        exit 1
    fi
done
echo "== fleet: $("$REDIS_SERVER" --version)"

echo "== fleet: cargo build --example fleet"
timeout 1200 cargo build --example fleet
BIN=$TARGET_DIR/debug/examples/fleet

echo "== fleet: driver"
timeout -k 10 "${FLEET_TIMEOUT:-240}" "$VENV/bin/python" tests/e2e/fleet.py \
    --rust-bin "$BIN" --nginx "$NGINX" --redis-server "$REDIS_SERVER" --redis-cli "$REDIS_CLI" \
    --timeout "$(( ${FLEET_TIMEOUT:-240} - 10 ))"
