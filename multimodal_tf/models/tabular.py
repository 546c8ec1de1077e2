"""The tabular encoder: a user's numeric and categorical columns as a fourth modality (§5.1).

The columns are encoded outside the model by a `keras.utils.FeatureSpace`
(`multimodal_tf.data.user.tabular`: numeric columns normalised, categorical
ones one-hot over their training vocabulary), inside `tf.data`; the model
takes the encoded vector, float `(batch, num_features)`, under the input
name `tabular`. So the model itself is `keras.layers` only and runs on any
backend, like the image, sequence and text encoders beside it. The encoder
is a small dense branch that fuses like the others and takes part in
missing-modality masking and modality dropout (`tabular_present`).
"""

from __future__ import annotations

import dataclasses

import keras

from multimodal_tf.models.dtypes import resolve_dtype
from multimodal_tf.models.guards import guarded_sequential
from multimodal_tf.validation import check_positive_int, check_positive_int_tuple, check_rate


@dataclasses.dataclass(frozen=True)
class TabularEncoderConfig:
    """Hyperparameters of the tabular encoder.

    Args:
        num_features: the width of the encoded columns (the FeatureSpace's output).
        units: units of each `Dense(relu)` layer.
        dropout: dropout after each layer.

    Example:
    >>> TabularEncoderConfig(num_features=7).units
    (64,)
    """

    num_features: int = 1
    units: tuple = (64,)
    dropout: float = 0.1

    def __post_init__(self):
        set_field = object.__setattr__
        set_field(self, "num_features", check_positive_int("num_features", self.num_features))
        set_field(self, "units", check_positive_int_tuple("units", self.units))
        set_field(self, "dropout", check_rate("dropout", self.dropout))

    @property
    def input_shape(self) -> tuple:
        return (self.num_features,)


def build_tabular_encoder(
    config: TabularEncoderConfig | None = None, name: str = "tabular_encoder", *, dtype=None
):
    """Builds the tabular encoder as a Sequential model: encoded columns → features.

    Args:
        config: the encoder's hyperparameters.
        name: the model's name.
        dtype: the dtype policy passed to each layer built; None: Keras' global policy.

    Returns:
        A `keras.Sequential` mapping `(batch, num_features)` floats to
        `(batch, units[-1])` features.

    Example:
    >>> build_tabular_encoder(TabularEncoderConfig(num_features=5, units=(8,))).output_shape
    (None, 8)
    """
    config = config or TabularEncoderConfig()
    dtype = resolve_dtype(dtype)
    layers = []
    for index, units in enumerate(config.units):
        layers.append(keras.layers.Dense(units, "relu", name=f"dense_{index}", dtype=dtype))
        if config.dropout:
            layers.append(
                keras.layers.Dropout(config.dropout, name=f"dropout_{index}", dtype=dtype)
            )
    return guarded_sequential("tabular", config.input_shape, layers, False, name, dtype)
