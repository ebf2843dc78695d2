#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), seeded from the fixtures.
#   fuzz/run.sh          # 60 s per target
#   fuzz/run.sh 600      # the 10-minute runs recorded in docs/reliability.md
# A crash leaves its input in fuzz/artifacts/<target>/; turn it into a regression test (see
# docs/reliability.md) before fixing it.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
# cargo-fuzz passes -Z flags to rustc; a stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
./seed.sh
for target in $(cargo fuzz list); do
    echo "== $target for ${seconds}s"
    mkdir -p "corpus/$target"
    cargo fuzz run "$target" "corpus/$target" -O -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 \
        | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Done)" || true
    if ls "artifacts/$target"/crash-* "artifacts/$target"/oom-* "artifacts/$target"/timeout-* >/dev/null 2>&1; then
        echo "FAILED: $target left artifacts in fuzz/artifacts/$target" >&2
        exit 1
    fi
done
