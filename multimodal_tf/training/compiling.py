"""Compiling for the device: optimizer, loss scaling, and whether XLA compiles the step."""

from __future__ import annotations

import keras

from multimodal_tf.keras_internals import all_layers, distribute_strategy_of
from multimodal_tf.models.dtypes import model_policy
from multimodal_tf.models.heads import (
    SPARSE_LOSSES,
    SmoothedSparseCategoricalCrossentropy,
    head_loss,
    head_metrics,
)
from multimodal_tf.training import devices
from multimodal_tf.training.config import TrainingConfig
from multimodal_tf.training.optimizers import make_optimizer

# Layers whose XLA CPU kernels measured slower than TensorFlow's own (oneDNN).
SLOW_UNDER_XLA_ON_CPU = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.Conv2DTranspose,
)


def resolve_jit_compile(model, jit_compile="auto"):
    """Whether XLA compiles `model`'s steps: `jit_compile` with "auto" decided.

    Returns:
        True, False, or "auto" where Keras' own rule applies (accelerators).
    """
    if jit_compile != "auto":
        return jit_compile
    if devices.has_gpu():
        return "auto"
    if distribute_strategy_of(model) is not None:
        return False
    if model_policy(model) != "float32":
        # XLA's CPU backend has no oneDNN 16-bit kernels: the BERT classifier's
        # mixed_bfloat16 step is slower with XLA than without (bench/results.jsonl
        # #precision-bert-bfloat16-xla-on-avx512bf16-2026-11-28 and -xla-off-).
        return False
    layers = all_layers(model)
    if not all(layer.supports_jit for layer in layers):
        return False
    return not any(isinstance(layer, SLOW_UNDER_XLA_ON_CPU) for layer in layers)


def compile_model(
    model,
    config: TrainingConfig,
    steps_per_epoch: int | None = None,
    builder_model=None,
    optimizer=None,
):
    """Compiles `model` for training as `config` says (in place).

    The loss is the model's own if it was compiled, else sparse categorical
    cross-entropy (smoothed when `config.label_smoothing`); the metric is
    accuracy. A regressor (`models.heads.is_regressor`) trains with the mean
    squared error, scored by MAE and RMSE. Under `mixed_float16` the optimizer is wrapped in a
    `LossScaleOptimizer` so that small float16 gradients do not underflow.

    Args:
        model: the model to compile.
        config: the training configuration.
        steps_per_epoch: needed for a warmup schedule.
        builder_model: the model whose builder's choices (optimizer, learning
            rate, loss) apply, when `model` trains on its behalf (the head of
            a model whose frozen encoder is cached); default `model`.
        optimizer: an optimizer to share (the whole model's, so that it is
            the one saved and restored with the whole model); default: a new
            one as `config` says.

    Returns:
        `model`.
    """
    builder_model = builder_model or model
    if optimizer is None:
        optimizer = make_optimizer(builder_model, config, steps_per_epoch)
        if model_policy(model) == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    loss = getattr(builder_model, "loss", None) or head_loss(builder_model)
    if config.label_smoothing:
        if not (loss in SPARSE_LOSSES or isinstance(loss, SmoothedSparseCategoricalCrossentropy)):
            raise ValueError(
                "`label_smoothing` smooths integer labels' cross-entropy; this model's loss is "
                f"{loss!r}."
            )
        loss = SmoothedSparseCategoricalCrossentropy(config.label_smoothing)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=head_metrics(builder_model, loss),
        jit_compile=resolve_jit_compile(model, config.jit_compile),
        steps_per_execution=config.steps_per_execution,
    )
    return model


def build_optimizer(model):
    """Creates the compiled optimizer's variables for `model`'s trainable weights, if not yet.

    Without a `tf.distribute` strategy Keras creates them while tracing the
    first training step, and `tf.function` then traces that step a second
    time (a function that created variables is retraced without them): for
    MiniLM under mixed_bfloat16 about 8 of the 16 seconds before its first
    step (docs/benchmarks.md, "Fine-tuning BERT: where the time goes").
    Built here, the step is traced once. A model with a layer not built yet
    (a `Sequential` without an `Input`) is left to Keras, which builds the
    optimizer once the layers have their weights.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    if all(layer.built for layer in all_layers(model)):
        optimizer.build(model.trainable_variables)
