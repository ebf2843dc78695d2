#!/usr/bin/env bash
# The HTML report in a real browser: `detect --html` and `replay --html` on the sample trail,
# each opened in headless Chromium (check_report.py), which must draw one chart per insight,
# sort the table and log no error. The expected counts come from the same run's records, so the
# test follows the detector as it changes.
#
#   tests/browser/run.sh                      # needs `chromium` and `python3` (Debian packages)
#   SCREENSHOT=docs/report.png tests/browser/run.sh   # also refresh the README's picture
#                                 (the attack's DeleteParameter burst, when the detector finds it)
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build --release --locked --quiet -p trailsight-replay
bin=target/release/trailsight

"$bin" detect -q fixtures/sample-trail --html "$out/detect.html" > "$out/insights.jsonl"
insights=$(python3 -c '
import json, sys
print(len({json.loads(line)["sharedEventID"] for line in open(sys.argv[1]) if line.strip()}))
' "$out/insights.jsonl")
echo "detect: $insights insights"

passed=0
failed=0
check() {
    if python3 tests/browser/check_report.py "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}

check "$out/detect.html" --charts "$insights" \
    ${SCREENSHOT:+--screenshot "$SCREENSHOT" --screenshot-at "${SCREENSHOT_AT:-DeleteParameter}"}

# trailsight's own records as the reference: one row per insight, each with a verdict.
"$bin" replay -q fixtures/sample-trail -r "$out/insights.jsonl" --html "$out/replay.html" > /dev/null
check "$out/replay.html" --charts "$insights" --verdicts "$insights"

echo "browser: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
