#!/usr/bin/env bash
# Regenerates the fidelity table of docs/fidelity.md: simulates SEEDS labelled trails (12 days,
# 2 accounts x 2 regions each), replays each against its labels at every sensitivity in
# SENSITIVITIES, and prints the per-seed table at the default sensitivity, the totals, and the
# sensitivity sweep, as Markdown on stdout.
#
#   scripts/fidelity.sh                 # 30 seeds, sensitivities 0.3 0.5 0.7
#   SEEDS="1 2 3" scripts/fidelity.sh   # a quick look
#
# Needs python3 (standard library only) for the tables. Work files go to $WORK (a temporary
# directory by default, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-$(seq 1 30)}
SENSITIVITIES=${SENSITIVITIES:-"0.3 0.5 0.7"}
DAYS=${DAYS:-12}
WORK=${WORK:-$(mktemp -d)}
KEEP=${KEEP:-}
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT

cargo build --release --locked -q -p trailsight-replay
bin=target/release/trailsight
for seed in $SEEDS; do
    trail="$WORK/trail-$seed"
    [ -f "$trail/labels.json" ] || "$bin" simulate "$trail" --seed "$seed" --days "$DAYS" \
        --accounts 2 --regions us-east-1,eu-west-1 >/dev/null
    for s in $SENSITIVITIES; do
        "$bin" replay "$trail/AWSLogs" --labels "$trail/labels.json" --sensitivity "$s" -q \
            --report "$WORK/score-$seed-$s.json" >/dev/null
    done
    echo "fidelity: seed $seed scored" >&2
done

python3 - "$WORK" "$DAYS" $SENSITIVITIES <<'PY'
import glob, json, os, sys
work, days, sensitivities = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(seed, s):
    return json.load(open(os.path.join(work, f"score-{seed}-{s}.json")))["labels"]
seeds = sorted({int(p.split("-")[-2]) for p in glob.glob(os.path.join(work, "score-*.json"))})
default = "0.5" if "0.5" in sensitivities else sensitivities[0]
kinds = sorted({k for seed in seeds for k, v in load(seed, default)["by_kind"].items() if not v["negative_control"]})
print(f"Seeds {seeds[0]}-{seeds[-1]} ({len(seeds)}), {days} days, 2 accounts x 2 regions each; sensitivity {default}.\n")
print("| seed | " + " | ".join(kinds) + " | recall | controls fired | false positives | FP per account-region-day | burst onset max (min) |")
print("|---" * (len(kinds) + 6) + "|")
tot = {"labels": 0, "hits": 0, "controls": 0, "fired": 0, "fp": 0, "ard": 0.0, "onset": None}
per_kind = {k: [0, 0] for k in kinds}
for seed in seeds:
    r = load(seed, default)
    cells = []
    for k in kinds:
        v = r["by_kind"].get(k, {"hits": 0, "labels": 0})
        per_kind[k][0] += v["hits"]; per_kind[k][1] += v["labels"]
        cells.append(f"{v['hits']}/{v['labels']}")
    fp = len(r["false_positives"])
    tot["labels"] += r["anomalies"]; tot["hits"] += r["detected"]
    tot["controls"] += r["controls"]; tot["fired"] += r["controls_fired"]
    tot["fp"] += fp; tot["ard"] += r["account_region_days"] or 0
    onset = r["burst_onset_max_minutes"]
    if onset is not None:
        tot["onset"] = onset if tot["onset"] is None else max(tot["onset"], onset)
    rate = r["false_positives_per_account_region_day"]
    print(f"| {seed} | " + " | ".join(cells) + f" | {r['recall']:.3f} | {r['controls_fired']}/{r['controls']} | {fp} | {rate:.3f} | {onset if onset is not None else '-'} |")
recall = tot["hits"] / max(tot["labels"], 1)
cells = [f"{h}/{n}" for h, n in per_kind.values()]
print(f"| **all** | " + " | ".join(cells) + f" | **{recall:.3f}** | **{tot['fired']}/{tot['controls']}** | **{tot['fp']}** | **{tot['fp'] / tot['ard']:.3f}** | **{tot['onset']}** |")
print()
print("| sensitivity | recall | controls fired | false positives | FP per account-region-day | burst onset max (min) |")
print("|---|---|---|---|---|---|")
for s in sensitivities:
    hits = labels = fired = controls = fp = 0; ard = 0.0; onset = None
    for seed in seeds:
        r = load(seed, s)
        hits += r["detected"]; labels += r["anomalies"]; fired += r["controls_fired"]; controls += r["controls"]
        fp += len(r["false_positives"]); ard += r["account_region_days"] or 0
        o = r["burst_onset_max_minutes"]
        if o is not None:
            onset = o if onset is None else max(onset, o)
    print(f"| {s} | {hits / max(labels, 1):.3f} | {fired}/{controls} | {fp} | {fp / ard:.3f} | {onset} |")
PY
