"""The classification head and compile settings every classifier shares; the regression head."""

from __future__ import annotations

import math

import keras

from multimodal_tf.fused_adam import FusedAdam, FusedAdamW
from multimodal_tf.validation import check_positive_int, check_rate


def classification_layer(num_classes: int, name: str = "predictions"):
    """The output layer: `Dense(num_classes, softmax)` computed in float32.

    Keeping the softmax in float32 keeps probabilities and the loss
    numerically safe under the `mixed_float16` / `mixed_bfloat16` policies.

    Args:
        num_classes: number of classes.
        name: the layer's name.

    Returns:
        A new `keras.layers.Dense`.
    """
    num_classes = check_positive_int("num_classes", num_classes)
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name=name)


@keras.saving.register_keras_serializable(package="multimodal_tf")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels with label smoothing.

    Keras' `SparseCategoricalCrossentropy` has no `label_smoothing`; this is
    `CategoricalCrossentropy(label_smoothing=...)` on the one-hot labels:
    the target puts `1 - label_smoothing + label_smoothing / classes` on
    the true class and `label_smoothing / classes` on each other one.

    Args:
        label_smoothing: in [0, 1); 0 is plain cross-entropy.

    Example:
    >>> import numpy as np
    >>> loss = SmoothedSparseCategoricalCrossentropy(0.1)
    >>> round(float(loss(np.array([0]), np.array([[0.9, 0.1]]))), 4)
    0.2152
    """

    def __init__(self, label_smoothing: float = 0.1, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = check_rate("label_smoothing", label_smoothing)

    def call(self, y_true, y_pred):
        labels = keras.ops.reshape(keras.ops.cast(y_true, "int32"), keras.ops.shape(y_pred)[:-1])
        one_hot = keras.ops.one_hot(labels, keras.ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def compile_classifier(model, *, optimizer="adam", learning_rate: float | None = None):
    """Compiles `model` for integer labels, as the document does.

    Args:
        model: the Keras model to compile (in place).
        optimizer: `"adam"`, `"adamw"` (Keras' Adam and AdamW, with a fused
            update: `multimodal_tf.fused_adam`) or a `keras.optimizers.Optimizer`.
        learning_rate: learning rate for a named optimizer; None keeps the
            optimizer's default.

    Returns:
        `model`, compiled with sparse categorical cross-entropy and accuracy.
    """
    if isinstance(optimizer, str):
        optimizers = {"adam": FusedAdam, "adamw": FusedAdamW}
        if optimizer not in optimizers:
            raise ValueError(
                f"`optimizer` must be one of {sorted(optimizers)} or a "
                f"keras.optimizers.Optimizer, got {optimizer!r}."
            )
        kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
        optimizer = optimizers[optimizer](**kwargs)
    elif learning_rate is not None:
        raise ValueError("`learning_rate` can only be given with a named `optimizer`.")
    model.compile(optimizer=optimizer, loss=head_loss(model), metrics=head_metrics(model))
    return model


REGRESSION_LAYER = "regression"
TASKS = ("classification", "regression")


def regression_head(features, target_mean: float = 0.0, target_std: float = 1.0):
    """A regressor's output over `features`: one linear unit, in float32, in the targets' units.

    The unit predicts the standardised target, and a fixed
    `Rescaling(target_std, offset=target_mean)` named `"regression"` turns it
    into the targets' units: training starts at the mean (the unit's kernel
    starts at zero) and Adam's steps
    fit the targets' spread (prices of mean 500 would otherwise take
    thousands of steps just to reach their mean).

    Args:
        features: the fused features, `(batch, width)`.
        target_mean: the training targets' mean.
        target_std: their standard deviation (positive; 0 is taken as 1).

    Returns:
        The output tensor, `(batch, 1)`; models ending in it are regressors
        (:func:`is_regressor`): trained on float targets with the mean
        squared error, and scored by MAE and RMSE.
    """
    for name, value in (("target_mean", target_mean), ("target_std", target_std)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
    if target_std < 0:
        raise ValueError(f"`target_std` must be at least 0, got {target_std!r}.")
    units = keras.layers.Dense(  # zeros: the first prediction is the mean itself
        1, kernel_initializer="zeros", dtype="float32", name=f"{REGRESSION_LAYER}_unit"
    )(features)
    rescale = keras.layers.Rescaling(
        float(target_std or 1.0), offset=float(target_mean), dtype="float32", name=REGRESSION_LAYER
    )
    return rescale(units)


def is_regressor(model) -> bool:
    """Whether `model` ends in :func:`regression_head` (one output named `"regression"`)."""
    return any(
        getattr(tensor, "_keras_history", None) is not None
        and tensor._keras_history.operation.name == REGRESSION_LAYER
        for tensor in getattr(model, "outputs", None) or ()
    )


def head_loss(model):
    """The loss a model's head trains with: sparse cross-entropy, or MSE for a regressor."""
    return "mean_squared_error" if is_regressor(model) else "sparse_categorical_crossentropy"


SPARSE_LOSSES = ("sparse_categorical_crossentropy", keras.losses.sparse_categorical_crossentropy)


def head_metrics(model, loss=None) -> list:
    """Accuracy for a classifier; MAE and RMSE (`mae`, `rmse` in the logs) for a regressor.

    With integer labels (a sparse cross-entropy `loss`, the default) the
    accuracy is a `SparseCategoricalAccuracy` object named `accuracy`: the
    string `"accuracy"` would create its variables while the first training
    step is traced, and `tf.function` would then trace that step twice.
    """
    if is_regressor(model):
        return [
            keras.metrics.MeanAbsoluteError(name="mae"),
            keras.metrics.RootMeanSquaredError(name="rmse"),
        ]
    loss = loss or head_loss(model)
    sparse = loss in SPARSE_LOSSES or isinstance(
        loss, (keras.losses.SparseCategoricalCrossentropy, SmoothedSparseCategoricalCrossentropy)
    )
    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")] if sparse else ["accuracy"]


def finish_sequential_classifier(
    encoder, num_classes: int, learning_rate: float | None = None, compile: bool = True
):
    """Turns a Sequential encoder into a classifier: adds the head, compiles.

    Args:
        encoder: a `keras.Sequential` encoder (modified in place).
        num_classes: number of classes.
        learning_rate: Adam's learning rate; None keeps Keras' default.
        compile: whether to compile like the document.

    Returns:
        `encoder`, now ending in the float32 softmax layer.
    """
    num_classes = check_positive_int("num_classes", num_classes)
    encoder.add(classification_layer(num_classes))
    if compile:
        compile_classifier(encoder, learning_rate=learning_rate)
    return encoder
