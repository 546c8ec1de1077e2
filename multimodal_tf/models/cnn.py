"""Convolutional image encoder and classifier (the document's §4.1).

With default arguments :func:`build_cnn_classifier` is the document's
Sequential model, ``Conv2D(32, 3, relu) → MaxPooling2D(2) → Conv2D(64, 3, relu)
→ MaxPooling2D(2) → Conv2D(64, 3, relu) → Flatten → Dense(64, relu) →
Dense(10, softmax)``, 93,322 parameters, compiled with adam /
sparse_categorical_crossentropy / accuracy, behind one weightless layer the
document lacks: an `InputGuard` that refuses NaN or infinity. Without it
TensorFlow's max pooling skips a NaN pixel and the model predicts a
confident class from a broken image.

The layers up to ``Dense(64)`` are the *image encoder*. They come from one
function, :func:`image_encoder_layers`, which the classifier, the multimodal
model and the tuner all call, so the architecture is written once.
"""

from __future__ import annotations

import dataclasses

import keras

from multimodal_tf.models.augmentation import ImageAugmentation, augmentation_layers
from multimodal_tf.models.dtypes import resolve_dtype
from multimodal_tf.models.guards import guarded_sequential
from multimodal_tf.models.heads import finish_sequential_classifier
from multimodal_tf.validation import (
    check_positive_int,
    check_positive_int_tuple,
    check_rate,
    check_shape,
)


@dataclasses.dataclass(frozen=True)
class ImageEncoderConfig:
    """Hyperparameters of the convolutional image encoder.

    Args:
        input_shape: `(height, width, channels)` of one image, float input
            (scale uint8 pixels to [0, 1] in the data pipeline).
        filters: number of filters of each `Conv2D`; every convolution but
            the last is followed by `MaxPooling2D(2)`, as in the document.
        kernel_size: side of the square convolution kernels.
        dense_units: width of the `Dense(relu)` feature layer, which is the
            encoder's output.
        dropout: dropout rate applied to the features (0 disables it and
            keeps the document's model).
        batch_norm: whether to put `BatchNormalization` between each
            convolution and its ReLU.
        augmentation: random shifts, zoom, contrast and brightness (and
            optionally hue, saturation, greyscale and erasing) applied
            in training only, before the first convolution: an
            `ImageAugmentation`, a dict of its fields, True for its
            defaults, or None (the document's model) (see
            `models.augmentation`).

    Example:
    >>> ImageEncoderConfig(input_shape=(32, 32, 3)).filters
    (32, 64, 64)
    """

    input_shape: tuple = (28, 28, 1)
    filters: tuple = (32, 64, 64)
    kernel_size: int = 3
    dense_units: int = 64
    dropout: float = 0.0
    batch_norm: bool = False
    augmentation: ImageAugmentation | None = None

    def __post_init__(self):
        set_field = object.__setattr__
        set_field(self, "input_shape", check_shape("input_shape", self.input_shape, rank=3))
        set_field(self, "filters", check_positive_int_tuple("filters", self.filters))
        set_field(self, "kernel_size", check_positive_int("kernel_size", self.kernel_size))
        set_field(self, "dense_units", check_positive_int("dense_units", self.dense_units))
        set_field(self, "dropout", check_rate("dropout", self.dropout))
        if not isinstance(self.batch_norm, bool):
            raise ValueError(f"`batch_norm` must be True or False, got {self.batch_norm!r}.")
        set_field(self, "augmentation", ImageAugmentation.from_value(self.augmentation))
        if self.augmentation:
            self.augmentation.check_channels(self.input_shape[-1])
        self._check_spatial_size()

    def _check_spatial_size(self):
        """Fails early when the image is too small for the conv/pool stack."""
        height, width, _ = self.input_shape
        for index in range(len(self.filters)):
            height, width = height - self.kernel_size + 1, width - self.kernel_size + 1
            if height < 1 or width < 1:
                raise ValueError(
                    f"`input_shape` {self.input_shape} is too small for "
                    f"{len(self.filters)} convolutions of kernel_size "
                    f"{self.kernel_size} with 2x2 pooling between them: the "
                    f"feature map vanishes at convolution {index + 1}. Use a "
                    "larger image, fewer filters or a smaller kernel_size."
                )
            if index < len(self.filters) - 1:
                height, width = height // 2, width // 2


