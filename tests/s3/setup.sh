#!/usr/bin/env bash
# Installs the S3-protocol server the S3 tests run against (moto's server, pinned) into a venv
# under target/ and prints the path of its `moto_server`. Idempotent: a second run reuses the
# venv. The tests find it through TRAILSIGHT_MOTO_SERVER or at target/moto-venv/bin/moto_server.
set -euo pipefail
cd "$(dirname "$0")/../.."
MOTO_VERSION="5.2.5"
venv="${TRAILSIGHT_MOTO_VENV:-target/moto-venv}"
if ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi
echo "$(cd "$venv/bin" && pwd)/moto_server"
