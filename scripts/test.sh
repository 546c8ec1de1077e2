#!/usr/bin/env bash
# The test suite: set up with the test tools (idempotent), then pytest.
# Default: every test not marked slow. `bash scripts/test.sh -m slow` runs the
# slow ones; other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
exec "${PYTHON:-python3}" -m pytest -p no:cacheprovider "$@"
