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


def matmul_precision() -> str:
    """JAX's float32 matmul precision (its default lets XLA use TF32 on GPUs)."""
    import keras

    if keras.backend.backend() != "jax":
        return "n/a"
    import jax

    return str(jax.config.jax_default_matmul_precision or "default")


def run(
    rows,
    kinds=("bert-base", "fusion"),
    repeats: int = 5,
    steps: int = 50,
    steps_per_execution: int = 1,
):
    """Times each model under every precision policy; one row per policy.

    Args:
        rows: the `bench.common.Rows` to add to.
        kinds: models from `bench.precision` ("bert-base", "fusion", ...).
        repeats: timed epochs per figure (the median is kept).
        steps: training steps per timed epoch: enough that Keras' per-epoch
            overhead is small beside them on a fast GPU.
        steps_per_execution: batches per compiled call (above 1 takes
            Python's per-step dispatch out of small models' step time).
    """
    from bench.precision import step_seconds
    from multimodal_tf.training import PRECISIONS

    setting = f"XLA auto, f32 matmul {matmul_precision()}"
    if steps_per_execution > 1:
        setting += f", {steps_per_execution} steps per execution"
    for kind in kinds:

        def seconds_per_step(precision):
            return step_seconds(kind, precision, "auto", steps, repeats, steps_per_execution)  # noqa: B023

        baseline = seconds_per_step("float32")
        for precision in PRECISIONS:
            seconds = baseline if precision == "float32" else seconds_per_step(precision)
            rows.add(
                f"gpu-{kind}",
                f"{precision} steps/s ({setting})",
                f"{1 / seconds:.2f} steps/s",
                f"{baseline / seconds:.2f}x",
            )
