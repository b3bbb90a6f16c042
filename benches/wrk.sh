#!/usr/bin/env bash
# Loopback throughput of examples/bench_server.rs with and without SessionLayer,
# and with tower-sessions (MemoryStore) in the same run.
#
# The three servers run at once (LAYER=on on $PORT, LAYER=off on $PORT+1,
# LAYER=tower-sessions on $PORT+2); wrk loads one at a time, alternating
# off/on/tower-sessions for $ROUNDS rounds, each bounded to $DURATION. The
# "on" and "off" runs carry the same Cookie header: the ~100 B session cookie
# the layer server sets on a first request (read through curl), so the "on"
# server reads and rewrites a real session each request; the tower-sessions
# run carries the id cookie its own first request set (same payload, kept in
# its store).
#
#   apt-get install -y wrk        # Debian package
#   bash benches/wrk.sh           # PORT=3000 DURATION=10s THREADS=2 CONNECTIONS=32 ROUNDS=1 ROUTE=/
#
# ROUTE=/ reads and writes the session on every request (the target); ROUTE=/read
# only reads it (no Set-Cookie), to tell the read side from the write side.
set -euo pipefail

PORT=${PORT:-3000}
OFF_PORT=$((PORT + 1))
TS_PORT=$((PORT + 2))
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-1}
ROUTE=${ROUTE:-/}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

cd "$(dirname "$0")/.."
cargo build --release --example bench_server
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
server="$target_dir/release/examples/bench_server"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

start() { # LAYER PORT
    LAYER=$1 PORT=$2 "$server" &
    pids+=("$!")
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0
        sleep 0.1
    done
    echo "server LAYER=$1 did not start on port $2" >&2
    exit 1
}

start on "$PORT"
start off "$OFF_PORT"
start tower-sessions "$TS_PORT"

# The Cookie header a browser would send back: name=value of each Set-Cookie.
cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | paste -sd ';' - | sed 's/;/; /g')
[ -n "$cookie" ] || { echo "the layer server set no cookie" >&2; exit 1; }
echo "Cookie: $cookie (${#cookie} bytes)"
# A request with it must be 200 and rewrite the session.
curl -s -D - -o /dev/null -H "Cookie: $cookie" "http://127.0.0.1:$PORT/" | grep -qi '^set-cookie: session=' ||
    { echo "the layer server did not rewrite the session" >&2; exit 1; }

ts_cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$TS_PORT/" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
[ -n "$ts_cookie" ] || { echo "the tower-sessions server set no cookie" >&2; exit 1; }
echo "tower-sessions Cookie: $ts_cookie"

ticks_per_sec=$(getconf CLK_TCK)

# load PORT PID [COOKIE]: sets `rps` (wrk's Requests/sec) and `cpu_us` (the server's
# user + system CPU time per request, from /proc: less sensitive than req/s
# to other load on the machine, and free of wrk's own cost).
load() {
    local report before after requests
    before=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
    report=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Cookie: ${3:-$cookie}" "http://127.0.0.1:$1$ROUTE")
    after=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
    printf '%s\n' "$report" >&2
    if grep -q 'Non-2xx' <<<"$report"; then
        echo "non-2xx responses: the run is invalid" >&2
        exit 1
    fi
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$report")
    requests=$(awk '/ requests in / { print $1 }' <<<"$report")
    cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks_per_sec" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
}

sum() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
off_rps=0 on_rps=0 off_cpu=0 on_cpu=0 ts_rps=0 ts_cpu=0
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round: LAYER=off" >&2
    load "$OFF_PORT" "${pids[1]}"
    off_rps=$(sum "$off_rps" "$rps") off_cpu=$(sum "$off_cpu" "$cpu_us")
    echo "== round $round: LAYER=on" >&2
    load "$PORT" "${pids[0]}"
    on_rps=$(sum "$on_rps" "$rps") on_cpu=$(sum "$on_cpu" "$cpu_us")
    echo "== round $round: LAYER=tower-sessions" >&2
    load "$TS_PORT" "${pids[2]}" "$ts_cookie"
    ts_rps=$(sum "$ts_rps" "$rps") ts_cpu=$(sum "$ts_cpu" "$cpu_us")
done
awk -v on="$on_rps" -v off="$off_rps" -v onc="$on_cpu" -v offc="$off_cpu" -v ts="$ts_rps" -v tsc="$ts_cpu" -v n="$ROUNDS" -v route="$ROUTE" 'BEGIN {
    printf "GET %s, mean of %d round(s):\n", route, n
    printf "  without layer: %.0f req/s, server CPU %.2f us/request\n", off / n, offc / n
    printf "  with layer:    %.0f req/s, server CPU %.2f us/request\n", on / n, onc / n
    printf "  tower-sessions: %.0f req/s, server CPU %.2f us/request\n", ts / n, tsc / n
    printf "  throughput ratio %.3f (target >= 0.90); server CPU +%.2f us/request\n", on / off, (onc - offc) / n
    printf "  server CPU over no layer: ours +%.2f us, tower-sessions +%.2f us (ratio %.2f)\n", (onc - offc) / n, (tsc - offc) / n, (onc - offc) / (tsc - offc) }'
