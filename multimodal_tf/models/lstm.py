"""Stacked LSTM sequence encoder and classifier (the document's §4.2).

With default arguments :func:`build_lstm_classifier` is the document's model,
``LSTM(64, return_sequences=True) → LSTM(64) → Dense(10, softmax)``, with a
`Masking` layer in front so that variable-length sequences padded with
`mask_value` give the same prediction as the unpadded sequence, and before
it an `InputGuard` that refuses NaN or infinity.

Padding convention: pad *after* the real time steps (post-padding) with
time steps whose features all equal `mask_value` (0.0 by default). A real
time step whose features are all exactly `mask_value` would be skipped too;
choose another `mask_value` when your data has such steps.
"""

from __future__ import annotations

import dataclasses
import math

import keras

from multimodal_tf.models.dtypes import resolve_dtype
from multimodal_tf.models.guards import guarded_sequential
from multimodal_tf.models.heads import finish_sequential_classifier
from multimodal_tf.validation import (
    check_positive_int,
    check_positive_int_tuple,
    check_rate,
)


@dataclasses.dataclass(frozen=True)
class SequenceEncoderConfig:
    """Hyperparameters of the stacked LSTM sequence encoder.

    Args:
        sequence_length: time steps per example, or None for variable length.
        num_features: features per time step.
        units: units of each stacked LSTM; all but the last return sequences.
        bidirectional: wrap each LSTM in `Bidirectional` (doubles the width).
        dropout: dropout on the encoder's output features.
        mask_value: the padding value that `Masking` skips.
        feature_mean: per-feature means of the training data; with
            `feature_variance`, a `Normalization` layer after `Masking`
            standardises the inputs inside the model (padding stays masked).
        feature_variance: per-feature variances of the training data.

    Example:
    >>> SequenceEncoderConfig(sequence_length=None, num_features=12).units
    (64, 64)
    """

    sequence_length: int | None = None
    num_features: int = 1
    units: tuple = (64, 64)
    bidirectional: bool = False
    dropout: float = 0.0
    mask_value: float = 0.0
    feature_mean: tuple | None = None
    feature_variance: tuple | None = None

    def __post_init__(self):
        set_field = object.__setattr__
        set_field(
            self,
            "sequence_length",
            check_positive_int("sequence_length", self.sequence_length, allow_none=True),
        )
        set_field(self, "num_features", check_positive_int("num_features", self.num_features))
        set_field(self, "units", check_positive_int_tuple("units", self.units))
        if not isinstance(self.bidirectional, bool):
            raise ValueError(f"`bidirectional` must be True or False, got {self.bidirectional!r}.")
        set_field(self, "dropout", check_rate("dropout", self.dropout))
        if not isinstance(self.mask_value, (int, float)) or not math.isfinite(self.mask_value):
            raise ValueError(f"`mask_value` must be a finite number, got {self.mask_value!r}.")
        if (self.feature_mean is None) != (self.feature_variance is None):
            raise ValueError("`feature_mean` and `feature_variance` must be given together.")
        if self.feature_mean is not None:
            for name in ("feature_mean", "feature_variance"):
                try:
                    values = tuple(float(v) for v in getattr(self, name))
                except (TypeError, ValueError):
                    values = ()
                if len(values) != self.num_features or not all(math.isfinite(v) for v in values):
                    raise ValueError(
                        f"`{name}` must hold {self.num_features} finite numbers (one per feature), "
                        f"got {getattr(self, name)!r}."
                    )
                set_field(self, name, values)
            if min(self.feature_variance) <= 0:
                raise ValueError(
                    f"`feature_variance` must be positive, got {self.feature_variance!r}."
                )

    @property
    def input_shape(self) -> tuple:
        return (self.sequence_length, self.num_features)


def sequence_encoder_layers(config: SequenceEncoderConfig, dtype=None) -> list:
    """The encoder's layers, in order, without an input layer.

    Args:
        config: the encoder's hyperparameters.
        dtype: the dtype policy of every layer (None: Keras' global policy).

    Returns:
        A list of new Keras layers: `Masking`, optional `Normalization`, the
        stacked LSTMs (the last returns only its final state) and optional
        `Dropout`.
    """
    dtype = resolve_dtype(dtype)
    layers = [keras.layers.Masking(mask_value=float(config.mask_value), dtype=dtype)]
    if config.feature_mean is not None:
        layers.append(
            keras.layers.Normalization(
                mean=config.feature_mean, variance=config.feature_variance, dtype=dtype
            )
        )
    for index, units in enumerate(config.units):
        lstm = keras.layers.LSTM(units, return_sequences=index < len(config.units) - 1, dtype=dtype)
        layers.append(
            keras.layers.Bidirectional(lstm, dtype=dtype) if config.bidirectional else lstm
        )
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout, dtype=dtype))
    return layers


def build_sequence_encoder(
    config: SequenceEncoderConfig | None = None,
    name: str = "sequence_encoder",
    *,
    guard: bool = False,
    dtype=None,
):
    """Builds the sequence encoder as a Sequential model: sequence → features.

    Args:
        config: the encoder's hyperparameters.
        name: the model's name.
        guard: put an `InputGuard` first, which refuses NaN or infinity
            (the classifiers do; the multimodal model guards its inputs
            itself, presence-aware).
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.

    Returns:
        A `keras.Sequential` mapping `(batch, time, num_features)` floats to
        `(batch, units[-1])` features (twice that when bidirectional).
    """
    config = config or SequenceEncoderConfig()
    dtype = resolve_dtype(dtype)
    return guarded_sequential(
        "sequence", config.input_shape, sequence_encoder_layers(config, dtype), guard, name, dtype
    )


def build_lstm_classifier(
    sequence_length,
    num_features: int,
    num_classes: int = 10,
    *,
    units=(64, 64),
    bidirectional: bool = False,
    dropout: float = 0.0,
    mask_value: float = 0.0,
    feature_mean=None,
    feature_variance=None,
    learning_rate: float | None = None,
    compile: bool = True,
    dtype=None,
):
    """Builds the document's §4.2 stacked LSTM classifier, with masking.

    Args:
        sequence_length: time steps per example, or None for variable length.
        num_features: features per time step.
        num_classes: number of classes.
        units: units of each stacked LSTM (the document: `(64, 64)`).
        bidirectional: use bidirectional LSTMs.
        dropout: dropout before the output layer.
        mask_value: value of padded time steps, skipped by `Masking`.
        feature_mean: per-feature training means, to standardise in-model.
        feature_variance: per-feature training variances.
        learning_rate: Adam's learning rate; None keeps Keras' default.
        compile: whether to compile like the document.
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.

    Returns:
        A `keras.Sequential` from `(batch, time, num_features)` to
        `(batch, num_classes)` float32 probabilities.

    Example:
    >>> import numpy as np
    >>> model = build_lstm_classifier(None, num_features=12, num_classes=9)
    >>> model.predict(np.zeros((1, 20, 12)), verbose=0).shape
    (1, 9)
    """
    config = SequenceEncoderConfig(
        sequence_length,
        num_features,
        units,
        bidirectional,
        dropout,
        mask_value,
        feature_mean,
        feature_variance,
    )
    encoder = build_sequence_encoder(config, name="lstm_classifier", guard=True, dtype=dtype)
    return finish_sequential_classifier(encoder, num_classes, learning_rate, compile)