def image_encoder_layers(config: ImageEncoderConfig, dtype=None) -> list:
    """The encoder's layers, in order, without an input layer.

    Args:
        config: the encoder's hyperparameters.
        dtype: the dtype policy of every layer (None: Keras' global policy).

    Returns:
        A list of new Keras layers, the augmentation's first (if any),
        ending in the `Dense(relu)` feature layer (and `Dropout` when
        `config.dropout > 0`).
    """
    dtype = resolve_dtype(dtype)
    layers = augmentation_layers(config.augmentation, dtype) if config.augmentation else []
    for index, filters in enumerate(config.filters):
        if config.batch_norm:
            layers += [
                keras.layers.Conv2D(filters, config.kernel_size, use_bias=False, dtype=dtype),
                keras.layers.BatchNormalization(dtype=dtype),
                keras.layers.ReLU(dtype=dtype),
            ]
        else:
            layers.append(
                keras.layers.Conv2D(filters, config.kernel_size, activation="relu", dtype=dtype)
            )
        if index < len(config.filters) - 1:
            layers.append(keras.layers.MaxPooling2D(2, dtype=dtype))
    layers += [
        keras.layers.Flatten(dtype=dtype),
        keras.layers.Dense(config.dense_units, activation="relu", dtype=dtype),
    ]
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout, dtype=dtype))
    return layers


def build_image_encoder(
    config: ImageEncoderConfig | None = None,
    name: str = "image_encoder",
    *,
    guard: bool = False,
    dtype=None,
):
    """Builds the image encoder as a Sequential model: image → features.

    Args:
        config: the encoder's hyperparameters (defaults: the document's CNN).
        name: the model's name.
        guard: put an `InputGuard` first, which refuses NaN or infinity
            (the classifiers do; the multimodal model guards its inputs
            itself, presence-aware).
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.

    Returns:
        A `keras.Sequential` mapping `(batch, *input_shape)` floats to
        `(batch, dense_units)` features.
    """
    config = config or ImageEncoderConfig()
    dtype = resolve_dtype(dtype)
    return guarded_sequential(
        "image", config.input_shape, image_encoder_layers(config, dtype), guard, name, dtype
    )


def build_cnn_classifier(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    *,
    filters=(32, 64, 64),
    kernel_size: int = 3,
    dense_units: int = 64,
    dropout: float = 0.0,
    batch_norm: bool = False,
    augmentation=None,
    learning_rate: float | None = None,
    compile: bool = True,
    dtype=None,
):
    """Builds the document's §4.1 CNN classifier.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: number of classes of the softmax output.
        filters: filters of each convolution (see `ImageEncoderConfig`).
        kernel_size: side of the convolution kernels.
        dense_units: width of the hidden `Dense(relu)` layer.
        dropout: dropout before the output layer (0: the document's model).
        batch_norm: whether to add batch normalisation after convolutions.
        augmentation: in-model augmentation in training (see
            `ImageEncoderConfig`); None: the document's model.
        learning_rate: Adam's learning rate; None keeps Keras' default (1e-3),
            i.e. the document's `optimizer='adam'`.
        compile: whether to compile with adam / sparse categorical
            cross-entropy / accuracy.
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.

    Returns:
        A `keras.Sequential` whose output is `(batch, num_classes)` float32
        probabilities (float32 also under mixed precision).

    Example:
    >>> model = build_cnn_classifier()
    >>> model.count_params()
    93322
    """
    config = ImageEncoderConfig(
        input_shape, filters, kernel_size, dense_units, dropout, batch_norm, augmentation
    )
    encoder = build_image_encoder(config, name="cnn_classifier", guard=True, dtype=dtype)
    return finish_sequential_classifier(encoder, num_classes, learning_rate, compile)
