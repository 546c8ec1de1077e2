"""Dtype policies: the mixed-precision choice of every builder, in one place.

Keras layers take the global dtype policy when they are created, unless
they are given `dtype=`. Every builder of this library takes `dtype=` (a
policy name or a `keras.DTypePolicy`) and builds inside
:func:`dtype_policy_scope`, so its layers carry that policy whatever the
global one is. Custom layers that create layers pass their own
`dtype_policy` on (keras-hub's convention), so a model saved under a mixed
policy reloads with the same policy in a process whose global policy is
float32. Layers kept in float32 on purpose, whatever the policy:

- the softmax output layer (`models/heads.py`): probabilities and loss;
- `InputGuard` (`models/guards.py`): a large finite value must not become
  infinity in a float16 cast before it is checked.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import keras

from multimodal_tf.choices import PRECISIONS
from multimodal_tf.keras_internals import all_layers


def check_dtype(name: str, value):
    """`value` as a `keras.DTypePolicy` (None stays None).

    Raises:
        ValueError: `value` names no dtype policy.
    """
    if value is None or isinstance(value, keras.DTypePolicy):
        return value
    try:
        return keras.DTypePolicy(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"`{name}` must be a dtype policy such as {', '.join(map(repr, PRECISIONS))} "
            f"or a keras.DTypePolicy, got {value!r}."
        ) from None


@contextlib.contextmanager
def dtype_policy_scope(dtype):
    """Sets Keras' global dtype policy inside the block, restores it after.

    Args:
        dtype: a policy name, a `keras.DTypePolicy`, or None (leave the
            global policy as it is).

    Yields:
        The policy in force inside the block.
    """
    policy = check_dtype("dtype", dtype)
    previous = keras.config.dtype_policy()
    if policy is not None:
        keras.config.set_dtype_policy(policy)
    try:
        yield keras.config.dtype_policy()
    finally:
        keras.config.set_dtype_policy(previous)


def model_policy(model) -> str:
    """The policy `model` computes in, read off its layers.

    A reloaded `keras.Sequential` keeps its layers' policies but not its own
    (Keras 3.15's `Sequential.from_config` drops it), so `model.dtype_policy`
    can say float32 for a model that computes in float16.

    Returns:
        `"mixed_float16"` or `"mixed_bfloat16"` when a layer computes in that
        16-bit type, else `"float32"`.
    """
    compute_dtypes = {layer.compute_dtype for layer in all_layers(model)}
    for name in ("mixed_float16", "mixed_bfloat16"):
        if keras.DTypePolicy(name).compute_dtype in compute_dtypes:
            return name
    return "float32"


def accepts_dtype(builder):
    """Gives a builder a keyword argument `dtype=`: it builds under that policy.

    `dtype=None` (the default) builds under the global policy, as Keras does.
    """
    signature = inspect.signature(builder)
    dtype_parameter = inspect.Parameter("dtype", inspect.Parameter.KEYWORD_ONLY, default=None)

    @functools.wraps(builder)
    def build(*args, dtype=None, **kwargs):
        with dtype_policy_scope(dtype):
            return builder(*args, **kwargs)

    build.__signature__ = signature.replace(
        parameters=[*signature.parameters.values(), dtype_parameter]
    )
    return build
