"""``max_document_mib`` through every Python entry point: a gzip bomb (8 MiB of spaces in 8 KB)
or plain bytes over the cap are reported with their file, and the rest of the input is read, as
``trailsight detect --max-document-mib`` does. ``run`` and ``detect`` on paths read as the command
does (documents over 64 MiB, or over the cap, in pieces, so a run of white space over the cap is
a located error); the byte-level entry points read whole documents and skip one over the cap."""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
from pathlib import Path

import pytest

import trailsight
from conftest import trailsight_bin

TOO_LARGE = "document larger than --max-document-mib 1 once decompressed; skipped"
IN_PIECES = ("a single JSON value (or run of white space) from byte 0 is over 1 MiB and cannot be "
             "read in pieces; the rest of the document is skipped")
BOMB = gzip.compress(b" " * (8 << 20), compresslevel=9)
STAMPED = "111122223333_CloudTrail_us-east-1_20240304T1005Z_{}.json.gz"


def record(second: int) -> dict:
    return {"eventVersion": "1.09", "eventTime": f"2024-03-04T10:00:{second:02d}Z",
            "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1",
            "eventID": f"00000000-0000-4000-8000-{second:012d}", "readOnly": False,
            "recipientAccountId": "111122223333", "eventCategory": "Management"}


def log_file(second: int) -> bytes:
    return json.dumps({"Records": [record(second)]}).encode()


@pytest.fixture()
def trail(tmp_path: Path) -> Path:
    assert len(BOMB) < 16 << 10
    (tmp_path / "bomb.json.gz").write_bytes(BOMB)
    (tmp_path / STAMPED.format("bomb")).write_bytes(BOMB)
    (tmp_path / "big.json").write_bytes(b" " * ((1 << 20) + 1))
    (tmp_path / "good.json").write_bytes(log_file(1))
    (tmp_path / STAMPED.format("good")).write_bytes(gzip.compress(log_file(2)))
    return tmp_path


def test_run_and_detect_on_paths_read_what_the_command_reads(trail: Path):
    run = trailsight.run(trail, max_document_mib=1)
    assert "too large" not in run.skipped, run.skipped
    assert run.files == 5 and run.stats["counted"] == 2
    for name in ["bomb.json.gz", STAMPED.format("bomb"), "big.json"]:
        assert f"{trail / name}: {IN_PIECES}" in run.errors, run.errors
    # The same lines as the command's.
    cli = subprocess.run(
        [trailsight_bin(), "detect", "-q", "--max-document-mib", "1", str(trail)],
        capture_output=True, text=True, check=True,
    )
    cli_errors = sorted(line.removeprefix("trailsight: error: ") for line in cli.stderr.splitlines())
    assert sorted(run.errors) == cli_errors
    with pytest.raises(trailsight.TrailsightError):
        trailsight.detect(trail, max_document_mib=1, strict=True)
    assert trailsight.detect(trail, max_document_mib=1) == []
    # Under the default cap (1,024 MiB) the same files are read whole, without an error.
    assert trailsight.run(trail).errors == []


def test_trail_replay_skips_bytes_over_the_cap(trail: Path):
    replay = trailsight.TrailReplay(max_document_mib=1)
    replay.add("export-bomb.json.gz", BOMB)
    replay.add(str(trail / "good.json"))
    replay.add(STAMPED.format("bomb"), BOMB)
    replay.add(STAMPED.format("good"), gzip.compress(log_file(2)))
    replay.finish()
    assert replay.skipped == {"too large": 2}
    assert replay.files == 2 and replay.stats["counted"] == 2
    assert f"export-bomb.json.gz: {TOO_LARGE}" in replay.errors
    assert f"{STAMPED.format('bomb')}: {TOO_LARGE}" in replay.errors


def test_detector_observe_skips_bytes_over_the_cap():
    detector = trailsight.Detector(max_document_mib=1)
    for data in [BOMB, b" " * ((1 << 20) + 1)]:
        report = detector.observe(data)
        assert report["skipped"] == "too large" and report["counted"] == 0
        assert report["errors"] == [TOO_LARGE]
    report = detector.observe(gzip.compress(log_file(1)))
    assert report["skipped"] is None and report["counted"] == 1
    # The cap survives pickling and is taken over by a replay continuing from the detector.
    again = pickle.loads(pickle.dumps(detector))
    assert again.observe(BOMB)["skipped"] == "too large"
    assert again.stats["counted"] == 1
    replay = trailsight.TrailReplay(detector=detector)
    replay.add(STAMPED.format("bomb"), BOMB)
    replay.finish()
    assert replay.skipped == {"too large": 1}
    # Under the default cap, the bomb is read (and holds nothing).
    assert trailsight.Detector().observe(BOMB)["skipped"] is None


def test_observe_file_and_records_skip_over_the_cap(trail: Path):
    detector = trailsight.Detector(max_document_mib=1)
    assert detector.observe_file(trail / "bomb.json.gz")["skipped"] == "too large"
    assert detector.observe_file(trail / "good.json")["counted"] == 1
    with pytest.raises(trailsight.TrailsightError, match="too large|larger than"):
        trailsight.detect_records([record(1), BOMB], max_document_mib=1, strict=True)


@pytest.mark.parametrize("mib", [0, (1 << 24) + 1])
def test_the_cap_is_checked(mib: int):
    with pytest.raises(ValueError, match="max_document_mib"):
        trailsight.Detector(max_document_mib=mib)
    with pytest.raises(ValueError, match="max_document_mib"):
        trailsight.run([], max_document_mib=mib)
