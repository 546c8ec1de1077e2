"""Fusion of per-modality features, with missing modalities masked out.

Every example carries a presence flag per modality (1: present, 0: absent).
An absent modality's encoder output is *excluded* from the fusion, not
passed on as if the zeros fed to its encoder were real data:

- ``concat``: each modality is projected to `fusion_dim`; absent ones are
  replaced by zeros and the presence flags are concatenated too, so the head
  can tell "absent" from "features that happen to be zero".
- ``gated``: a learned gate scores each projected modality; the softmax over
  modalities runs over the present ones only, and the fused vector is the
  gate-weighted sum.
- ``attention``: modalities are tokens (projection + a learned modality
  embedding) in a multi-head self-attention block whose attention mask hides
  absent modalities; the output is the mean over present modalities.

:class:`ModalityDropout` randomly marks present modalities absent during
training (never all of them), so the model learns to predict from any
subset; at inference it is the identity.
"""

from __future__ import annotations

import keras

from multimodal_tf.choices import FUSION_MODES
from multimodal_tf.models.dtypes import policy_with_sublayers
from multimodal_tf.validation import check_choice, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="multimodal_tf")
class ModalityDropout(keras.layers.Layer):
    """Drops present modalities at random during training.

    Each present modality of each example is marked absent with probability
    `rate`; where that would leave an example with no modality, its original
    presence flags are kept.

    Args:
        rate: probability of dropping a present modality, in [0, 1).
        seed: seed of the random generator.

    Example:
    >>> import numpy as np
    >>> flags = np.asarray(ModalityDropout(0.3, seed=0)(np.ones((64, 2), "float32"), training=True))
    >>> bool(flags.min() == 0), bool(np.all(flags.max(axis=1) == 1))  # some zeros, never a zero row
    (True, True)
    """

    def __init__(self, rate: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("modality_dropout", rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, presence, training=False):
        if not training or self.rate == 0.0:
            return presence
        keep = keras.random.uniform(keras.ops.shape(presence), seed=self.seed_generator)
        dropped = presence * keras.ops.cast(keep >= self.rate, presence.dtype)
        any_left = keras.ops.sum(dropped, axis=-1, keepdims=True) > 0
        return keras.ops.where(any_left, dropped, presence)

    def compute_output_shape(self, presence_shape):
        return presence_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="multimodal_tf")
class ModalityFusion(keras.layers.Layer):
    """Fuses a list of per-modality feature vectors under presence flags.

    Args:
        mode: `"concat"`, `"gated"` or `"attention"` (see the module doc).
        fusion_dim: width each modality is projected to.
        num_heads: attention heads (`"attention"` mode only).
        dropout: dropout inside the attention block.

    Call arguments:
        features: list of `(batch, dim_m)` tensors, one per modality.
        presence: `(batch, num_modalities)` tensor of 0/1 flags.

    Returns:
        `(batch, fusion_dim)` for gated and attention fusion,
        `(batch, num_modalities * (fusion_dim + 1))` for concat.
    """

    def __init__(
        self,
        mode: str = "concat",
        fusion_dim: int = 128,
        num_heads: int = 4,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.mode = check_choice("fusion", mode, FUSION_MODES)
        self.fusion_dim = check_positive_int("fusion_dim", fusion_dim)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.dropout = check_rate("dropout", dropout)
        if self.mode == "attention" and self.fusion_dim % self.num_heads:
            raise ValueError(
                f"`fusion_dim` ({self.fusion_dim}) must be divisible by `num_heads` "
                f"({self.num_heads}) for attention fusion."
            )

    def build(self, features_shape=None, presence_shape=None, **shapes):
        # Keras' `__call__` passes `features_shape=`; Keras' `run_layer_test`, given named
        # inputs, builds with the call's argument names (`features=`): both are taken.
        features_shape = shapes.pop("features", features_shape)
        shapes.pop("presence", None)
        if shapes or features_shape is None:
            raise ValueError(
                f"`build` takes `features_shape` and `presence_shape`, got {sorted(shapes)}."
            )
        self.num_modalities = len(features_shape)
        self.projections = []
        for index, shape in enumerate(features_shape):
            projection = keras.layers.Dense(
                self.fusion_dim,
                activation="relu",
                dtype=self.dtype_policy,
                name=f"projection_{index}",
            )
            projection.build(shape)
            self.projections.append(projection)
        token_shape = (None, self.fusion_dim)
        if self.mode == "gated":
            self.gate = keras.layers.Dense(1, dtype=self.dtype_policy, name="gate")
            self.gate.build(token_shape)
        elif self.mode == "attention":
            self.modality_embedding = self.add_weight(
                name="modality_embedding",
                shape=(self.num_modalities, self.fusion_dim),
                initializer="random_normal",
            )
            self.attention = keras.layers.MultiHeadAttention(
                self.num_heads,
                self.fusion_dim // self.num_heads,
                dropout=self.dropout,
                dtype=self.dtype_policy,
                name="attention",
            )
            sequence_shape = (None, self.num_modalities, self.fusion_dim)
            self.attention.build(sequence_shape, sequence_shape)
            self.norm = keras.layers.LayerNormalization(dtype=self.dtype_policy, name="norm")
            self.norm.build(sequence_shape)

    def call(self, features, presence, training=False):
        presence = keras.ops.cast(presence, self.compute_dtype)
        present = presence > 0
        tokens = keras.ops.stack(
            [projection(x) for projection, x in zip(self.projections, features)], axis=1
        )
        # Masked out with `where`, not multiplication: NaN * 0 would be NaN.
        tokens = keras.ops.where(present[..., None], tokens, keras.ops.zeros_like(tokens))
        if self.mode == "concat":
            flat = keras.ops.reshape(tokens, (-1, self.num_modalities * self.fusion_dim))
            return keras.ops.concatenate([flat, presence], axis=-1)
        any_present = keras.ops.cast(
            keras.ops.any(present, axis=-1, keepdims=True), self.compute_dtype
        )
        if self.mode == "gated":
            scores = keras.ops.squeeze(self.gate(tokens), axis=-1)
            scores = keras.ops.where(present, scores, keras.ops.full_like(scores, -1e4))
            weights = keras.ops.softmax(scores, axis=-1)
            fused = keras.ops.sum(tokens * weights[..., None], axis=1)
            return fused * any_present
        tokens = tokens + keras.ops.cast(self.modality_embedding, self.compute_dtype)[None]
        attention_mask = keras.ops.logical_and(present[:, :, None], present[:, None, :])
        attended = self.attention(tokens, tokens, attention_mask=attention_mask, training=training)
        tokens = self.norm(tokens + attended)
        weights = presence[..., None]
        total = keras.ops.sum(tokens * weights, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)

    def compute_output_shape(self, features_shape, presence_shape):
        batch = presence_shape[0]
        if self.mode == "concat":
            return (batch, len(features_shape) * (self.fusion_dim + 1))
        return (batch, self.fusion_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dtype": keras.dtype_policies.serialize(policy_with_sublayers(self)),
            "mode": self.mode,
            "fusion_dim": self.fusion_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
        }
