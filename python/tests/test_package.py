"""The package against the command: same input, same bytes."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import pytest

import trailsight
from conftest import cli_lines


def delivery_ordered_files(root: Path) -> list[Path]:
    """CloudTrail log files under root in the command's counting order."""
    files = [
        p for p in root.rglob("*.json.gz")
        if trailsight.skip_reason(str(p.relative_to(root))) is None
    ]
    return sorted(files, key=lambda p: (trailsight.delivery_time(p.name) or "", p.parts))


def test_paths_give_the_command_output_byte_for_byte(multi_trail, multi_trail_cli):
    run = trailsight.run(multi_trail)
    assert run.json_lines == multi_trail_cli
    assert run.insights, "the trail should hold some insights for this test to mean anything"
    assert run.files > 0 and run.errors == [] and run.skipped.get("digest", 0) > 0
    assert len({(i.account, i.region) for i in run.insights}) > 1


def test_sample_trail_and_dicts(sample_trail):
    expected = cli_lines(str(sample_trail))
    records = trailsight.detect(sample_trail)
    assert records == [json.loads(line) for line in expected]
    assert trailsight.detect([str(sample_trail)], output="json") == expected
    insights = trailsight.detect(sample_trail, output="insight")
    assert [i.json for i in insights] == expected
    first = insights[0]
    assert first.to_dict()["insightDetails"]["eventName"] == first.event_name
    assert str(first) == first.json and first.state in ("Start", "End")
    assert trailsight.sort_insights(reversed(insights)) != [] and \
        [i.json for i in trailsight.sort_insights(insights)] == expected


def test_settings_match_the_command_flags(sample_trail):
    expected = cli_lines(str(sample_trail), "--sensitivity", "0.8", "--allowed-lateness-minutes", "30",
                         "--insight-types", "call-rate")
    got = trailsight.detect(sample_trail, output="json", sensitivity=0.8,
                            allowed_lateness_minutes=30, insight_types=["ApiCallRateInsight"])
    assert got == expected
    toml = 'sensitivity = 0.8\nallowed-lateness-minutes = 30\ninsight-types = ["ApiCallRateInsight"]\n'
    assert trailsight.detect(sample_trail, toml, output="json") == expected
    assert trailsight.detect(sample_trail, {"sensitivity": 0.8, "allowed_lateness_minutes": 30,
                                            "insight-types": ["ApiCallRateInsight"]},
                             output="json") == expected


def test_records_from_an_iterable(sample_trail, tmp_path):
    # The sample trail as one JSON lines file, in delivery order, for the command...
    records = []
    for path in delivery_ordered_files(sample_trail):
        records.extend(json.loads(gzip.decompress(path.read_bytes()))["Records"])
    jsonl = tmp_path / "trail.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    expected = cli_lines(str(jsonl))
    assert expected
    # ...and the same records as dicts, JSON text and bytes.
    assert trailsight.detect_records(records, output="json", advance_every=len(records)) == expected
    texts = [json.dumps(r) for r in records]
    assert trailsight.detect_records(texts, output="json", advance_every=len(records)) == expected
    assert trailsight.detect_records((t.encode() for t in texts), output="json",
                                     advance_every=len(records)) == expected


def test_streaming_detector_with_snapshot_restore_and_pickle(sample_trail):
    expected = cli_lines(str(sample_trail))
    files = delivery_ordered_files(sample_trail)
    half = len(files) // 2

    def feed(detector, paths):
        out = []
        for path in paths:
            report = detector.observe_file(path)
            assert report["errors"] == []
            out.extend(detector.advance())
        return out

    detector = trailsight.Detector()
    records = feed(detector, files[:half])
    state = detector.snapshot()
    restored = trailsight.Detector.restore(state)
    assert restored.snapshot() == state
    pickled = pickle.loads(pickle.dumps(detector))
    assert pickled.snapshot() == state

    for resumed in (detector, restored, pickled):
        tail = feed(resumed, files[half:])
        finished, still_open = resumed.finish()
        lines = [i.json for i in trailsight.sort_insights(records + tail + finished)]
        assert lines == expected
        assert isinstance(still_open, list)
    # A TrailReplay continues from a detector's state too.
    replay = trailsight.TrailReplay(detector=trailsight.Detector.restore(state))
    for path in files[half:]:
        replay.add(str(path))
    replay.finish()
    continued = [i for _, i in replay.take_insights()]
    assert [i.json for i in trailsight.sort_insights(records + continued)] == expected

    assert detector.stats["counted"] > 0 and detector.state_size["partitions"] == 1
    assert detector.newest_minute is not None

    # Bytes in: gzip or not, as documents.
    fresh = trailsight.Detector()
    for path in files:
        fresh.observe(path.read_bytes())
        fresh.advance()
    assert fresh.stats == detector.stats


