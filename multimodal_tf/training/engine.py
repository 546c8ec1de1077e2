"""`train` and `fit`: build under the right precision and strategy, compile, fit."""

from __future__ import annotations

import time

import keras

from multimodal_tf.console import progress_verbosity
from multimodal_tf.keras_internals import distribute_strategy_of
from multimodal_tf.training.callbacks import make_callbacks
from multimodal_tf.training.compiling import build_optimizer, compile_model
from multimodal_tf.training.config import TrainingConfig, TrainingResult
from multimodal_tf.training.distribute import (
    build_before_multiworker_fit,
    make_strategy,
    strategy_scope,
)
from multimodal_tf.training.feature_cache import text_inputs_for
from multimodal_tf.training.precision import build_under_precision, precision_scope


def steps_per_epoch_of(data) -> int | None:
    """Batches per epoch of a `tf.data.Dataset` (None when unknown)."""
    cardinality = getattr(data, "cardinality", None)
    if cardinality is not None:
        count = int(cardinality())
        return count if count > 0 else None
    return len(data) if hasattr(data, "__len__") else None


def fit(
    model,
    train_data,
    config: TrainingConfig,
    validation_data=None,
    callbacks=(),
    steps_per_epoch=None,
    initial_epoch: int = 0,
    whole_model=None,
):
    """Compiles `model` for `config` and fits it.

    Use this for a model that is already built (a keras-tuner trial builds
    its own under the tuner's strategy); `train` also builds it.

    Args:
        model: a Keras model built under the wanted dtype policy and strategy.
        train_data: a `tf.data.Dataset` of `(inputs, labels)` batches (the
            batch size is the global one).
        config: the training configuration.
        validation_data: optional dataset evaluated after each epoch.
        callbacks: more callbacks, run after the engine's.
        steps_per_epoch: only for data of unknown cardinality.
        initial_epoch: the epoch to start from (Hyperband continues trials).
        whole_model: when `model` is the head of a model whose frozen encoder
            is cached, that model: its builder's optimizer applies, and the
            best-model checkpoint saves it.

    Returns:
        The `keras.callbacks.History`.
    """
    steps = steps_per_epoch or steps_per_epoch_of(train_data)
    # The optimizer's variables must live where the model's do (a tuner
    # builds under its strategy but fits outside that scope).
    with strategy_scope(distribute_strategy_of(model)):
        if whole_model is None:
            compile_model(model, config, steps)
        else:  # one optimizer: the whole model's, so saved and restored with it
            compile_model(whole_model, config, steps)
            compile_model(
                model, config, steps, builder_model=whole_model, optimizer=whole_model.optimizer
            )
        build_optimizer(model)
    build_before_multiworker_fit(model, train_data)
    return model.fit(
        train_data,
        validation_data=validation_data,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        callbacks=[*make_callbacks(config, validation_data is not None, whole_model), *callbacks],
        verbose=progress_verbosity(config.verbose),
        shuffle=False,
    )


def train(
    build_model,
    train_data,
    config: TrainingConfig | None = None,
    validation_data=None,
    callbacks=(),
    steps_per_epoch=None,
    text_preprocessor=None,
    text_data=None,
) -> TrainingResult:
    """Builds a model under the right precision and strategy, and trains it.

    Args:
        build_model: a function of no arguments that returns a (compiled or
            not) Keras model, e.g. `build_cnn_classifier` or
            `functools.partial(build_multimodal_model, 10, image={...})`. It
            is called inside the precision and strategy scopes, so that
            the weights have the right dtype and live on every replica.
        train_data: a `tf.data.Dataset` of `(inputs, labels)` batches.
        config: the training configuration (default: `TrainingConfig()`).
        validation_data: optional validation dataset.
        callbacks: more Keras callbacks.
        steps_per_epoch: only for data of unknown cardinality.
        text_preprocessor: given, the datasets carry raw `"text"` strings,
            which this preprocessor tokenises; and where the model's text
            encoder is frozen and `config.feature_cache` is on, its outputs
            are computed once per distinct text instead
            (`training.feature_cache`; one device only).
        text_data: unshuffled copies of the raw-text data for the cache to
            read the texts from (default: the training and validation data,
            whose shuffle that reading advances).

    Returns:
        A `TrainingResult`.
    """
    config = config or TrainingConfig()
    if isinstance(build_model, keras.Model) or not callable(build_model):
        raise ValueError(
            "`build_model` must be a function that returns a model (it is called under the "
            "precision "
            f"and strategy scopes), got {type(build_model).__name__}; use `fit` for a built model."
        )
    strategy = make_strategy(config.strategy)
    with strategy_scope(strategy):
        model, precision = build_under_precision(build_model, config.precision, config.seed)
    with precision_scope(precision), strategy_scope(strategy):
        started = time.perf_counter()
        with text_inputs_for(
            model, train_data, validation_data, text_preprocessor, config, text_data=text_data
        ) as inputs:
            feature_seconds = time.perf_counter() - started
            history = fit(
                inputs.fit_model,
                inputs.train_data,
                config,
                inputs.validation_data,
                callbacks,
                steps_per_epoch,
                whole_model=model if inputs.cached else None,
            )
        seconds = time.perf_counter() - started
    return TrainingResult(
        model=model,
        history=history,
        precision=precision,
        jit_compile=bool(inputs.fit_model.jit_compile),
        strategy=type(strategy).__name__ if strategy is not None else "none",
        replicas=strategy.num_replicas_in_sync if strategy is not None else 1,
        seconds=seconds,
        feature_cache=inputs.cached,
        feature_seconds=round(feature_seconds, 1) if inputs.cached else 0.0,
    )
