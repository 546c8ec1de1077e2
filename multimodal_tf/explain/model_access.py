"""What the explainers need of a model and an example: checked inputs, logits, patched layers."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from multimodal_tf.keras_internals import all_layers
from multimodal_tf.validation import check_choice

MODALITY_INPUTS = {
    "image": "image",
    "sequence": "sequence",
    "text": "token_ids",
    "tabular": "tabular",  # the FeatureSpace's encoding of a user's numeric and categorical columns
}


def check_tensorflow_backend(function: str):
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"`{function}` needs the TensorFlow backend (it uses tf.GradientTape); "
            f"KERAS_BACKEND is {keras.backend.backend()!r}."
        )


def output_layer(model):
    layer = model.layers[-1]
    if isinstance(layer, keras.layers.Dense) and layer.activation is keras.activations.softmax:
        return layer
    return None


@contextlib.contextmanager
def output_kind(model, output: str):
    """Within the block, `model` returns logits if `output == "logit"`."""
    check_choice("output", output, ("logit", "probability"))
    layer = output_layer(model) if output == "logit" else None
    if output == "logit" and layer is None:
        raise ValueError(
            "`output='logit'` needs a model ending in a Dense softmax layer (every builder of "
            "this library makes one); pass output='probability' for other models."
        )
    if layer is None:
        yield
        return
    layer.activation = keras.activations.linear
    try:
        yield
    finally:
        layer.activation = keras.activations.softmax


def token_embedding_layer(model):
    import keras_hub

    backbones = [
        layer for layer in all_layers(model) if isinstance(layer, keras_hub.models.BertBackbone)
    ]
    if len(backbones) != 1:
        raise ValueError(
            f"Text attributions need exactly one BertBackbone in the model; found {len(backbones)}."
        )
    return backbones[0].token_embedding


def target_class(model, batch: dict, single: str | None, target) -> int:
    """`target` checked against the model's classes, or the predicted class."""
    num_classes = int(model.outputs[0].shape[-1])
    if target is None:
        with output_kind(model, "probability"):
            probabilities = model(batch[single] if single else batch, training=False)
        return int(np.argmax(np.asarray(probabilities)[0]))
    if (
        isinstance(target, bool)
        or not isinstance(target, (int, np.integer))
        or not 0 <= target < num_classes
    ):
        raise ValueError(f"`target` must be a class index in [0, {num_classes}), got {target!r}.")
    return int(target)


def named_inputs(model) -> dict | None:
    """The model's inputs by name, or None for a single-input model."""
    if isinstance(model, keras.Sequential):  # one input, always
        return None
    return model.input if isinstance(model.input, dict) else None


def as_batch_of_one(model, inputs):
    """Validates one example (no batch axis): (dict of arrays, the single input's name or None)."""
    named = named_inputs(model)
    if named is None:
        array = one_example("`inputs`", np.asarray(inputs, dtype="float32"), model.inputs[0].shape)
        name = "image" if array.ndim == 3 else "sequence"
        check_finite(name, array)
        return {name: array}, name
    if not isinstance(inputs, dict):
        raise ValueError(f"`inputs` must be a dict with the keys {sorted(named)} for this model.")
    missing = sorted(set(named) - set(inputs))
    if missing:
        raise ValueError(f"`inputs` lacks {missing}; this model takes {sorted(named)}.")
    example = {}
    for name, tensor in named.items():
        value = one_example(f"`inputs['{name}']`", np.asarray(inputs[name]), tensor.shape)
        example[name] = value.astype(tensor.dtype)
        check_finite(name, example[name])
    return example, None


def one_example(label: str, value: np.ndarray, input_shape) -> np.ndarray:
    """`value` if it is one example of a model input of `input_shape` (batch axis first)."""
    expected = tuple(input_shape[1:])
    if value.ndim != len(expected) or any(
        want is not None and want != got for want, got in zip(expected, value.shape)
    ):
        raise ValueError(
            f"{label} must be one example of shape {expected} (no batch axis), got {value.shape}."
        )
    return value


def check_finite(name: str, value: np.ndarray):
    if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
        raise ValueError(
            f"`inputs['{name}']` contains NaN or infinity; explanations of garbage mean nothing."
        )
