#!/usr/bin/env bash
# The main job: set up (idempotent), then `multimodal-tf train`.
# Extra arguments go to `multimodal-tf train`, e.g. --epochs 10.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${MULTIMODAL_TF_VENV:-.venv}/bin/multimodal-tf" train "$@"
