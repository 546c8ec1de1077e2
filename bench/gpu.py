"""Benchmark 4: the same model code on a GPU with KERAS_BACKEND=jax.

A BERT-base-sized classifier (12 layers, hidden 768, 128 tokens, batch 32)
and the fusion model, float32 vs mixed_float16 vs mixed_bfloat16, steps/s;
the ratio is the policy's steps/s over float32's. Run on the GPU machine:

    KERAS_BACKEND=jax python -m bench gpu --record

(`bench/gpu_device.sh` does that on the lent GPU machine, from carried wheels.)

(TensorFlow is not needed there: the models use keras.layers/keras.ops
only, and the tokeniser, which needs TensorFlow Text, is not imported.)
"""

from __future__ import annotations


def device_name() -> str:
    """The accelerator's name as the backend reports it."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.device_kind} ({device.platform}, jax {jax.__version__})"
    from bench.common import machine

    return machine()


def run(rows, kinds=("bert-base", "fusion"), repeats: int = 5, steps: int = 20):
    from bench.precision import step_seconds
    from multimodal_tf.training import PRECISIONS

    for kind in kinds:
        baseline = step_seconds(kind, "float32", "auto", steps, repeats)
        for precision in PRECISIONS:
            seconds = baseline if precision == "float32" else step_seconds(kind, precision, "auto", steps, repeats)
            rows.add(f"gpu-{kind}", f"{precision} steps/s (XLA auto)", f"{1 / seconds:.2f} steps/s", f"{baseline / seconds:.2f}x")
