#!/usr/bin/env bash
# The test suite: set up with the test tools (idempotent), then pytest in .venv.
# Default: every test not marked slow, then the model and layer tests again
# under KERAS_BACKEND=jax (the GPU path runs on JAX). With arguments
# (`bash scripts/test.sh -m slow`, a test path, ...) only the first pytest
# runs, with those arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
PY="${MULTIMODAL_TF_VENV:-.venv}/bin/python"
if [ $# -gt 0 ]; then
  exec "$PY" -m pytest -p no:cacheprovider "$@"
fi
"$PY" -m pytest -p no:cacheprovider
echo "--- the model and layer tests under KERAS_BACKEND=jax"
# (the tokeniser's tests are TensorFlow Text's, whatever the backend: not repeated)
KERAS_BACKEND=jax exec "$PY" -m pytest -p no:cacheprovider tests/models --ignore=tests/models/test_bert_tokenizer.py
