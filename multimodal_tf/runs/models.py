"""Which model a run trains: the builders of `multimodal_tf.models` given the dataset's facts."""

from __future__ import annotations

import os

import numpy as np

from multimodal_tf.choices import USER_DATASET
from multimodal_tf.data.pipeline import prepare
from multimodal_tf.models import (
    build_bert_classifier,
    build_cnn_classifier,
    build_lstm_classifier,
    build_multimodal_model,
    build_text_preprocessor,
)
from multimodal_tf.pretrained import resolve_checkpoint
from multimodal_tf.runs.config import RunConfig, image_default
from multimodal_tf.training import TrainingConfig

# The "tiny" architecture's overrides of each builder's defaults.
TINY_IMAGE = {"filters": (4, 8), "dense_units": 8}


TINY_SEQUENCE = {"units": (8, 8)}


TINY_TEXT = {"num_layers": 1, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}


TINY_TABULAR = {"units": (8,)}


TINY_FUSION = {"fusion_dim": 8, "num_heads": 2}


# ... and of the size hyperparameters a search tries (`tuning`'s `sizes`).
TINY_SEARCH_SIZES = {
    "image": {"filters_0": [4], "filters_1": [8], "filters_2": [8], "dense_units": [8]},
    "sequence": {"units": [8]},
    "multimodal": {"fusion_dim": [8]},
}


def dataset_facts(config: RunConfig) -> dict:
    """Class names, image shape and sequence width of the prepared dataset (or user files)."""
    if config.dataset == USER_DATASET:
        from multimodal_tf.runs.user_data import user_facts

        return user_facts(config)
    builder = prepare(config.dataset, config.data_dir)
    features = builder.info.features
    facts = {"class_names": list(features["label"].names)}
    if "image" in config.modalities:
        facts["image_shape"] = list(features["image"].shape)
    if "sequence" in config.modalities:
        facts["num_features"] = int(features["sequence"].shape[-1])
        facts.update(sequence_statistics(builder))
    return facts


def sequence_statistics(builder) -> dict:
    """Per-feature mean and variance over every time step of the training split."""
    import tensorflow_datasets as tfds

    steps = np.concatenate(
        [record["sequence"] for record in tfds.as_numpy(builder.as_dataset(split="train"))]
    )
    return {
        "feature_mean": steps.mean(axis=0).astype(float).tolist(),
        "feature_variance": np.maximum(steps.var(axis=0), 1e-12).astype(float).tolist(),
    }


def build_run_model(config: RunConfig, facts: dict, text_checkpoint: str | None):
    """Builds the model a run trains, from the builders of `multimodal_tf.models`."""
    regression = facts.get("task") == "regression"
    num_classes = None if regression else len(facts["class_names"])
    encoders = encoder_arguments(config, facts, text_checkpoint)
    if config.kind == "classifier":
        modality = config.modalities[0]
        if modality == "image":
            image = encoders["image"]
            return build_cnn_classifier(
                image.pop("input_shape"), num_classes, learning_rate=config.learning_rate, **image
            )
        if modality == "sequence":
            sequence = encoders["sequence"]
            return build_lstm_classifier(
                None,
                sequence.pop("num_features"),
                num_classes,
                learning_rate=config.learning_rate,
                **{key: value for key, value in sequence.items() if key != "sequence_length"},
            )
        text = encoders["text"]
        del text["freeze"]  # the text classifier fine-tunes unless told not to
        return build_bert_classifier(
            num_classes,
            text.pop("checkpoint"),
            text.pop("sequence_length"),
            freeze_encoder=config.fine_tune_text is False,
            learning_rate=config.learning_rate,
            **text,
        )
    fusion = TINY_FUSION if config.architecture == "tiny" else {}
    return build_multimodal_model(
        num_classes,
        task="regression" if regression else "classification",
        **({name: facts[name] for name in ("target_mean", "target_std")} if regression else {}),
        fusion=config.fusion,
        modality_dropout=config.modality_dropout,
        seed=config.seed,
        learning_rate=config.learning_rate,
        **fusion,
        **encoders,
    )


