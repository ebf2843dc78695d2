"""Shared fixtures: the `trailsight` command and generated trails.

The tests compare the package with the command on the same input, so they need the command:
`TRAILSIGHT_BIN`, or the release build under the workspace's target directory (built by
python/ci.sh).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def trailsight_bin() -> str:
    found = os.environ.get("TRAILSIGHT_BIN") or str(REPO / "target" / "release" / "trailsight")
    if not Path(found).exists():
        pytest.fail(f"{found} not found: build it with cargo build --release -p trailsight-replay")
    return found


def cli_lines(*args: str) -> list[str]:
    """`trailsight detect -q ARGS...` stdout, as lines."""
    out = subprocess.run(
        [trailsight_bin(), "detect", "-q", *args], check=True, capture_output=True, text=True
    ).stdout
    return out.splitlines()


@pytest.fixture(scope="session")
def multi_trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated trail of 2 accounts x 2 regions over 9 days (the detector needs a 7-day
    baseline before it reports), small enough to replay in seconds."""
    out = tmp_path_factory.mktemp("trail")
    subprocess.run(
        [trailsight_bin(), "simulate", str(out), "--seed", "11", "--days", "9", "--scale", "0.05",
         "--accounts", "2", "--regions", "us-east-1,eu-west-1"],
        check=True, capture_output=True,
    )
    return out / "AWSLogs"


@pytest.fixture(scope="session")
def multi_trail_cli(multi_trail: Path) -> list[str]:
    return cli_lines(str(multi_trail))


@pytest.fixture(scope="session")
def sample_trail() -> Path:
    return REPO / "fixtures" / "sample-trail"
