#!/usr/bin/env bash
# Benchmark 4 on a lent GPU machine, which has JAX and CUDA but no TensorFlow.
#
# Here, once (the wheels are git-ignored and travel with the call, under 64 MiB):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl keras keras-hub namex optree kagglehub kagglesdk
# Then run this script on the device, carrying .whl:
#   bash bench/gpu_device.sh        (writes bench/RESULTS.md rows and copies the file to $OUT)
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
KERAS_BACKEND=jax python3 -m bench gpu --record
cp bench/RESULTS.md "${OUT:-/tmp}/"
