"""LoRA fine-tuning of the BERT backbone, the keras-hub way, through the whole life cycle.

`LoraBackbone` wraps a keras-hub `BertBackbone` and calls its
`enable_lora(rank)`: every backbone weight is frozen and the query and value
projections of each attention layer get trainable low-rank factors
`lora_kernel_a` and `lora_kernel_b` (keras-hub's default targets). The
projections' biases are frozen too (the LoRA paper's choice), so that only
the LoRA factors train in the backbone.

Keras alone does not carry LoRA through saving: a keras-hub backbone is
rebuilt from its constructor arguments (no LoRA), and each `EinsumDense`
saves its kernel with the LoRA product merged in and zeroes both factors on
loading, after which they get no gradient (`a = b = 0`). The wrapper records
`rank` in its config, enables LoRA again when it is rebuilt, and saves the
factors and the unmerged kernels of the LoRA layers (the query and value
kernels a second time: about 8% more file for MiniLM); after Keras has
loaded the merged kernels it puts them back. A reloaded model (`.keras`,
`.weights.h5`, a training backup) has the very weights of the saved one:
it predicts the same and trains on, a resumed run as an uninterrupted one.

:func:`save_lora_weights` / :func:`load_lora_weights` write and read a small
adapter file: keras-hub's `.lora.h5` layout (the rank, then each LoRA
layer's factors), plus the model's other trainable weights (the head).
"""

from __future__ import annotations

import keras
import numpy as np

from multimodal_tf.validation import check_positive_int

ADAPTER_SUFFIX = ".lora.h5"
# The default learning rate with LoRA. Chosen on validation (bench/RESULTS.md, "lora"): MiniLM
# at rank 8, one epoch of 1,600 rt_snippets, validation accuracy 0.715 / 0.790 / 0.816 / 0.794
# at 2e-3 / 5e-3 / 1e-2 / 2e-2. At 5e-4, the LoRA paper's rate for 60 epochs, the model still
# predicted one class after that epoch. The factors start at zero (B) and the head from
# scratch, so a short budget needs the larger steps.
LORA_LEARNING_RATE = 1e-2


def check_lora_rank(rank, hidden_dim: int | None = None):
    """Returns `rank` (None or an int in 1..hidden_dim), or raises naming `lora_rank`."""
    rank = check_positive_int("lora_rank", rank, allow_none=True)
    if rank is not None and hidden_dim is not None and rank > hidden_dim:
        raise ValueError(
            f"`lora_rank` must be at most the encoder's hidden size ({hidden_dim}), got {rank}."
        )
    return rank


def lora_layers(backbone) -> list:
    """The backbone's layers with LoRA enabled, in keras-hub's order (its adapter file's)."""
    layers = [layer for layer in backbone._flatten_layers(include_self=False) if layer.weights]
    return [layers[index] for index in getattr(backbone, "_lora_enabled_layers", [])]


def _lora_delta(layer):
    """The product the layer adds to its kernel: (alpha / rank) · a @ b, as numpy."""
    a = np.asarray(keras.ops.convert_to_numpy(layer.lora_kernel_a), "float32")
    b = np.asarray(keras.ops.convert_to_numpy(layer.lora_kernel_b), "float32")
    return (layer.lora_alpha / layer.lora_rank) * np.tensordot(a, b, axes=1)


class _LoraFactors(keras.layers.Layer):
    """Saves the LoRA factors of its owner's backbone, and restores them after the kernels.

    Keras loads a layer's own variables, then its attributes in name order:
    the wrapper's `layer` (the backbone, kernels merged) before its
    `lora_factors` (this), so the merged kernels are in place when this
    takes the factors' product back out of them.
    """

    def __init__(self, backbone, **kwargs):
        super().__init__(**kwargs)
        # Untracked (Layer.__setattr__ would make the backbone a child of this too).
        object.__setattr__(self, "_backbone", backbone)
        self.built = True

    def save_own_variables(self, store):
        for index, layer in enumerate(lora_layers(self._backbone)):
            store[f"{index}_a"] = layer.lora_kernel_a
            store[f"{index}_b"] = layer.lora_kernel_b
            if layer.quantization_mode is None:
                store[f"{index}_kernel"] = layer._kernel  # unmerged

    def load_own_variables(self, store):
        layers = lora_layers(self._backbone)
        saved = {key.split("_")[0] for key in store.keys()}
        if len(saved) != len(layers):
            raise ValueError(
                f"the saved LoRA factors are of {len(saved)} layers, "
                f"this backbone has {len(layers)} LoRA layers."
            )
        for index, layer in enumerate(layers):
            layer.lora_kernel_a.assign(store[f"{index}_a"])
            layer.lora_kernel_b.assign(store[f"{index}_b"])
            if f"{index}_kernel" in store.keys():  # Keras loaded it merged
                layer._kernel.assign(store[f"{index}_kernel"])
            elif layer.quantization_mode is None:
                layer._kernel.assign(keras.ops.convert_to_numpy(layer._kernel) - _lora_delta(layer))


