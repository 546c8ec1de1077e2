"""Optimizers: the builder's own, Adam, or AdamW with BERT's warmup-then-decay schedule."""

from __future__ import annotations

import keras
import numpy as np

from multimodal_tf.fused_adam import FusedAdam, FusedAdamW
from multimodal_tf.training.config import NO_WEIGHT_DECAY, TrainingConfig
from multimodal_tf.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="multimodal_tf")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to the peak, then linear decay to `end_learning_rate`.

    The schedule of BERT fine-tuning (Hugging Face's `create_optimizer`).

    Args:
        peak_learning_rate: the learning rate at the end of warmup.
        warmup_steps: steps of warmup (0: start at the peak).
        total_steps: all training steps; the rate reaches the end there.
        end_learning_rate: the rate after `total_steps`.
    """

    def __init__(self, peak_learning_rate, warmup_steps, total_steps, end_learning_rate=0.0):
        if total_steps < 1 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"`warmup_steps` must be in [0, total_steps] and `total_steps` >= 1, "
                f"got {warmup_steps} and {total_steps}."
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.end_learning_rate = float(end_learning_rate)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = keras.ops.maximum(float(self.warmup_steps), 1.0)
        warming = self.peak_learning_rate * step / warmup
        decay_steps = keras.ops.maximum(float(self.total_steps - self.warmup_steps), 1.0)
        progress = keras.ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        decaying = (
            self.peak_learning_rate + (self.end_learning_rate - self.peak_learning_rate) * progress
        )
        return keras.ops.where(step < self.warmup_steps, warming, decaying)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "end_learning_rate": self.end_learning_rate,
        }


def adamw_with_warmup(
    learning_rate: float, total_steps: int, warmup_fraction: float = 0.1, weight_decay: float = 0.01
):
    """AdamW with linear warmup and decay, biases and norms free of decay.

    Args:
        learning_rate: the peak learning rate (5e-5 to 1e-4 for BERT).
        total_steps: all training steps (epochs x steps per epoch).
        warmup_fraction: fraction of `total_steps` spent warming up.
        weight_decay: decoupled weight decay of the other weights.

    Returns:
        A `keras.optimizers.AdamW` (a `FusedAdamW`).
    """
    total_steps = check_positive_int("total_steps", total_steps)
    check_rate("warmup_fraction", warmup_fraction)
    schedule = WarmupLinearDecay(learning_rate, round(warmup_fraction * total_steps), total_steps)
    optimizer = FusedAdamW(learning_rate=schedule, weight_decay=weight_decay)
    optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    return optimizer


def _compiled_optimizer(model):
    """The optimizer the model was compiled with, unwrapped from loss scaling (or None)."""
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return optimizer


def learning_rate_schedule(optimizer):
    """The optimizer's `LearningRateSchedule`, or None for a constant rate (public API only)."""
    rate = optimizer.get_config()["learning_rate"]  # a float, or a serialised schedule
    return keras.saving.deserialize_keras_object(rate) if isinstance(rate, dict) else None


def _compiled_learning_rate(model) -> float | None:
    optimizer = _compiled_optimizer(model)
    if optimizer is None:
        return None
    schedule = learning_rate_schedule(optimizer)
    if schedule is not None:
        return schedule.peak_learning_rate if isinstance(schedule, WarmupLinearDecay) else None
    # The shortest decimal that is this float32, so 3e-4 reads back as 3e-4.
    return float(
        np.format_float_positional(np.float32(optimizer.get_config()["learning_rate"]), unique=True)
    )


def _compiled_optimizer_name(model) -> str:
    return "adamw" if isinstance(_compiled_optimizer(model), keras.optimizers.AdamW) else "adam"


def make_optimizer(model, config: TrainingConfig, steps_per_epoch: int | None = None):
    """The optimizer `config` asks for, given the model's compiled one.

    Args:
        model: the model (compiled by its builder, or not).
        config: the training configuration.
        steps_per_epoch: needed for a warmup schedule.

    Returns:
        A new `keras.optimizers.Optimizer`: Adam or AdamW with a fused update
        (`multimodal_tf.fused_adam`).
    """
    name = _compiled_optimizer_name(model) if config.optimizer == "auto" else config.optimizer
    learning_rate = config.learning_rate or _compiled_learning_rate(model) or 1e-3
    warmup = config.warmup_fraction
    if warmup is None:
        warmup = 0.1 if name == "adamw" else 0.0
    if name == "adam" and warmup == 0:
        return FusedAdam(learning_rate=learning_rate)
    if steps_per_epoch is None:
        raise ValueError(
            "a warmup schedule needs the number of steps per epoch: pass a tf.data.Dataset "
            "of known cardinality, or `steps_per_epoch`."
        )
    total_steps = steps_per_epoch * config.epochs
    if name == "adamw":
        return adamw_with_warmup(learning_rate, total_steps, warmup, config.weight_decay)
    schedule = WarmupLinearDecay(learning_rate, round(warmup * total_steps), total_steps)
    return FusedAdam(learning_rate=schedule)
