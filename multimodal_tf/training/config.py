"""What to train with (`TrainingConfig`) and what training returns (`TrainingResult`)."""

from __future__ import annotations

import dataclasses
import math

import keras

from multimodal_tf.choices import OPTIMIZERS, PRECISIONS, STRATEGIES
from multimodal_tf.validation import (
    check_choice,
    check_positive_int,
    check_positive_number,
    check_rate,
    check_seed,
)

# Substrings of variable names AdamW leaves out of weight decay, as Hugging
# Face's create_optimizer does (biases and layer-normalisation scales).
NO_WEIGHT_DECAY = ("bias", "gamma", "beta")
CHECKPOINT_FILE = "best.keras"
LOG_FOLDER = "logs"
BACKUP_FOLDER = "backup"
FEATURE_CACHE_FOLDER = (
    "feature_cache"  # frozen-encoder outputs too large for memory (training.feature_cache)
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingOptions:
    """The choices of how to train, shared by `TrainingConfig` and `runs.RunConfig`.

    A new training option is declared and checked here once; both configs
    inherit it, `training_config` carries it from one to the other, and the
    command line copies it by name.

    Args:
        epochs: passes over the training data.
        precision: `"auto"` or one of `PRECISIONS`.
        jit_compile: `"auto"`, True or False (XLA).
        strategy: one of `STRATEGIES`.
        optimizer: `"auto"` keeps the optimizer the builder chose (Adam for
            the document's models, AdamW for a pretrained BERT); `"adam"` or
            `"adamw"` replaces it.
        learning_rate: peak learning rate; None keeps the builder's.
        warmup_fraction: fraction of all steps spent warming the learning
            rate up linearly from 0, after which it decays linearly to 0 (Hugging
            Face's create_optimizer). None: 0.1 with AdamW, else no schedule.
        weight_decay: AdamW's decoupled weight decay.
        steps_per_execution: batches per compiled call (fewer Python round
            trips for small models).
        early_stopping_patience: epochs without improvement before
            stopping (restoring the best weights); None: never stop early.
        label_smoothing: smooth the integer labels' targets by this much
            (`models.heads.SmoothedSparseCategoricalCrossentropy`); 0 keeps
            the builder's loss.
        seed: seeds weights, dropout and Keras' shuffling.
        feature_cache: where a frozen text encoder reads raw-text data
            (`train(..., text_preprocessor=...)`), compute its outputs once
            and train the rest on them (`training.feature_cache`); False
            runs the encoder on every batch.
    """

    epochs: int = 10
    precision: str = "auto"
    jit_compile: bool | str = "auto"
    strategy: str = "default"
    optimizer: str = "auto"
    learning_rate: float | None = None
    warmup_fraction: float | None = None
    weight_decay: float = 0.01
    steps_per_execution: int = 1
    early_stopping_patience: int | None = None
    label_smoothing: float = 0.0
    seed: int = 0
    feature_cache: bool = True

    def __post_init__(self):
        check_positive_int("epochs", self.epochs)
        check_choice("precision", self.precision, ("auto", *PRECISIONS))
        if self.jit_compile not in ("auto", True, False):
            raise ValueError(
                f"`jit_compile` must be 'auto', True or False, got {self.jit_compile!r}."
            )
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive_number("learning_rate", self.learning_rate, allow_none=True)
        if self.warmup_fraction is not None:
            check_rate("warmup_fraction", self.warmup_fraction)
        if not (
            isinstance(self.weight_decay, (int, float))
            and math.isfinite(self.weight_decay)
            and self.weight_decay >= 0
        ):
            raise ValueError(
                f"`weight_decay` must be a finite number >= 0, got {self.weight_decay!r}."
            )
        check_positive_int("steps_per_execution", self.steps_per_execution)
        check_positive_int("early_stopping_patience", self.early_stopping_patience, allow_none=True)
        check_rate("label_smoothing", self.label_smoothing)
        check_seed(self.seed)
        if not isinstance(self.feature_cache, bool):
            raise ValueError(f"`feature_cache` must be True or False, got {self.feature_cache!r}.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingConfig(TrainingOptions):
    """How to train: the `TrainingOptions`, and where and how loudly.

    Args:
        output_dir: where TensorBoard logs (`logs/`), the best model
            (`best.keras`) and the backup for resuming (`backup/`) go; None
            writes nothing.
        tensorboard: write TensorBoard logs (needs `output_dir`).
        checkpoint: save the best model (needs `output_dir`).
        backup: back up every epoch and resume from the backup when the
            same `output_dir` trains again after an interruption.
        keep_backup: keep the backup when training ends (a caller that
            saves results after training removes it once they are saved,
            so a failure in between loses no training).
        verbose: Keras' display: 0 silent, 1 progress bar, 2 a line an epoch, or
            "auto": a progress bar on a terminal, a line an epoch off one
            (`multimodal_tf.console.progress_verbosity`).
        **options: the `TrainingOptions` (epochs, precision, ...).
    """

    output_dir: str | None = None
    tensorboard: bool = True
    checkpoint: bool = True
    backup: bool = True
    keep_backup: bool = False
    verbose: int | str = "auto"

    def __post_init__(self):
        super().__post_init__()
        check_choice("verbose", self.verbose, (0, 1, 2, "auto"))


def training_config(options: TrainingOptions, **settings) -> TrainingConfig:
    """A `TrainingConfig` with every option of `options` (a `RunConfig`, say); `settings` override.

    Example:
        `training_config(run_config, output_dir="runs/a", verbose=2)`
    """
    names = [field.name for field in dataclasses.fields(TrainingOptions)]
    return TrainingConfig(**{**{name: getattr(options, name) for name in names}, **settings})


@dataclasses.dataclass
class TrainingResult:
    """What `train` returns.

    Attributes:
        model: the trained model (the best weights when early stopping).
        history: the `keras.callbacks.History` of the fit.
        precision: the dtype policy trained under.
        jit_compile: whether XLA compiled the train step.
        strategy: the distribution strategy's class name.
        replicas: replicas in sync.
        seconds: wall-clock seconds of `fit`.
        feature_cache: whether a frozen encoder's outputs were computed once
            (`training.feature_cache`), and `feature_seconds` how long that took
            (inside `seconds`).
    """

    model: keras.Model
    history: keras.callbacks.History
    precision: str
    jit_compile: bool
    strategy: str
    replicas: int
    seconds: float
    feature_cache: bool = False
    feature_seconds: float = 0.0
