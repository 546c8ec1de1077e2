#!/usr/bin/env bash
# Lint and format check with ruff (configuration in pyproject.toml: line length 100),
# then no import cycle inside the package (scripts/check_import_cycles.py).
# `bash scripts/lint.sh --fix` applies ruff's safe fixes and formats the tree instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev >/dev/null
RUFF="${MULTIMODAL_TF_VENV:-.venv}/bin/ruff"
if [ "${1:-}" = "--fix" ]; then
  "$RUFF" check --fix .
  exec "$RUFF" format .
fi
"$RUFF" check .
"$RUFF" format --check .
"${MULTIMODAL_TF_VENV:-.venv}/bin/python" scripts/check_import_cycles.py multimodal_tf
