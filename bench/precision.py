"""Benchmark 3: float32 vs mixed_bfloat16 vs mixed_float16 step time on this CPU.

The CNN (Fashion-MNIST shapes, batch 64), the stacked LSTM (JapaneseVowels
shapes: 29 steps x 12 features, batch 16), the BERT classifier (MiniLM's
shape: 6 layers, hidden 384, 64 tokens, batch 16, random weights: the
timing does not depend on them) and the fusion model (64x64 images + 32
tokens through a frozen MiniLM-shaped encoder, batch 32), each trained on a
batch held in memory. XLA on/off in float32 too, which is how the engine's
`jit_compile="auto"` was chosen. Median step times; ratios are float32's
step time over the row's (above 1 is faster).
"""

from __future__ import annotations

import numpy as np

MINILM_SHAPE = dict(
    vocabulary_size=30522, num_layers=6, num_heads=12, hidden_dim=384, intermediate_dim=1536
)
BERT_BASE_SHAPE = dict(
    vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072
)
BATCH = {"cnn": 64, "lstm": 16, "bert": 16, "fusion": 32, "bert-base": 32}
TOKENS = {"bert": 64, "fusion": 32, "bert-base": 128}


def _inputs(kind, batch, rng):
    if kind == "cnn":
        return rng.uniform(0, 1, (batch, 28, 28, 1)).astype("float32")
    if kind == "lstm":
        return rng.normal(0, 1, (batch, 29, 12)).astype("float32")
    tokens = {"token_ids": rng.integers(1000, 30000, (batch, TOKENS[kind])).astype("int32")}
    tokens["padding_mask"] = np.ones_like(tokens["token_ids"])
    tokens["segment_ids"] = np.zeros_like(tokens["token_ids"])
    if kind != "fusion":
        return tokens
    return {
        "image": rng.uniform(0, 1, (batch, 64, 64, 3)).astype("float32"),
        **tokens,
        "image_present": np.ones(batch, "float32"),
        "text_present": np.ones(batch, "float32"),
    }


def _build(kind):
    from multimodal_tf.models import (
        build_bert_classifier,
        build_cnn_classifier,
        build_lstm_classifier,
        build_multimodal_model,
    )

    if kind == "cnn":
        return build_cnn_classifier()
    if kind == "lstm":
        return build_lstm_classifier(None, 12, 9)
    if kind in ("bert", "bert-base"):
        shape = MINILM_SHAPE if kind == "bert" else BERT_BASE_SHAPE
        return build_bert_classifier(2, sequence_length=TOKENS[kind], **shape)
    return build_multimodal_model(
        12,
        image={"input_shape": (64, 64, 3)},
        text={**MINILM_SHAPE, "sequence_length": 32, "pooling": "mean", "freeze": True},
    )


def step_seconds(kind, precision, jit_compile, steps, repeats, steps_per_execution=1):
    """Median seconds per training step (any Keras backend: numpy inputs).

    One fit of `repeats + 1` epochs of `steps` steps; steps are timed inside
    the epochs after the first (`bench.common.fit_step_seconds`).
    """
    import statistics

    import keras

    from bench.common import fit_step_seconds
    from multimodal_tf.training import TrainingConfig, compile_model, precision_scope

    batch = BATCH[kind]
    rng = np.random.default_rng(0)
    inputs = keras.tree.map_structure(
        lambda x: np.concatenate([x] * steps), _inputs(kind, batch, rng)
    )
    labels = np.tile(rng.integers(0, 2, batch), steps)
    config = TrainingConfig(
        precision=precision,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
        verbose=0,
    )
    with precision_scope(precision):
        keras.utils.set_random_seed(0)
        model = compile_model(_build(kind), config, steps_per_epoch=steps)

    seconds = fit_step_seconds(
        model,
        inputs,
        labels,
        epochs=repeats + 1,
        steps_per_execution=steps_per_execution,
        batch_size=batch,
        shuffle=False,
    )
    keras.backend.clear_session()
    return statistics.median(seconds)


# Models the engine's jit_compile="auto" compiles with XLA on a CPU (no convolution).
XLA_ON_CPU = ("lstm", "bert")


def run(rows, kinds=("cnn", "lstm", "bert", "fusion"), repeats: int = 3, steps: int | None = None):
    from multimodal_tf.training import PRECISIONS

    steps = (
        {kind: steps for kind in kinds}
        if steps
        else {"cnn": 40, "lstm": 20, "bert": 4, "fusion": 4}
    )
    for kind in kinds:
        baseline = step_seconds(kind, "float32", False, steps[kind], repeats)
        rows.add(f"precision-{kind}", "float32 step, XLA off", f"{baseline * 1000:.1f} ms", "1.00x")
        xla = step_seconds(kind, "float32", True, steps[kind], repeats)
        rows.add(
            f"precision-{kind}",
            "float32 step, XLA on",
            f"{xla * 1000:.1f} ms",
            f"{baseline / xla:.2f}x",
        )
        for precision in PRECISIONS[1:]:
            seconds = step_seconds(kind, precision, False, steps[kind], repeats)
            rows.add(
                f"precision-{kind}",
                f"{precision} step, XLA off",
                f"{seconds * 1000:.1f} ms",
                f"{baseline / seconds:.2f}x",
            )
        if kind in XLA_ON_CPU:  # what "auto" compares for these models: both policies under XLA
            seconds = step_seconds(kind, "mixed_bfloat16", True, steps[kind], repeats)
            rows.add(
                f"precision-{kind}",
                "mixed_bfloat16 step, XLA on",
                f"{seconds * 1000:.1f} ms",
                f"{baseline / seconds:.2f}x",
            )
