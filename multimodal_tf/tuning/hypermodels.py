"""keras-tuner hypermodels for every builder: the search spaces.

The default value of every hyperparameter is the document's model (or our
builder's default where the document has no such knob), so the document's
model is one point of each search space and a tuner's first trial. Each
trains as `multimodal-tf train` does (see `engine.py`).
"""

from __future__ import annotations

import typing

from multimodal_tf.models import (
    build_bert_classifier,
    build_cnn_classifier,
    build_lstm_classifier,
    build_multimodal_model,
)
from multimodal_tf.tuning.engine import EngineHyperModel
from multimodal_tf.validation import check_positive_int


def _learning_rate(hp, default, low, high):
    return hp.Float("learning_rate", low, high, sampling="log", default=default)


class CNNHyperModel(EngineHyperModel):
    """§4.1's CNN: filters of each convolution, dense units, dropout, learning rate.

    The defaults (32, 64, 64 filters, 64 units, no dropout, Adam's 1e-3) are
    the document's model.
    """

    def __init__(
        self,
        input_shape=(28, 28, 1),
        num_classes: int = 10,
        training=None,
        name="cnn",
        *,
        augmentation=None,
        batch_norm: bool = False,
        sizes=None,
    ):
        super().__init__(training, name, sizes)
        self.input_shape, self.num_classes = (
            tuple(input_shape),
            check_positive_int("num_classes", num_classes),
        )
        self.augmentation, self.batch_norm = augmentation, batch_norm  # fixed, not searched

    SIZE_CHOICES: typing.ClassVar[dict] = {
        **{
            f"filters_{index}": ([16, 32, 64, 128], default)
            for index, default in enumerate((32, 64, 64))
        },
        "dense_units": ([32, 64, 128, 256], 64),
    }

    def build_model(self, hp):
        filters = tuple(self.size(hp, f"filters_{index}") for index in range(3))
        return build_cnn_classifier(
            self.input_shape,
            self.num_classes,
            filters=filters,
            dense_units=self.size(hp, "dense_units"),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
            batch_norm=self.batch_norm,
            augmentation=self.augmentation,
            learning_rate=_learning_rate(hp, 1e-3, 1e-4, 1e-2),
        )


class LSTMHyperModel(EngineHyperModel):
    """§4.2's stacked LSTM: units, depth, bidirectional, dropout, learning rate.

    The defaults (two LSTM(64) layers, one direction, no dropout, 1e-3) are
    the document's model.

    Args:
        num_features: features per time step.
        num_classes: number of classes.
        sequence_length: None for variable-length (padded, masked) input.
        feature_mean, feature_variance: in-model standardisation (optional).
    """

    def __init__(
        self,
        num_features: int,
        num_classes: int = 10,
        sequence_length=None,
        feature_mean=None,
        feature_variance=None,
        training=None,
        name="lstm",
        *,
        sizes=None,
    ):
        super().__init__(training, name, sizes)
        self.num_features = check_positive_int("num_features", num_features)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.sequence_length = sequence_length
        self.statistics = {"feature_mean": feature_mean, "feature_variance": feature_variance}

    SIZE_CHOICES: typing.ClassVar[dict] = {"units": ([32, 64, 128], 64)}

    def build_model(self, hp):
        units = self.size(hp, "units")
        depth = hp.Int("depth", 1, 3, default=2)
        return build_lstm_classifier(
            self.sequence_length,
            self.num_features,
            self.num_classes,
            units=(units,) * depth,
            bidirectional=hp.Boolean("bidirectional", default=False),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
            learning_rate=_learning_rate(hp, 1e-3, 1e-4, 1e-2),
            **self.statistics,
        )


class BertHyperModel(EngineHyperModel):
    """§4.3's BERT classifier: learning rate, warmup, dropout, frozen encoder.

    With a checkpoint it fine-tunes with AdamW (defaults: 5e-5, 10% warmup,
    dropout 0.1, encoder trained), as BERT's authors and Hugging Face do.

    Args:
        num_classes: number of classes.
        checkpoint: a local Hugging Face BERT folder (None: random weights of
            the size given in `encoder`).
        sequence_length: tokens per text.
        encoder: more `build_bert_classifier` arguments (pooling, sizes).
    """

    def __init__(
        self,
        num_classes: int,
        checkpoint=None,
        sequence_length: int = 128,
        encoder=None,
        training=None,
        name="bert",
    ):
        super().__init__(training, name)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.checkpoint, self.sequence_length = checkpoint, sequence_length
        self.encoder = dict(encoder or {})
        tuned = sorted(
            set(self.encoder)
            & {"dropout", "freeze_encoder", "learning_rate", "checkpoint", "sequence_length"}
        )
        if tuned:
            raise ValueError(
                f"`encoder` must not set {tuned}: they are hyperparameters or arguments of "
                "their own."
            )

    def build_model(self, hp):
        default_rate = 5e-5 if self.checkpoint else 1e-3
        model = build_bert_classifier(
            self.num_classes,
            self.checkpoint,
            self.sequence_length,
            freeze_encoder=hp.Boolean("freeze_encoder", default=False),
            dropout=hp.Float("dropout", 0.0, 0.3, step=0.05, default=0.1),
            learning_rate=_learning_rate(hp, default_rate, 1e-5, 1e-2),
            **self.encoder,
        )
        hp.Float("warmup_fraction", 0.0, 0.2, step=0.05, default=0.1)
        return model

    def training_overrides(self, hp) -> dict:
        return {"optimizer": "adamw", "warmup_fraction": hp.get("warmup_fraction")}


class MultimodalHyperModel(EngineHyperModel):
    """The fusion model: fusion type and width, modality dropout, dropout, learning rate.

    Args:
        num_classes: number of classes.
        image, sequence, text, tabular: the encoders' configs (dicts or
            config dataclasses), as for `build_multimodal_model`.
        seed: seed of modality dropout.
        sizes: other `fusion_dim` values to search (see `EngineHyperModel`).
        num_heads: attention fusion's heads (fixed); every `fusion_dim`
            searched must be divisible by it.
    """

    def __init__(
        self,
        num_classes: int,
        image=None,
        sequence=None,
        text=None,
        tabular=None,
        seed: int | None = 0,
        training=None,
        name="multimodal",
        *,
        sizes=None,
        num_heads: int = 4,
    ):
        super().__init__(training, name, sizes)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.encoders = {"image": image, "sequence": sequence, "text": text, "tabular": tabular}
        self.seed = seed
        self.num_heads = check_positive_int("num_heads", num_heads)  # fixed, not searched

    SIZE_CHOICES: typing.ClassVar[dict] = {"fusion_dim": ([64, 128, 256], 128)}

    def build_model(self, hp):
        fusion = hp.Choice("fusion", ["concat", "gated", "attention"], default="attention")
        return build_multimodal_model(
            self.num_classes,
            fusion=fusion,
            fusion_dim=self.size(hp, "fusion_dim"),
            modality_dropout=hp.Float("modality_dropout", 0.0, 0.5, step=0.1, default=0.2),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.1),
            learning_rate=_learning_rate(hp, 1e-3, 1e-4, 1e-2),
            seed=self.seed,
            num_heads=self.num_heads,
            **self.encoders,
        )