@keras.saving.register_keras_serializable(package="multimodal_tf")
class LoraBackbone(keras.layers.Wrapper):
    """A keras-hub backbone fine-tuned with LoRA of rank `rank` (`backbone.enable_lora`).

    Args:
        layer: a keras-hub `Backbone` (the `BertBackbone`), built.
        rank: the LoRA rank, 1 to the backbone's hidden size.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
    >>> import keras_hub
    >>> backbone = keras_hub.models.BertBackbone(
    ...     vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=4)
    >>> lora = LoraBackbone(backbone, rank=2)
    >>> sorted({weight.name for weight in lora.trainable_weights})
    ['lora_kernel_a', 'lora_kernel_b']
    """

    def __init__(self, layer, rank, **kwargs):
        self.rank = check_lora_rank(rank, getattr(layer, "hidden_dim", None))
        kwargs.setdefault("dtype", layer.dtype_policy)
        super().__init__(layer, **kwargs)
        if not getattr(layer, "_lora_enabled_layers", None):
            layer.enable_lora(self.rank)
        for lora_layer in lora_layers(layer):
            if getattr(lora_layer, "bias", None) is not None:
                lora_layer.bias.trainable = False
        self.lora_factors = _LoraFactors(layer, name="lora_factors", dtype=self.dtype_policy)

    def call(self, inputs, training=None):
        return self.layer(inputs, training=training)

    def compute_output_spec(self, inputs):
        return self.layer.compute_output_spec(inputs)

    def get_config(self):
        return {**super().get_config(), "rank": self.rank}


def lora_backbones(model) -> list:
    """Every `LoraBackbone` in `model`, nested models included."""
    from multimodal_tf.keras_internals import all_layers

    return [layer for layer in all_layers(model) if isinstance(layer, LoraBackbone)]


def merge_lora(model) -> int:
    """Folds each LoRA product into its kernel and zeroes the factors (before quantizing).

    The model computes the same function; its LoRA factors then train from
    zero no more (both are 0): call it on a model that is done training.

    Args:
        model: any model; those without LoRA are left as they are.

    Returns:
        The number of layers merged.
    """
    merged = 0
    for wrapper in lora_backbones(model):
        for layer in lora_layers(wrapper.layer):
            if layer.quantization_mode is not None:
                continue  # Keras merges a quantized layer's factors on saving
            delta = _lora_delta(layer)
            layer._kernel.assign(keras.ops.convert_to_numpy(layer._kernel) + delta)
            layer.lora_kernel_a.assign(np.zeros(layer.lora_kernel_a.shape, "float32"))
            layer.lora_kernel_b.assign(np.zeros(layer.lora_kernel_b.shape, "float32"))
            merged += 1
    return merged


def _adapter_path(filepath) -> str:
    filepath = str(filepath)
    if not filepath.endswith(ADAPTER_SUFFIX):
        raise ValueError(f"`filepath` must end in {ADAPTER_SUFFIX!r}, got {filepath!r}.")
    return filepath


def _single_lora_backbone(model):
    found = lora_backbones(model)
    if len(found) != 1:
        raise ValueError(
            f"`model` must have one LoRA text encoder (built with `lora_rank=`), has {len(found)}."
        )
    return found[0]


def _other_trainable(model, wrapper) -> list:
    inside = {id(weight) for weight in wrapper.weights}
    return [weight for weight in model.trainable_weights if id(weight) not in inside]


def save_lora_weights(model, filepath) -> None:
    """Writes the model's LoRA factors and its other trainable weights (the head).

    The file is keras-hub's `.lora.h5` (`Backbone.load_lora_weights` reads
    its `lora` group) with a `trainable` group added: a few hundred
    kilobytes where the whole model is tens of megabytes.

    Args:
        model: a model built with `lora_rank=` (one LoRA text encoder).
        filepath: the file to write, ending in `.lora.h5`.
    """
    from keras.src.saving.saving_lib import H5IOStore

    wrapper = _single_lora_backbone(model)
    store = H5IOStore(_adapter_path(filepath), mode="w")
    try:
        store.make("lora")["rank"] = wrapper.rank
        for index, layer in zip(wrapper.layer._lora_enabled_layers, lora_layers(wrapper.layer)):
            factors = store.make(f"lora/{index}")
            factors["lora_kernel_a"] = layer.lora_kernel_a
            factors["lora_kernel_b"] = layer.lora_kernel_b
        others = store.make("trainable")
        for number, weight in enumerate(_other_trainable(model, wrapper)):
            others[str(number)] = weight
    finally:
        store.close()


def load_lora_weights(model, filepath) -> None:
    """Loads a `save_lora_weights` file into a model built as the saved one was.

    Args:
        model: a model built by the same builder with the same arguments
            (the same base checkpoint and `lora_rank`).
        filepath: a `.lora.h5` file of :func:`save_lora_weights`.

    Raises:
        ValueError: the file's rank or weights do not fit `model`.
    """
    from keras.src.saving.saving_lib import H5IOStore

    wrapper = _single_lora_backbone(model)
    store = H5IOStore(_adapter_path(filepath), mode="r")
    try:
        rank = int(store.get("lora")["rank"][()])
        if rank != wrapper.rank:
            raise ValueError(
                f"`lora_rank` of the model ({wrapper.rank}) differs from the adapter file's "
                f"({rank}): build the model with lora_rank={rank}."
            )
        for index, layer in zip(wrapper.layer._lora_enabled_layers, lora_layers(wrapper.layer)):
            factors = store.get(f"lora/{index}")
            layer.lora_kernel_a.assign(factors["lora_kernel_a"])
            layer.lora_kernel_b.assign(factors["lora_kernel_b"])
        others = store.get("trainable")
        targets = _other_trainable(model, wrapper)
        if len(others.keys()) != len(targets):
            raise ValueError(
                f"`filepath` holds {len(others.keys())} head weights, the model has "
                f"{len(targets)}: build the model as the saved one was."
            )
        for number, weight in enumerate(targets):
            weight.assign(others[str(number)])
    finally:
        store.close()
