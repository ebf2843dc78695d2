"""trailsight.spark on a local[2] Spark against one `trailsight detect` run."""

from __future__ import annotations

import json
import os
import sys

import pytest

pyspark = pytest.importorskip("pyspark")

from trailsight import spark as ts_spark  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # Workers must run this interpreter, where trailsight and pandas are installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("trailsight-tests")
        .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.parametrize("read", ["spark", "direct"])
def test_spark_replay_equals_one_detect_run(spark, multi_trail, multi_trail_cli, read, tmp_path):
    rows = ts_spark.replay(spark, str(multi_trail), read=read).cache()
    assert ts_spark.collect_json_lines(rows) == multi_trail_cli
    summaries = [json.loads(r.record) for r in rows.filter("kind = 'summary'").collect()]
    # 2 accounts x 2 regions, each replayed on its own with its own detector.
    assert len(summaries) == 4
    assert all(s["error_count"] == 0 and s["files"] > 0 for s in summaries)
    assert sum(s["stats"]["insights_started"] for s in summaries) == sum(
        1 for line in multi_trail_cli if '"state":"Start"' in line
    )
    if read == "direct":
        out = tmp_path / "insights"
        ts_spark.write_json_lines(rows, str(out))
        written = [p for p in out.iterdir() if p.name.startswith("part-")]
        assert len(written) == 1 and written[0].read_text().splitlines() == multi_trail_cli


def test_listing_applies_the_command_skip_rules(spark, multi_trail):
    files = ts_spark.list_files(spark, str(multi_trail)).collect()
    assert files and all("CloudTrail-Digest" not in f.path for f in files)
    assert all(f.account and f.region and f.delivered for f in files)


def test_settings_reach_the_workers(spark, multi_trail):
    from conftest import cli_lines

    expected = cli_lines(str(multi_trail), "--sensitivity", "0.9")
    rows = ts_spark.replay(spark, str(multi_trail), read="direct", sensitivity=0.9, partitions=2)
    assert ts_spark.collect_json_lines(rows) == expected
    import trailsight

    with pytest.raises(trailsight.ConfigError):
        ts_spark.replay(spark, str(multi_trail), sensitivity=3)


def test_spark_name_columns_agree_with_the_engine(spark, multi_trail):
    import trailsight

    names = [str(p) for p in sorted(multi_trail.rglob("*"))[:3000] if p.is_file()] + [
        "123456789012_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz",
        "123456789012_CloudTrail-Insight_ca-central-1_20200923T0516Z_K.json.gz",
        "x_20231340T1220Z_y.json",
        "_CloudTrail_us-east-1_20230710T1220Z_a.json",
        "1_CloudTrail__20230710T1220Z_a.json",
        "1_CloudTrail_eu-west-1_20240229T2359Z.json",
        "1_CloudTrail_eu-west-1_20230229T2359Z.json",
        "export.json",
        "dir_1_CloudTrail/1_CloudTrail_us-east-1_20240101T0000Z_a",
    ]
    frame = spark.createDataFrame([(n,) for n in names], "path string")
    got = frame.select("path", *ts_spark._name_columns()).collect()
    for row in got:
        pair = trailsight.account_region(row.path)
        assert (row.account, row.region) == (pair or (None, None)), row.path
        assert row.delivered == trailsight.delivery_time(row.path), row.path


@pytest.mark.parametrize("read", ["spark", "direct"])
def test_max_document_mib_reaches_the_workers(spark, tmp_path, read):
    import gzip

    folder = tmp_path / "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04"
    folder.mkdir(parents=True)
    name = "111122223333_CloudTrail_us-east-1_20240304T10{}Z_{}.json.gz"
    (folder / name.format("05", "bomb")).write_bytes(gzip.compress(b" " * (8 << 20), 9))
    good = {"Records": [{"eventVersion": "1.09", "eventTime": "2024-03-04T10:00:00Z",
                         "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
                         "awsRegion": "us-east-1", "eventID": "00000000-0000-4000-8000-000000000001",
                         "readOnly": False, "recipientAccountId": "111122223333",
                         "eventCategory": "Management"}]}
    (folder / name.format("06", "good")).write_bytes(gzip.compress(json.dumps(good).encode()))
    rows = ts_spark.replay(spark, str(tmp_path), read=read, max_document_mib=1)
    [summary] = [json.loads(r.record) for r in rows.filter("kind = 'summary'").collect()]
    assert summary["skipped"] == {"too large": 1}, summary
    assert summary["files"] == 1 and summary["stats"]["counted"] == 1
    assert any("bomb" in e and "--max-document-mib 1" in e for e in summary["errors"]), summary
