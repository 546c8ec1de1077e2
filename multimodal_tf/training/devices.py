"""What this machine has: CPU instruction-set flags and GPUs."""

from __future__ import annotations

import os

import keras

CPU_FLAGS_VARIABLE = "MULTIMODAL_TF_CPU_FLAGS"


def cpu_flags() -> frozenset:
    """The instruction-set flags of this machine's CPU (Linux; empty elsewhere).

    The environment variable `MULTIMODAL_TF_CPU_FLAGS` (space-separated
    flags, e.g. `"avx2 fma"`) replaces them, so `"auto"` can be made to
    choose as on another CPU class (and the suite run that way).
    """
    forced = os.environ.get(CPU_FLAGS_VARIABLE)
    if forced is not None:
        return frozenset(forced.split())
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def has_gpu() -> bool:
    """Whether the Keras backend sees a GPU."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False