def test_advance_to_takes_text_datetime_or_seconds():
    import datetime

    detector = trailsight.Detector()
    assert detector.advance_to("2024-03-04T12:00:00Z") == []
    assert detector.advance_to(datetime.datetime(2024, 3, 5, tzinfo=datetime.timezone.utc)) == []
    assert detector.advance_to(1_709_700_000) == []
    with pytest.raises(ValueError):
        detector.advance_to(datetime.datetime(2024, 3, 5))


def test_typed_errors(tmp_path):
    with pytest.raises(trailsight.ConfigError):
        trailsight.Detector(sensitivity=2.0)
    with pytest.raises(trailsight.ConfigError):
        trailsight.Detector(no_such_setting=1)
    with pytest.raises(trailsight.ConfigError):
        trailsight.Detector("sensitivity = [")
    with pytest.raises(trailsight.SnapshotError):
        trailsight.Detector.restore(b"not a snapshot")
    assert issubclass(trailsight.ConfigError, trailsight.TrailsightError)

    replay = trailsight.TrailReplay()
    replay.add("1_CloudTrail_us-east-1_20240101T0010Z_a.json", b'{"Records":[]}')
    with pytest.raises(trailsight.OrderError):
        replay.add("1_CloudTrail_us-east-1_20240101T0005Z_a.json", b'{"Records":[]}')
    with pytest.raises(trailsight.OrderError):
        replay.add("export.json", b"[]")

    bad = tmp_path / "bad.json"
    bad.write_text('{"Records":[{"eventTime": 5}]}')
    missing = tmp_path / "missing"
    run = trailsight.run([bad, missing])
    assert any("bad.json" in e for e in run.errors) and any("missing" in e for e in run.errors)
    with pytest.raises(trailsight.TrailsightError):
        trailsight.detect([bad], strict=True)


def test_trail_replay_orders_like_the_command(multi_trail, multi_trail_cli):
    # Files handed over by delivery time only, shuffled within each minute: same records.
    import random

    files = sorted(
        (p for p in multi_trail.rglob("*.json.gz")
         if trailsight.skip_reason(str(p.relative_to(multi_trail))) is None),
        key=lambda p: trailsight.delivery_time(p.name) or "",
    )
    random.Random(5).shuffle(files)
    files.sort(key=lambda p: trailsight.delivery_time(p.name) or "")
    replay = trailsight.TrailReplay()
    taken = []
    for path in files:
        replay.add(str(path), path.read_bytes() if len(taken) % 2 else None)
        taken.extend(replay.take_insights())
    replay.finish()
    taken.extend(replay.take_insights())
    assert [seq for seq, _ in taken] == list(range(len(taken)))
    assert [i.json for i in trailsight.sort_insights(i for _, i in taken)] == multi_trail_cli


def test_file_name_rules():
    name = "123456789012_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz"
    assert trailsight.delivery_time("s3a://b/AWSLogs/x/" + name) == "2023-07-10T12:20:00Z"
    assert trailsight.account_region(name) == ("123456789012", "us-east-1")
    assert trailsight.account_region("export.json") is None
    assert trailsight.skip_reason("AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz") == "digest"
    assert trailsight.skip_reason("AWSLogs/1/CloudTrail/us-east-1/" + name) is None
    assert trailsight.__version__
