#!/usr/bin/env bash
# Fills corpus/<target>/ with seeds from the repository's real data (fixtures/corpus, copies of
# the project corpus) and small documents of every format. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
python3 - <<'PY'
import gzip, json, os, pathlib, hashlib

root = pathlib.Path("..") / "fixtures"
out = pathlib.Path("corpus")

def write(target, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)

documents, records = [], []
for path in sorted((root / "corpus").rglob("*")):
    if path.is_dir() or path.suffix in {".md", ".tsv", ".txt"} or "LICENSE" in path.name:
        continue
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    documents.append(data)
    try:
        value = json.loads(data)
    except ValueError:
        value = [json.loads(line) for line in data.splitlines() if line.strip()]
    items = value.get("Records") or value.get("Events") if isinstance(value, dict) else value
    for item in items if isinstance(items, list) else []:
        records.append(json.dumps(item, separators=(",", ":")).encode())

# Insights records for the reference reader: the public samples and trailsight's own goldens.
insights = [r for r in records if b"AwsCloudTrailInsight" in r]
for path in sorted((root / "golden").glob("*.jsonl")):
    insights += [line for line in path.read_bytes().splitlines() if line.strip()][:40]
for data in insights:
    write("reference_insights", data)
write("reference_insights", b"\n".join(insights[:6]))
records = records[::7][:150]  # a spread of records, enough for seeds
one = records[0].decode()
documents += [
    json.dumps({"Events": [{"EventId": "1", "ReadOnly": "false", "CloudTrailEvent": one}]}).encode(),
    json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": json.loads(one)}).encode(),
    json.dumps({"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "timestamp": 0, "message": one}]}).encode(),
    b"\n".join(records[:5]),
    json.dumps({"Records": [json.loads(r) for r in records[:3]]}, indent=2).encode(),
]
for data in documents:
    write("parse_document", data)
    write("fast_path", data)
    # parse_stream: two bytes of piece sizes, then the document.
    write("parse_stream", b"\x03\x40" + data)
for target in ["records_element", "lookup_events", "eventbridge", "cloudwatch_logs", "fast_path"]:
    for data in records:
        write(target, data)
print(f"seeded {len(documents)} documents, {len(records)} records and {len(insights)} Insights records")
PY
