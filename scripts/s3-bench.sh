#!/usr/bin/env bash
# Reading from S3 against reading from disk: `trailsight detect` over the same simulated trail,
# local and from moto's S3 server on the loopback (tests/s3/setup.sh installs it), at several
# --s3-concurrency settings. moto is a Python server and far slower than S3, so this measures
# trailsight's overhead and its concurrency against a slow store, not S3's throughput.
#
#   scripts/s3-bench.sh [BINARY] [DAYS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$root/target/release/trailsight}")
days=${2:-3}
moto=$("$root/tests/s3/setup.sh")
work=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$work"' EXIT
"$bin" simulate "$work/trail" --days "$days" --scale 1 --seed 11 --accounts 2 --regions us-east-1,eu-west-1 >/dev/null 2>&1
# The harness runs until its standard input closes: fd 3 holds it open.
coproc HARNESS { python3 "$root/tests/s3/harness.py" "$moto"; }
read -r _proxy <&"${HARNESS[0]}"
read -r _ moto_port <&"${HARNESS[0]}"
exec 3>&"${HARNESS[1]}"
curl -s -X POST "http://127.0.0.1:$_proxy/__harness/bucket/bench" >/dev/null
curl -s -X POST "http://127.0.0.1:$_proxy/__harness/upload/bench?dir=$work/trail/AWSLogs&prefix=AWSLogs/" >/dev/null
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
files=$(find "$work/trail/AWSLogs" -type f -path '*/CloudTrail/*' | wc -l)
mb=$(du -sm --apparent-size "$work/trail/AWSLogs" | cut -f1)
echo "trail: $files objects, ~$mb MB stored (gzip), $(nproc) cores"
run() {
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    "$bin" detect -q --summary-json "$work/summary.json" "$@" >/dev/null
    end=$(date +%s.%N)
    python3 - "$label" "$start" "$end" "$files" "$mb" "$work/summary.json" <<'PY'
import json, sys
label, start, end, files, mb, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
s = json.load(open(path))
records = s["records"]["total"]
wall = end - start
extra = f", {records / wall:,.0f} records/s" if records else ""
print(f"{label:<28} {wall:7.2f} s  {files / wall:8.0f} objects/s  {mb / wall:6.1f} MB/s stored{extra}")
PY
}
run "local disk" "$work/trail/AWSLogs"
for c in 1 4 16 64; do
    run "moto --s3-concurrency $c" "s3://bench/" --s3-concurrency "$c"
done