def encoder_arguments(config: RunConfig, facts: dict, text_checkpoint: str | None) -> dict:
    """The `image=` / `sequence=` / `text=` / `tabular=` arguments of the multimodal model."""
    tiny = config.architecture == "tiny"
    arguments = {}
    if "image" in config.modalities:
        arguments["image"] = {
            "input_shape": tuple(facts["image_shape"]),
            **(TINY_IMAGE if tiny else {}),
            **({"filters": config.image_filters} if config.image_filters else {}),
            **({"augmentation": config.augmentation} if config.augmentation else {}),
            **({"batch_norm": True} if config.image_batch_norm else {}),
            **({"dropout": config.image_dropout} if config.image_dropout else {}),
        }
    if "sequence" in config.modalities:
        arguments["sequence"] = {
            "sequence_length": None,
            "num_features": facts["num_features"],
            "feature_mean": facts["feature_mean"],
            "feature_variance": facts["feature_variance"],
            **(TINY_SEQUENCE if tiny else {}),
        }
    if "tabular" in config.modalities:
        arguments["tabular"] = {
            "num_features": facts["tabular_features"],
            **(TINY_TABULAR if tiny else {}),
        }
    if "text" in config.modalities:
        text = {
            "checkpoint": text_checkpoint,
            "sequence_length": config.text_length,
            "pooling": "mean",
        }
        if tiny:  # a random BERT that reads the checkpoint's vocabulary
            text.update(
                checkpoint=None, vocabulary_size=vocabulary_size(text_checkpoint), **TINY_TEXT
            )
        if config.lora_rank is not None:
            text["lora_rank"] = config.lora_rank
        frozen = not config.fine_tune_text and config.lora_rank is None
        arguments["text"] = {**text, "freeze": frozen}  # frozen: computed once
    return arguments


def vocabulary_size(checkpoint: str) -> int:
    """Tokens in a checkpoint's `vocab.txt` (a folder, or a name a run recorded)."""
    with open(
        os.path.join(resolve_checkpoint(checkpoint), "vocab.txt"), encoding="utf-8"
    ) as vocabulary:
        return sum(1 for _ in vocabulary)


def text_preprocessor_for(config: RunConfig, checkpoint: str | None):
    """The run's in-graph tokeniser (None without text).

    `checkpoint` is as a run records it, or a folder.
    """
    if "text" not in config.modalities:
        return None
    return build_text_preprocessor(
        resolve_checkpoint(checkpoint), sequence_length=config.text_length
    )


def hypermodel_for_run(
    config: RunConfig, facts: dict, text_checkpoint: str | None, training: TrainingConfig
):
    """The `multimodal_tf.tuning` hypermodel over the model `config` trains.

    With `architecture="tiny"` the encoders are the tiny ones `train` builds
    and the searched sizes are tiny too (`TINY_SEARCH_SIZES`): a quick search.
    """
    from multimodal_tf import tuning

    if config.lora_rank is not None:
        raise ValueError("`lora_rank` applies to `train`; `tune` searches without LoRA.")
    num_classes = len(facts["class_names"])
    tiny = config.architecture == "tiny"
    encoders = encoder_arguments(config, facts, text_checkpoint)
    if config.kind == "multimodal":
        return tuning.MultimodalHyperModel(
            num_classes,
            seed=config.seed,
            training=training,
            **(
                {"sizes": TINY_SEARCH_SIZES["multimodal"], "num_heads": TINY_FUSION["num_heads"]}
                if tiny
                else {}
            ),
            **encoders,
        )
    modality = config.modalities[0]
    if modality == "image":
        if config.image_filters or config.image_dropout != image_default(
            config, "image_dropout", 0.0
        ):
            raise ValueError(
                "`image_filters` and `image_dropout` are searched by `tune` for the image "
                "classifier (filters_*, dropout); leave them out of the search."
            )
        return tuning.CNNHyperModel(
            tuple(facts["image_shape"]),
            num_classes,
            training=training,
            augmentation=config.augmentation or None,
            batch_norm=config.image_batch_norm,
            sizes=TINY_SEARCH_SIZES["image"] if tiny else None,
        )
    if modality == "sequence":
        return tuning.LSTMHyperModel(
            facts["num_features"],
            num_classes,
            feature_mean=facts["feature_mean"],
            feature_variance=facts["feature_variance"],
            training=training,
            sizes=TINY_SEARCH_SIZES["sequence"] if tiny else None,
        )
    text = encoders["text"]
    del text["freeze"]  # searched (`freeze_encoder`)
    return tuning.BertHyperModel(
        num_classes,
        text.pop("checkpoint"),  # None when tiny: a random tiny BERT
        text.pop("sequence_length"),
        encoder=text,
        training=training,
    )
