"""Times trailsight.spark.replay on local[N] against `trailsight detect` on the same trail.

    python python/bench/spark_scaling.py TRAIL_ROOT --cores 1 2 --read spark direct

Prints, per run, the wall time of the job (listing, reading, replaying, collecting the records
on the driver; the session start is not counted) and checks that the records equal the
command's (TRAILSIGHT_BIN, default target/release/trailsight).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--read", nargs="+", default=["spark", "direct"])
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    binary = os.environ.get(
        "TRAILSIGHT_BIN", str(Path(__file__).resolve().parents[2] / "target/release/trailsight")
    )
    started = time.perf_counter()
    expected = subprocess.run(
        [binary, "detect", "-q", "-j", "1", args.root], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    print(f"trailsight detect -j 1: {time.perf_counter() - started:.1f} s, {len(expected)} records")

    from pyspark.sql import SparkSession

    from trailsight import spark as ts_spark

    for cores in args.cores:
        session = (
            SparkSession.builder.master(f"local[{cores}]")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        for read in args.read:
            started = time.perf_counter()
            lines = ts_spark.collect_json_lines(ts_spark.replay(session, args.root, read=read))
            elapsed = time.perf_counter() - started
            verdict = "same records as detect" if lines == expected else "DIFFERENT from detect"
            print(f"local[{cores}] read={read}: {elapsed:.1f} s, {len(lines)} records, {verdict}",
                  flush=True)
        session.stop()


if __name__ == "__main__":
    main()
