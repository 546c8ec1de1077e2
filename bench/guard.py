"""Benchmark 6: what the `InputGuard` costs a training step.

The CNN and the stacked LSTM of benchmark 3 (same shapes and batches), each
built twice from the same builder: as built, and with the guard taken out
(the same layers after it). Fits of the two alternate, so both see the
same machine noise; each fit's steps are timed inside its second epoch
(`bench.common.fit_step_seconds`), and the ratio is the median, over the
repeats, of the guarded fit's samples/s over the unguarded one's next to it
(1.00x: free).
"""

from __future__ import annotations

import numpy as np

from bench.precision import BATCH, _build, _inputs


def _without_guard(model):
    import keras

    from multimodal_tf.models.guards import InputGuard
    from multimodal_tf.models.heads import compile_classifier

    if not isinstance(model.layers[0], InputGuard):
        raise ValueError(f"expected an InputGuard first, got {type(model.layers[0]).__name__}")
    # Compiled as the builders compile (same optimizer, loss and accuracy metric).
    return compile_classifier(
        keras.Sequential([keras.Input(model.input_shape[1:]), *model.layers[1:]])
    )


def run(rows, kinds=("cnn", "lstm"), repeats: int = 3, steps: int = 100):
    import keras
    import tensorflow as tf

    from bench.common import fit_step_seconds
    from multimodal_tf.data.pipeline import prefetched

    for kind in kinds:
        if kind not in ("cnn", "lstm"):
            raise ValueError(
                f"`kinds` of the guard benchmark must be cnn and/or lstm, got {kind!r}."
            )
        batch = BATCH[kind]
        rng = np.random.default_rng(0)
        inputs = np.concatenate([_inputs(kind, batch, rng) for _ in range(steps)])
        labels = rng.integers(0, 2, len(inputs))
        data = prefetched(tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(batch).cache())
        keras.utils.set_random_seed(0)
        models = {"guarded": _build(kind), "unguarded": _without_guard(_build(kind))}
        step = {name: [] for name in models}
        for _ in range(repeats):
            for name, model in models.items():
                # Two epochs, the second timed: a repeat's two models run back to back.
                seconds = fit_step_seconds(model, data, epochs=2)
                step[name].append(float(np.median(seconds)))
        rate = {name: batch / float(np.median(values)) for name, values in step.items()}
        # The two models of a repeat run back to back: their ratio cancels most machine noise.
        paired = float(np.median(np.array(step["unguarded"]) / np.array(step["guarded"])))
        rows.add(
            f"guard-{kind}",
            f"training samples/s with vs without the InputGuard ({steps} batches of {batch}, "
            f"{repeats} alternating fits, steps timed inside the epoch; ratio: median of the "
            "paired fits' ratios)",
            f"guarded {rate['guarded']:.0f}/s vs unguarded {rate['unguarded']:.0f}/s",
            f"{paired:.2f}x",
        )
        keras.backend.clear_session()
