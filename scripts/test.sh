#!/usr/bin/env bash
# The test suite: set up with the test tools (idempotent), then pytest in .venv.
# Default: every test not marked slow, then the model and layer tests again
# under KERAS_BACKEND=jax (the GPU path runs on JAX), each on two workers. With arguments
# (`bash scripts/test.sh -m slow`, a test path, ...) only the first pytest
# runs, with those arguments, in this process; `--parallel` first puts it on the
# same workers (`bash scripts/test.sh --parallel -m slow`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
PY="${MULTIMODAL_TF_VENV:-.venv}/bin/python"
# The tests write models, datasets and exports to the temporary folder
# (pytest removes each passing test's): refuse to start on too little room,
# rather than fail half-way with "No space left on device".
"$PY" - <<'CHECK'
import shutil, sys, tempfile
folder, needed = tempfile.gettempdir(), 4
free = shutil.disk_usage(folder).free / 2**30
if free < needed:
    sys.exit(
        f"scripts/test.sh: the temporary folder {folder} has {free:.1f} GB free; the tests need "
        f"about {needed} GB there. Free some space (left-over rehearsal clones: "
        f"{folder}/multimodal_tf-rehearsal.*) or point TMPDIR at a folder with room."
    )
CHECK
# Two workers (pytest-xdist), each test file on one of them: about twice as fast on
# 2 cores as one process. MULTIMODAL_TF_TEST_WORKERS=0 runs in this process.
WORKERS=(-n "${MULTIMODAL_TF_TEST_WORKERS:-2}" --dist loadfile)
if [ "${1:-}" = "--parallel" ]; then
  shift
  exec "$PY" -m pytest -p no:cacheprovider "${WORKERS[@]}" "$@"
fi
if [ $# -gt 0 ]; then
  exec "$PY" -m pytest -p no:cacheprovider "$@"
fi
"$PY" -m pytest -p no:cacheprovider "${WORKERS[@]}"
echo "--- the model and layer tests under KERAS_BACKEND=jax"
# (the tokeniser's tests are TensorFlow Text's, whatever the backend: not repeated)
KERAS_BACKEND=jax exec "$PY" -m pytest -p no:cacheprovider "${WORKERS[@]}" tests/models --ignore=tests/models/test_bert_tokenizer.py
