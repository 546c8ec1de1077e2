"""A frozen layer that always runs in inference mode: the classic feature extractor.

Keras 3 keeps a layer's dropout active in training even when its weights are
frozen (`trainable = False`), and a functional model passes its own
`training` flag to every layer it calls, overriding a `training=False` given
when the model was built. keras.io's transfer-learning guide runs a frozen
base model in inference mode; `FrozenInference` makes that part of the model,
so it survives saving and loading, and a frozen encoder's outputs are a
fixed function of its inputs: the training engine can compute them once
(`multimodal_tf.training.feature_cache`).
"""

from __future__ import annotations

import keras

from multimodal_tf.keras_internals import all_layers


@keras.saving.register_keras_serializable(package="multimodal_tf")
class FrozenInference(keras.layers.Wrapper):
    """Runs `layer` with `training=False`, its weights not trainable.

    Args:
        layer: the layer to freeze (a `BertBackbone`, say).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
    >>> import numpy as np
    >>> frozen = FrozenInference(keras.layers.Dropout(0.5))
    >>> bool(np.all(np.asarray(frozen(np.ones((2, 3)), training=True)) == 1.0))  # dropout off
    True
    """

    def __init__(self, layer, **kwargs):
        kwargs.setdefault("dtype", layer.dtype_policy)
        kwargs.setdefault("trainable", False)  # a saved model unfrozen by its user reloads unfrozen
        super().__init__(layer, **kwargs)
        self.layer.trainable = self.trainable

    def call(self, inputs):
        return self.layer(inputs, training=False)

    def compute_output_spec(self, inputs):
        return self.layer.compute_output_spec(inputs)


def is_frozen_feature_extractor(layer) -> bool:
    """Whether `layer` computes a fixed function of its inputs: a model whose weights are all
    frozen and whose every stochastic layer (dropout, noise) runs inside a `FrozenInference`."""
    if not isinstance(layer, keras.Model) or layer.trainable_weights:
        return False
    inside = {
        id(sub)
        for wrapper in all_layers(layer)
        if isinstance(wrapper, FrozenInference)
        for sub in all_layers(wrapper.layer)
    }
    stochastic = (
        keras.layers.Dropout,
        keras.layers.GaussianNoise,
        keras.layers.GaussianDropout,
        keras.layers.AlphaDropout,
        keras.layers.SpatialDropout1D,
        keras.layers.SpatialDropout2D,
    )
    return not any(
        isinstance(sub, stochastic) and id(sub) not in inside for sub in all_layers(layer)
    )
