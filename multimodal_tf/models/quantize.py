"""Post-training weight quantization with Keras' own `model.quantize(mode)`.

Keras quantizes the weights of three layer types, and only those:

- `Dense` and `EinsumDense` (the CNN's and LSTM's dense layers, the fusion
  projections, gate and attention, BERT's attention and feed-forward
  layers, every classification head): `"int8"`, `"int4"` and `"float8"`;
- `Embedding` (BERT's token, position and segment embeddings): `"int8"`
  and `"int4"`; under `"float8"` they stay float.

Everything else keeps its float weights: convolutions, LSTMs, batch and
layer normalisation, the fusion's modality embedding. So the CNN and the
LSTM classifiers shrink least (their dense layers only); BERT and the
fusion model most.

The quantized model saves to `.keras` and loads back with
:func:`multimodal_tf.load_model` in a fresh process: Keras records each
quantized layer's policy in its config, and our layers that create layers
(`ModalityFusion`) record their quantized sublayers in a
`keras.dtype_policies.DTypePolicyMap` (`models.dtypes.policy_with_sublayers`),
as keras-hub's backbones do. A quantized backbone's map keeps its own policy
as the default, so a mixed-precision model reloads with the compute dtypes it
was quantized with, and predicts the same to 1e-6 (tested under each policy).
"""

from __future__ import annotations

import dataclasses
import warnings

import keras

from multimodal_tf.choices import QUANTIZATION_MODES
from multimodal_tf.keras_internals import all_layers
from multimodal_tf.models.dtypes import model_policy, policy_with_sublayers
from multimodal_tf.models.lora import lora_backbones, merge_lora
from multimodal_tf.validation import check_choice

# The layer types whose weights Keras quantizes, per mode (Keras 3.15's
# `quantized_build` of dense.py, einsum_dense.py and embedding.py).
QUANTIZABLE = {
    "int8": (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding),
    "int4": (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding),
    "float8": (keras.layers.Dense, keras.layers.EinsumDense),
}


@dataclasses.dataclass(frozen=True)
class QuantizationReport:
    """What `quantize_model` did.

    Args:
        mode: the quantization mode.
        quantized: paths of the layers whose weights are now quantized.
        kept_float: path of each layer with float weights left as they were,
            mapped to the reason.
    """

    mode: str
    quantized: tuple
    kept_float: dict

    def __str__(self) -> str:
        lines = [f"{len(self.quantized)} layers quantized to {self.mode}."]
        if self.kept_float:
            lines.append(f"{len(self.kept_float)} layers keep float weights:")
            lines += [f"  {path}: {reason}" for path, reason in sorted(self.kept_float.items())]
        return "\n".join(lines)


def _own_float_weights(layer) -> bool:
    """Whether `layer` itself (not a sublayer) holds floating-point weights."""
    nested = {id(weight) for sub in all_layers(layer)[1:] for weight in sub.weights}
    return any(
        id(weight) not in nested and keras.backend.is_float_dtype(weight.dtype)
        for weight in layer.weights
    )


def _kept_float_reason(layer, mode: str) -> str:
    name = type(layer).__name__
    if isinstance(layer, QUANTIZABLE["int8"]):
        return f"Keras quantizes {name} to int8 or int4, not {mode}"
    return f"Keras does not quantize {name} layers"


def _keep_backbone_policies(model) -> None:
    """Gives each quantized keras-hub backbone a policy map whose default is its own policy.

    keras-hub's `Backbone.get_config` writes a `DTypePolicyMap` of its quantized
    layers with no default policy, so a backbone built under a mixed policy
    reloaded with float32 layer norms, embeddings and softmax beside its
    quantized layers, and predicted otherwise (seen: 6e-4 off under
    mixed_float16 with float8). Its config carries this map instead.
    """
    from keras_hub.models import Backbone

    for layer in all_layers(model):
        if isinstance(layer, Backbone) and not isinstance(
            layer.dtype_policy, keras.dtype_policies.DTypePolicyMap
        ):
            layer.dtype_policy = policy_with_sublayers(layer)


def quantize_model(model, mode: str) -> QuantizationReport:
    """Quantizes `model`'s weights in place with Keras' `model.quantize(mode)`.

    Args:
        model: a built float `keras.Model` of this library (any builder's).
        mode: `"int8"`, `"int4"` or `"float8"` (see the module doc for the
            layers each mode reaches).

    Returns:
        A `QuantizationReport`: the layers quantized and the layers that
        keep float weights, with why.

    Raises:
        ValueError: `mode` is not one of those, `model` is not a built
            `keras.Model`, it is quantized already (a quantized model is
            not quantized twice: its weights would lose precision again), or
            `mode` is `"int8"` for a model computing in float16 (Keras
            refuses int8 with float16 compute), or `"float8"` for a model
            with LoRA (Keras' float8 layers do not run it). A LoRA model's
            factors are merged into its kernels first (`models.lora.merge_lora`).
    """
    mode = check_choice("mode", mode, QUANTIZATION_MODES)
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"`model` must be a built keras.Model, got {type(model).__name__}.")
    already = sorted(
        {layer.quantization_mode for layer in all_layers(model) if layer.quantization_mode}
    )
    if already:
        raise ValueError(
            f"`model` is already quantized ({', '.join(already)}); quantize the float model, once."
        )
    if mode == "int8" and model_policy(model) == "mixed_float16":
        raise ValueError(
            "`mode` 'int8' needs float32 or bfloat16 compute (Keras), but `model` computes in "
            "mixed_float16: quantize a float32 or mixed_bfloat16 build, or use 'int4' or 'float8'."
        )
    if mode == "float8" and lora_backbones(model):
        raise ValueError(
            "`mode` 'float8' cannot quantize a model fine-tuned with LoRA (`lora_rank`): Keras' "
            "float8 layers do not run LoRA; use 'int8' or 'int4'."
        )
    # LoRA's factors would stay float beside the quantized kernel, and Keras merges them into
    # it on saving (re-quantized): the reloaded model would predict otherwise. Fold them first.
    merge_lora(model)
    with warnings.catch_warnings():
        # Keras warns once per layer type it cannot quantize; the report says it instead.
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method.*")
        warnings.filterwarnings("ignore", message="Invalid quantization mode.*")
        model.quantize(mode)
    _keep_backbone_policies(model)
    quantized, kept_float = [], {}
    for layer in all_layers(model):
        if layer.quantization_mode is not None:
            quantized.append(layer.path)
        elif _own_float_weights(layer):
            kept_float[layer.path] = _kept_float_reason(layer, mode)
    return QuantizationReport(mode, tuple(quantized), kept_float)
