"""Grad-CAM (Selvaraju et al., 2017): a heat map over the image from the last convolution."""

from __future__ import annotations

import keras
import numpy as np

from multimodal_tf.explain.model_access import (
    as_batch_of_one,
    check_tensorflow_backend,
    output_kind,
    target_class,
)
from multimodal_tf.keras_internals import all_layers, replaced_call


def grad_cam(
    model, inputs, *, target: int | None = None, layer_name: str | None = None
) -> np.ndarray:
    """Grad-CAM heat map over the image input.

    Args:
        model: a model with a `Conv2D` layer (the CNN, or the multimodal
            model with an image encoder).
        inputs: one example without the batch axis (an image array for the
            CNN, a dict by input name for the multimodal model).
        target: the class (default: the predicted class).
        layer_name: the convolution to use (default: the last `Conv2D`).

    Returns:
        `(height, width)` float32 in [0, 1], at the input image's size. All
        zeros means no location's activations raise the class's logit
        (Grad-CAM keeps only positive evidence); integrated gradients then
        still show what moved it.
    """
    import tensorflow as tf

    check_tensorflow_backend("grad_cam")
    example, single = as_batch_of_one(model, inputs)
    if "image" not in example:
        raise ValueError("`grad_cam` needs a model with an `image` input.")
    convolutions = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    if layer_name is not None:
        convolutions = [layer for layer in convolutions if layer.name == layer_name]
    if not convolutions:
        raise ValueError(
            f"`grad_cam` found no Conv2D layer{f' named {layer_name!r}' if layer_name else ''} in "
            "the model."
        )
    convolution = convolutions[-1]
    captured = {}

    def capture(original, *args, **kwargs):
        result = original(*args, **kwargs)
        tape.watch(result)
        captured["activations"] = result
        return result

    batch = {name: value[None] for name, value in example.items()}
    with (
        tf.GradientTape() as tape,
        replaced_call(convolution, capture),
        output_kind(model, "logit"),
    ):
        logits = tf.cast(model(batch[single] if single else batch, training=False), tf.float32)
        chosen = (
            int(tf.argmax(logits[0]))
            if target is None
            else target_class(model, batch, single, target)
        )
        selected = logits[:, chosen]
    activations = captured["activations"]
    gradients = tf.cast(tape.gradient(selected, activations), tf.float32)
    weights = tf.reduce_mean(gradients, axis=(1, 2))
    cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", tf.cast(activations, tf.float32), weights))
    height, width = example["image"].shape[:2]
    cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[0, ..., 0].numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else cam).astype("float32")
