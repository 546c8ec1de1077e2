"""The input guard: a model refuses NaN or infinity instead of predicting from it.

Keras does not look at what it is fed, and the CNN hides garbage: TensorFlow's
max pooling skips NaN (an all-NaN window gives -3.4e38), so an image with a
NaN pixel gets a confident, normal-looking prediction. :class:`InputGuard` is
the first layer of the image and sequence classifiers and sits in front of
the multimodal model's image and sequence encoders:

- On TensorFlow outside XLA (the default on CPU) a present example with NaN
  or infinity stops the call with `InvalidArgumentError` naming the input
  and the examples' batch indices; `model.predict` returns nothing.
- Under XLA (`jit_compile=True`) and on JAX a graph cannot raise; there the
  check compiles to nothing. Instead the layer turns a whole example with
  any NaN or infinity into NaN, which XLA's max and max pooling propagate,
  so its probabilities come out NaN, not a plausible class.
- With a presence flag, absent examples' content is replaced by zeros
  before the encoder, whatever it holds: NaN is a common "missing" marker,
  and NaN in an unused branch would otherwise turn every gradient into NaN
  during training (`where` zeroes the value, not the NaN in its backward
  pass).
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="multimodal_tf")
class InputGuard(keras.layers.Layer):
    """Refuses non-finite content and blanks absent examples.

    The layer computes in float32 whatever the dtype policy, so a large but
    finite sequence value is not mistaken for infinity by a float16 cast.

    Args:
        field: the input's name, used in the error message (e.g. `"image"`).

    Call arguments:
        content: float tensor `(batch, ...)`.
        presence: optional float `(batch,)` flags, 1 present / 0 absent. Only
            present examples are checked; absent ones come out as zeros.

    Returns:
        `content`, with absent examples zeroed.

    Example:
    >>> import numpy as np
    >>> guard = InputGuard("image")
    >>> absent = np.array([0.0], "float32")
    >>> np.asarray(guard(np.array([[0.5, np.nan]], "float32"), absent)).tolist()
    [[0.0, 0.0]]
    >>> guard(np.array([[0.5, np.nan]], "float32"))  # present: refused  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tensorflow.python.framework.errors_impl.InvalidArgumentError: ...
    """

    def __init__(self, field: str, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not isinstance(field, str) or not field:
            raise ValueError(f"`field` must be a non-empty string naming the input, got {field!r}.")
        self.field = field

    def build(self, content_shape, presence_shape=None):
        # Stateless; named as `call`'s arguments, which is how Keras builds a layer of
        # several inputs (and how its `run_layer_test` does).
        pass

    def call(self, content, presence=None):
        content = keras.ops.convert_to_tensor(content, self.compute_dtype)
        if presence is not None:
            present = keras.ops.reshape(
                keras.ops.cast(presence, "bool"),
                (-1,) + (1,) * (len(content.shape) - 1),
            )
            content = keras.ops.where(present, content, keras.ops.zeros_like(content))
        # A graph under XLA or on JAX cannot raise. Spreading any NaN or
        # infinity over the whole example (x·0 is NaN for both) makes every
        # pooling window NaN, and XLA's max propagates NaN to the output.
        axes = tuple(range(1, len(content.shape)))
        content = content + keras.ops.sum(content * 0.0, axis=axes, keepdims=True)
        if keras.backend.backend() == "tensorflow":
            content = self._assert_finite(content)
        return content

    def _assert_finite(self, content):
        import tensorflow as tf

        # Zeroed absent rows are finite, so only present rows can fail here.
        bad = tf.logical_not(
            tf.reduce_all(
                tf.math.is_finite(tf.reshape(content, [tf.shape(content)[0], -1])), axis=1
            )
        )
        message = (
            f"`{self.field}` holds NaN or infinity; the model takes finite floats only. "
            "Batch indices of the offending examples:"
        )
        check = tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(bad)), [message, tf.where(bad)[:, 0]], summarize=20
        )
        with tf.control_dependencies([check]):
            return tf.identity(content)

    def compute_output_shape(self, content_shape, presence_shape=None):
        return content_shape

    def get_config(self):
        return {**super().get_config(), "field": self.field}


def guarded_sequential(modality: str, input_shape, layers, guard: bool, name: str, dtype=None):
    """A `keras.Sequential` encoder: the input named `modality`, an `InputGuard` if `guard`,
    `layers`.

    Args:
        modality: the input's name (`"image"`, `"sequence"`).
        input_shape: the input's shape without the batch axis.
        layers: the encoder's layers.
        guard: whether an `InputGuard` refuses non-finite input first.
        name: the model's name.
        dtype: the container's own policy (`keras.Sequential` takes none as an
            argument; Keras' `compile` reads it for loss scaling); None keeps
            Keras' global policy. Each layer carries its own already.
    """
    guard_layers = [InputGuard(modality, name="input_guard")] if guard else []
    model = keras.Sequential(
        [keras.Input(shape=input_shape, name=modality), *guard_layers, *layers], name=name
    )
    if dtype is not None:
        model.dtype_policy = dtype
    return model
