#!/usr/bin/env bash
# Builds the trailsight wheel, installs it into a virtual environment with PySpark, and runs
# the Python tests, the local[2] Spark test included, against the `trailsight` command built
# from the same tree. Used by .ci/run; runs as is on a fresh clone (needs python3 >= 3.9 with
# venv, a Rust toolchain, Java 17 for Spark, and PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${TRAILSIGHT_VENV:-$root/target/python-venv}

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# pandas < 3: PySpark 4 warns that it does not fully support pandas 3 yet.
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    'maturin>=1.9,<2' 'pytest>=8' 'mypy>=1.10' 'pyspark>=4.0,<5' 'pandas>=2.2,<3' 'pyarrow>=15'

# The package's Python code against its stubs (the compiled module's API).
(cd python && "$venv/bin/mypy" trailsight)

cargo build --release --locked -p trailsight-replay
rm -rf target/wheels
"$venv/bin/maturin" build --release --locked -m python/Cargo.toml -o target/wheels
"$venv/bin/pip" install --quiet --force-reinstall --no-deps target/wheels/trailsight-*.whl

# Run from outside python/ so that the installed package, not the source folder (which has no
# compiled module), is imported, by pytest and by Spark's Python workers alike.
cd "$root/target"
export PYSPARK_PYTHON="$venv/bin/python"
export TRAILSIGHT_BIN="$root/target/release/trailsight"
"$venv/bin/pytest" -q -p no:cacheprovider "$root/python/tests" "$@"
