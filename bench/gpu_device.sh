#!/usr/bin/env bash
# Benchmark 4 on a lent GPU machine, which has JAX and CUDA but no TensorFlow.
#
# Here, once (the wheels are git-ignored and travel with the call, under 64 MiB):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 -d .whl keras==3.15.1 keras-hub==0.32.0 namex==0.1.0 \
#     optree==0.20.0 kagglehub==1.0.2 kagglesdk==0.1.28
# Then run this script on the device, carrying .whl:
#   bash bench/gpu_device.sh        (writes bench/RESULTS.md rows and copies it and the log to $OUT)
#
# The first run uses JAX's default float32 matmul precision (XLA may use TF32
# on Hopper): that is what a user gets. The second times BERT-base again with
# float32 matmuls at full precision ("highest"), as context for the ratio.
set -euo pipefail
OUT="${OUT:-/tmp}"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 KERAS_BACKEND=jax
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.log"
python3 -m bench gpu --record 2>&1 | grep -v -E "^(WARNING|I0000|W0000)" | tee -a "$OUT/gpu.log"
cp bench/RESULTS.md "$OUT/"
JAX_DEFAULT_MATMUL_PRECISION=highest timeout 240 python3 -m bench gpu --kinds bert-base --record 2>&1 \
  | grep -v -E "^(WARNING|I0000|W0000)" | tee -a "$OUT/gpu.log" || echo "second run stopped: $?" | tee -a "$OUT/gpu.log"
cp bench/RESULTS.md "$OUT/"
