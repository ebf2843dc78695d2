#!/usr/bin/env bash
# Behaviour unchanged? Runs two trailsight binaries over the same inputs and diffs every output
# byte for byte: detect (stdout, --out tree, --summary-json), replay's report, explain --json and
# watch, on the sample trail and on a simulated trail with late files and duplicates.
#
#   scripts/same-output.sh BEFORE_BINARY AFTER_BINARY [WORK_DIR]
#
# Prints one line per comparison and exits non-zero when any output differs. Timing fields
# (elapsed, records/s) are removed from summaries before comparing: they are the only outputs
# allowed to change.
set -euo pipefail
before=$(realpath "$1")
after=$(realpath "$2")
work=${3:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/.." && pwd)
sample="$root/fixtures/sample-trail"
mkdir -p "$work"

sim="$work/sim"
if [ ! -d "$sim/AWSLogs" ]; then
    "$before" simulate "$sim" --days 9 --scale 1 --seed 7 --accounts 2 --regions us-east-1,eu-west-1 -q \
        >/dev/null 2>&1 || "$before" simulate "$sim" --days 9 --scale 1 --seed 7 --accounts 2 \
        --regions us-east-1,eu-west-1 >/dev/null
fi

# Drops the fields that measure the machine, not the input.
strip_timing() {
    python3 - "$1" <<'PY'
import json, sys
def scrub(v):
    if isinstance(v, dict):
        return {k: scrub(x) for k, x in v.items()
                if not any(t in k for t in ("elapsed", "seconds", "per_second", "rate", "wall"))}
    if isinstance(v, list):
        return [scrub(x) for x in v]
    return v
path = sys.argv[1]
try:
    data = json.load(open(path))
except Exception:
    sys.exit(0)
json.dump(scrub(data), open(path, "w"), indent=1, sort_keys=True)
PY
}

run_both() { # name, then the arguments; {OUT} in them is replaced by each side's folder
    local name=$1
    shift
    for side in before after; do
        local bin=$before
        [ "$side" = after ] && bin=$after
        local out="$work/$side/$name"
        rm -rf "$out" && mkdir -p "$out"
        local args=()
        for a in "$@"; do args+=("${a//\{OUT\}/$out}"); done
        set +e
        "$bin" "${args[@]}" >"$out/stdout" 2>"$out/stderr"
        echo $? >"$out/status"
        set -e
        for j in "$out"/*.json; do [ -e "$j" ] && strip_timing "$j"; done
        # stderr carries timings and paths of the side's folder; compare it without them.
        sed -E -e "s#$work/$side#WORK#g" -e 's/[0-9.]+ ?(s|ms|µs)\b/T/g' \
            -e 's/[0-9,.]+ (records|events|files|MB|MiB)\/s/R/g' "$out/stderr" >"$out/stderr.cmp"
        rm "$out/stderr"
    done
    if diff -r "$work/before/$name" "$work/after/$name" >"$work/$name.diff"; then
        echo "same  $name"
    else
        echo "DIFF  $name (see $work/$name.diff)"
        failed=1
    fi
}

failed=0
for trail in sample sim; do
    path=$sample
    [ "$trail" = sim ] && path=$sim/AWSLogs
    run_both "$trail-detect" detect "$path" -j2 --summary-json "{OUT}/summary.json"
    run_both "$trail-detect-out" detect "$path" -j1 -q --out "{OUT}/insights"
    run_both "$trail-detect-data" detect "$path" -q --event-categories management,data \
        --sensitivity 0.8 --allowed-lateness-minutes 15
    run_both "$trail-replay" replay "$path" -r "$work/before/$trail-detect-out/insights" \
        --report "{OUT}/report.json"
    run_both "$trail-watch" watch "$path" --finish-at-end --until-idle 1 -q
done
run_both sim-replay-labels replay "$sim/AWSLogs" --labels "$sim/labels.json" --report "{OUT}/score.json"
id=$(head -1 "$work/before/sample-detect/stdout" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["sharedEventID"])')
run_both sample-explain explain --trail "$sample" --id "$id" --json
run_both sample-html detect "$sample" -q --html "{OUT}/report.html"
exit $failed
