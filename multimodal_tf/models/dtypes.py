"""Dtype policies: the mixed-precision choice of every builder, in one place.

One mechanism, keras-hub's: every builder of this library takes `dtype=`
(a policy name or a `keras.DTypePolicy`; None: Keras' global policy, read
once by :func:`resolve_dtype`) and passes it to each layer it creates; the
global policy is never switched. Custom layers that create layers pass
their own `dtype_policy` on, and record their quantized sublayers in their
config (:func:`policy_with_sublayers`), so a model saved under a mixed
policy, or quantized with `model.quantize`, reloads as it was in a process
whose global policy is float32. Layers kept in float32 on purpose, whatever the policy:

- the softmax output layer (`models/heads.py`): probabilities and loss;
- `InputGuard` (`models/guards.py`): a large finite value must not become
  infinity in a float16 cast before it is checked.
"""

from __future__ import annotations

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


def resolve_dtype(dtype) -> keras.DTypePolicy:
    """The policy a builder passes to each layer it creates: `dtype`, else the global one.

    Args:
        dtype: a policy name, a `keras.DTypePolicy`, or None (Keras' global
            policy, read once, when the builder starts).

    Returns:
        A `keras.DTypePolicy`.

    Raises:
        ValueError: `dtype` names no dtype policy.
    """
    return check_dtype("dtype", dtype) or keras.config.dtype_policy()


def policy_with_sublayers(layer):
    """`layer`'s policy for its config, with its quantized sublayers' policies in it.

    A layer that creates layers in `build` (keras-hub's convention, and
    `ModalityFusion`'s) passes its own policy to them. After
    `model.quantize(mode)` its sublayers hold quantized policies that its
    config would not record, so the saved file could not be loaded. As
    keras-hub's `Backbone.get_config` does, the config then carries a
    `keras.dtype_policies.DTypePolicyMap` from each quantized sublayer's path
    to its policy; the reloaded layer hands that map to its sublayers, each
    of which reads its own entry and builds quantized weights.

    Args:
        layer: a built or unbuilt Keras layer.

    Returns:
        The layer's policy, or a `DTypePolicyMap` when a sublayer is quantized.
    """
    policy = layer.dtype_policy
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        return policy
    policy_map = keras.dtype_policies.DTypePolicyMap(default_policy=policy)
    for sublayer in all_layers(layer):
        if sublayer is not layer and sublayer.quantization_mode is not None:
            policy_map[sublayer.path] = sublayer.dtype_policy
    return policy_map if len(policy_map) else policy


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
