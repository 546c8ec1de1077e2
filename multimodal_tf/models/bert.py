"""BERT text encoder and classifier (the document's §4.3, done right).

The document loads `TFBertModel`, attaches a softmax to *every token* of
`last_hidden_state` and compiles the bare encoder. Here the classifier is a
functional model: `token_ids`, `padding_mask`, `segment_ids` → keras-hub
`BertBackbone` → pooled [CLS] output → dropout → `Dense(num_classes,
softmax)` in float32, and the compiled model is that classifier.

The encoder is loaded from a local Hugging Face checkpoint folder
(`config.json`, `model.safetensors`, `vocab.txt`), e.g. the packaged
all-MiniLM-L6-v2, or built small and randomly initialised when no checkpoint
is given. Raw strings become these inputs with
:func:`multimodal_tf.models.bert_tokenizer.build_text_preprocessor`.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import keras_hub

from multimodal_tf.models.dtypes import resolve_dtype
from multimodal_tf.models.frozen import FrozenInference
from multimodal_tf.models.heads import classification_layer, compile_classifier
from multimodal_tf.models.lora import LORA_LEARNING_RATE, LoraBackbone, check_lora_rank
from multimodal_tf.validation import check_choice, check_positive_int, check_rate

TEXT_INPUT_NAMES = ("token_ids", "padding_mask", "segment_ids")
CHECKPOINT_FILES = ("config.json", "model.safetensors", "vocab.txt")


@dataclasses.dataclass(frozen=True)
class TextEncoderConfig:
    """Hyperparameters of the BERT text encoder.

    Args:
        checkpoint: a local Hugging Face BERT folder (`config.json`,
            `model.safetensors`, `vocab.txt`), or None for a randomly
            initialised encoder of the size below.
        sequence_length: number of tokens per example.
        vocabulary_size: vocabulary size of a random encoder (ignored with a
            checkpoint, which brings its own).
        num_layers: transformer layers of a random encoder.
        num_heads: attention heads of a random encoder.
        hidden_dim: hidden size of a random encoder.
        intermediate_dim: feed-forward size of a random encoder.
        pooling: `"pooled"` (BERT's pooler over [CLS], the default), `"cls"`
            (the raw [CLS] vector) or `"mean"` (mean over real tokens, how
            sentence-transformers checkpoints such as MiniLM were trained).
        dropout: dropout on the pooled features.
        freeze: whether the backbone's weights stay fixed during training.
        lora_rank: fine-tune the backbone with LoRA of this rank
            (`backbone.enable_lora`, `models.lora.LoraBackbone`): only the
            LoRA factors of the attention's query and value projections
            train in it. None: every backbone weight trains (unless
            `freeze`). At most the hidden size; not with `freeze`.

    Example:
    >>> TextEncoderConfig(num_layers=2, hidden_dim=8, num_heads=2).pooling
    'pooled'
    """

    checkpoint: str | None = None
    sequence_length: int = 128
    vocabulary_size: int = 30522
    num_layers: int = 2
    num_heads: int = 2
    hidden_dim: int = 128
    intermediate_dim: int = 512
    pooling: str = "pooled"
    dropout: float = 0.1
    freeze: bool = False
    lora_rank: int | None = None

    def __post_init__(self):
        set_field = object.__setattr__
        if self.checkpoint is not None:
            set_field(self, "checkpoint", _check_checkpoint(self.checkpoint))
        for name in (
            "sequence_length",
            "vocabulary_size",
            "num_layers",
            "num_heads",
            "hidden_dim",
            "intermediate_dim",
        ):
            set_field(self, name, check_positive_int(name, getattr(self, name)))
        if self.checkpoint is None and self.hidden_dim % self.num_heads:
            raise ValueError(
                f"`hidden_dim` ({self.hidden_dim}) must be divisible by `num_heads` "
                f"({self.num_heads})."
            )
        check_choice("pooling", self.pooling, ("pooled", "cls", "mean"))
        set_field(self, "dropout", check_rate("dropout", self.dropout))
        if not isinstance(self.freeze, bool):
            raise ValueError(f"`freeze` must be True or False, got {self.freeze!r}.")
        hidden_dim = None if self.checkpoint is not None else self.hidden_dim  # else: at build
        set_field(self, "lora_rank", check_lora_rank(self.lora_rank, hidden_dim))
        if self.lora_rank is not None and self.freeze:
            raise ValueError(
                f"`lora_rank` ({self.lora_rank}) fine-tunes the encoder, which `freeze`=True "
                "keeps fixed: give one or the other."
            )


def _check_checkpoint(checkpoint) -> str:
    """Returns the checkpoint folder as a string, or raises naming what is missing."""
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise ValueError(
            f"`checkpoint` must be a folder path or None, got {type(checkpoint).__name__}."
        )
    folder = os.fspath(checkpoint)
    if not os.path.isdir(folder):
        raise ValueError(f"`checkpoint` must be an existing folder, got {folder!r}.")
    missing = [name for name in CHECKPOINT_FILES if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise ValueError(
            f"`checkpoint` folder {folder!r} is not a Hugging Face BERT checkpoint: "
            f"missing {', '.join(missing)} (expected {', '.join(CHECKPOINT_FILES)})."
        )
    return folder


def load_bert_backbone(config: TextEncoderConfig, dtype=None):
    """Loads (or creates) the keras-hub `BertBackbone` described by `config`.

    Args:
        config: the encoder's hyperparameters.
        dtype: the backbone's dtype policy, which it passes to its layers
            (None: Keras' global policy).

    Returns:
        A `keras_hub.models.BertBackbone`.
    """
    dtype = resolve_dtype(dtype).name
    if config.checkpoint is not None:
        backbone = keras_hub.models.BertBackbone.from_preset(
            config.checkpoint, dtype=dtype, name="bert_backbone"
        )
        if config.sequence_length > backbone.max_sequence_length:
            raise ValueError(
                f"`sequence_length` ({config.sequence_length}) exceeds the checkpoint's "
                f"max_position_embeddings ({backbone.max_sequence_length})."
            )
        return backbone
    return keras_hub.models.BertBackbone(
        vocabulary_size=config.vocabulary_size,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        hidden_dim=config.hidden_dim,
        intermediate_dim=config.intermediate_dim,
        max_sequence_length=max(config.sequence_length, 2),
        dtype=dtype,
        name="bert_backbone",
    )


def text_inputs(sequence_length: int) -> dict:
    """New Keras inputs named as the text preprocessor's outputs."""
    return {
        "token_ids": keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids"),
        "padding_mask": keras.Input(shape=(sequence_length,), dtype="int32", name="padding_mask"),
        "segment_ids": keras.Input(shape=(sequence_length,), dtype="int32", name="segment_ids"),
    }


@keras.saving.register_keras_serializable(package="multimodal_tf")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean of token vectors over the positions where `padding_mask` is 1."""

    def build(self, sequence_output_shape, padding_mask_shape):
        # Stateless; named as `call`'s arguments, which is how Keras builds a layer of
        # several inputs (and how its `run_layer_test` does).
        pass

    def call(self, sequence_output, padding_mask):
        mask = keras.ops.cast(padding_mask, sequence_output.dtype)[..., None]
        total = keras.ops.sum(sequence_output * mask, axis=1)
        count = keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)
        return total / count

    def compute_output_shape(self, sequence_output_shape, padding_mask_shape):
        return (sequence_output_shape[0], sequence_output_shape[2])

    def get_config(self):
        # Explicit, so that a `keras.DTypePolicy` object given as `dtype` (the builders pass
        # one) serialises: Keras' automatic config accepts only plain `__init__` values.
        return super().get_config()


def build_text_encoder(
    config: TextEncoderConfig | None = None, name: str = "text_encoder", *, dtype=None
):
    """Builds the text encoder: BERT inputs → one feature vector per text.

    Args:
        config: the encoder's hyperparameters (default: a small random BERT).
        name: the model's name.
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.

    Returns:
        A functional `keras.Model` taking `{"token_ids", "padding_mask",
        "segment_ids"}` (int32, `(batch, sequence_length)`) and returning
        `(batch, hidden_dim)` features.
    """
    config = config or TextEncoderConfig()
    dtype = resolve_dtype(dtype)
    backbone = load_bert_backbone(config, dtype)
    if config.pooling != "pooled":
        # The pooler is unused: keep it out of the trainable weights.
        backbone.get_layer("pooled_dense").trainable = False
    inputs = text_inputs(config.sequence_length)
    # A frozen backbone runs in inference mode, its dropout off (keras.io's
    # transfer-learning rule): its outputs are then a fixed function of the
    # text, which the training engine can compute once (training.feature_cache).
    if config.freeze:
        backbone = FrozenInference(backbone, name="frozen_backbone")
    elif config.lora_rank is not None:
        check_lora_rank(config.lora_rank, backbone.hidden_dim)
        backbone = LoraBackbone(backbone, config.lora_rank, name="lora_backbone")
    outputs = backbone(inputs)
    if config.pooling == "pooled":
        features = outputs["pooled_output"]
    elif config.pooling == "cls":
        features = outputs["sequence_output"][:, 0, :]
    else:
        features = MaskedMeanPooling(name="mean_pooling", dtype=dtype)(
            outputs["sequence_output"], inputs["padding_mask"]
        )
    if config.dropout:
        features = keras.layers.Dropout(config.dropout, name="text_dropout", dtype=dtype)(features)
    model = keras.Model(inputs, features, name=name)
    model.dtype_policy = dtype  # the container's own, which Keras' `compile` reads
    return model


def default_learning_rate(config: TextEncoderConfig, *, frozen_checkpoint: float = 1e-3) -> float:
    """The learning rate a model over this text encoder trains with by default.

    Args:
        config: the text encoder's.
        frozen_checkpoint: the rate with a frozen pretrained checkpoint.

    Returns:
        `models.lora.LORA_LEARNING_RATE` (1e-2) with LoRA, 5e-5 fine-tuning a
        pretrained checkpoint whole, `frozen_checkpoint` for a frozen one,
        1e-3 for a random encoder.
    """
    if config.lora_rank is not None:
        return LORA_LEARNING_RATE
    if config.checkpoint is None:
        return 1e-3
    return frozen_checkpoint if config.freeze else 5e-5


def build_bert_classifier(
    num_classes: int,
    checkpoint=None,
    sequence_length: int = 128,
    *,
    freeze_encoder: bool = False,
    lora_rank: int | None = None,
    pooling: str = "pooled",
    dropout: float = 0.1,
    vocabulary_size: int = 30522,
    num_layers: int = 2,
    num_heads: int = 2,
    hidden_dim: int = 128,
    intermediate_dim: int = 512,
    learning_rate: float | None = None,
    compile: bool = True,
    dtype=None,
):
    """Builds a BERT sequence classifier (the document's §4.3, fixed).

    Args:
        num_classes: number of classes.
        checkpoint: local Hugging Face BERT folder, or None for a small random
            encoder sized by `vocabulary_size`, `num_layers`, `num_heads`,
            `hidden_dim` and `intermediate_dim`.
        sequence_length: tokens per example.
        freeze_encoder: keep the encoder's weights fixed (train the head only).
        lora_rank: fine-tune the encoder with LoRA of this rank (see
            `TextEncoderConfig`): the LoRA factors and the head train.
        pooling: `"pooled"`, `"cls"` or `"mean"` (see `TextEncoderConfig`).
        dropout: dropout before the output layer.
        vocabulary_size: vocabulary of a random encoder.
        num_layers: layers of a random encoder.
        num_heads: attention heads of a random encoder.
        hidden_dim: hidden size of a random encoder.
        intermediate_dim: feed-forward size of a random encoder.
        learning_rate: AdamW learning rate; None gives 5e-5 for a pretrained
            checkpoint (frozen or fine-tuned whole), 1e-2 with LoRA
            (`models.lora.LORA_LEARNING_RATE`) and 1e-3 otherwise.
        compile: whether to compile with AdamW / sparse categorical
            cross-entropy / accuracy.
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.

    Returns:
        A functional `keras.Model` from the three token inputs to
        `(batch, num_classes)` float32 probabilities.

    Example (loads the packaged MiniLM's weights; tests/models/test_bert.py runs it)::

        model = build_bert_classifier(2, checkpoint=minilm_checkpoint())
        preprocessor = build_text_preprocessor(minilm_checkpoint())
        model.predict(preprocessor(["a moving, funny film"]))   # (1, 2) probabilities
    """
    num_classes = check_positive_int("num_classes", num_classes)
    config = TextEncoderConfig(
        checkpoint=checkpoint,
        sequence_length=sequence_length,
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        pooling=pooling,
        dropout=dropout,
        freeze=freeze_encoder,
        lora_rank=lora_rank,
    )
    dtype = resolve_dtype(dtype)
    encoder = build_text_encoder(config, dtype=dtype)
    inputs = text_inputs(config.sequence_length)
    outputs = classification_layer(num_classes)(encoder(inputs))
    model = keras.Model(inputs, outputs, name="bert_classifier")
    model.dtype_policy = dtype
    if compile:
        if learning_rate is None:
            learning_rate = default_learning_rate(config, frozen_checkpoint=5e-5)
        compile_classifier(model, optimizer="adamw", learning_rate=learning_rate)
    return model
