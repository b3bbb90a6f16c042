#!/usr/bin/env bash
# Short, bounded fuzzing of every target, for CI: FUZZ_SECONDS (default 20)
# per target after one build. Fails on the first crash, leaving the input in
# fuzz/artifacts/<target>/. See ../FUZZING.md for the long runs.
#
# cargo-fuzz passes nightly-only flags (-Zsanitizer=…, -Cpasses=sancov-module
# with -Zunstable-options); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept
# them. The address sanitizer runtime ships with stable rustc on
# x86_64-unknown-linux-gnu; FUZZ_SANITIZER=none skips it (faster).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

seconds="${FUZZ_SECONDS:-20}"
sanitizer="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    timeout 900 cargo install cargo-fuzz --locked
fi

timeout 1800 cargo fuzz build -s "$sanitizer"
for target in decode tagged_json request scan formats encrypted tokens; do
    printf '\n== fuzz %s for %s s\n' "$target" "$seconds"
    mkdir -p "corpus/$target"
    args=(-max_total_time="$seconds" -max_len=16384 -print_final_stats=1)
    if [ -f "$target.dict" ]; then
        args+=(-dict="$target.dict")
    fi
    log="$(mktemp)"
    status=0
    timeout $((seconds + 300)) cargo fuzz run -s "$sanitizer" "$target" \
        "corpus/$target" "seeds/$target" -- "${args[@]}" >"$log" 2>&1 || status=$?
    grep -E '^(stat::|Done|INFO: seed|==[0-9]+==|SUMMARY|thread .* panicked|Test unit written|Base64:)' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
        rm -f "$log"
        exit "$status"
    fi
    rm -f "$log"
done
printf '\nfuzz: all targets ran %s s without a crash\n' "$seconds"
