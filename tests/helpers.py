"""Tiny models and tiny learnable synthetic data, made by the tests themselves.

Each `make_data(kind)` returns `(inputs, labels)` where the label is
recoverable from every modality present, so a few training steps must lower
the loss clearly.
"""

import numpy as np

from multimodal_tf import (
    build_bert_classifier,
    build_cnn_classifier,
    build_lstm_classifier,
    build_multimodal_model,
)

IMAGE_SHAPE = (12, 12, 1)
SEQUENCE_SHAPE = (6, 3)
TINY_TEXT = dict(
    vocabulary_size=40,
    num_layers=1,
    num_heads=2,
    hidden_dim=8,
    intermediate_dim=16,
    sequence_length=8,
    dropout=0.0,
)
TINY_IMAGE = dict(input_shape=IMAGE_SHAPE, filters=(4, 8), dense_units=8)
TINY_SEQUENCE = dict(sequence_length=None, num_features=SEQUENCE_SHAPE[1], units=(8, 8))
BUILDERS = ("cnn", "lstm", "bert", "multimodal")
# How far the same model's probabilities may move between two executions of
# it (in-process vs reloaded, Keras vs SavedModel), by the policy it computes
# in: 16-bit rounding makes the order of operations visible.
PREDICTION_TOLERANCE = {"float32": 1e-5, "mixed_float16": 2e-3, "mixed_bfloat16": 2e-2}


def build_tiny(kind, **overrides):
    """A tiny compiled 2-class model of one builder."""
    if kind == "cnn":
        return build_cnn_classifier(
            num_classes=2, learning_rate=1e-2, **{**TINY_IMAGE, **overrides}
        )
    if kind == "lstm":
        return build_lstm_classifier(
            num_classes=2, learning_rate=1e-2, **{**TINY_SEQUENCE, **overrides}
        )
    if kind == "bert":
        return build_bert_classifier(2, learning_rate=1e-2, **{**TINY_TEXT, **overrides})
    if kind == "multimodal":
        arguments = dict(
            image=TINY_IMAGE,
            sequence=TINY_SEQUENCE,
            text=TINY_TEXT,
            fusion_dim=8,
            num_heads=2,
            learning_rate=1e-2,
            seed=1,
        )
        return build_multimodal_model(2, **{**arguments, **overrides})
    raise KeyError(kind)


def make_images(labels, rng):
    images = rng.uniform(0.0, 0.2, (len(labels), *IMAGE_SHAPE)).astype("float32")
    half = IMAGE_SHAPE[1] // 2
    for row, label in enumerate(labels):
        images[row, :, half * label : half * (label + 1)] += 0.8
    return images


def make_sequences(labels, rng):
    sequences = rng.normal(0.0, 0.3, (len(labels), *SEQUENCE_SHAPE)).astype("float32")
    sequences[:, :, 0] += np.where(labels == 1, 1.0, -1.0)[:, None]
    return sequences


def make_text(labels, rng):
    length = TINY_TEXT["sequence_length"]
    token_ids = rng.integers(5, TINY_TEXT["vocabulary_size"], (len(labels), length)).astype("int32")
    lengths = rng.integers(3, length + 1, len(labels))
    padding_mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    token_ids[:, 0] = 2  # [CLS]
    token_ids[np.arange(len(labels)), rng.integers(1, 3, len(labels))] = 3 + labels  # the signal
    token_ids *= padding_mask
    return {
        "token_ids": token_ids,
        "padding_mask": padding_mask,
        "segment_ids": np.zeros_like(token_ids),
    }


def make_data(kind, n=64, seed=0):
    """Inputs and labels for one builder's tiny model."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    if kind == "cnn":
        return make_images(labels, rng), labels
    if kind == "lstm":
        return make_sequences(labels, rng), labels
    if kind == "bert":
        return make_text(labels, rng), labels
    if kind == "multimodal":
        inputs = {
            "image": make_images(labels, rng),
            "sequence": make_sequences(labels, rng),
            **make_text(labels, rng),
        }
        for modality in ("image", "sequence", "text"):
            inputs[f"{modality}_present"] = np.ones(n, "float32")
        return inputs, labels
    raise KeyError(kind)


def take(inputs, rows):
    """Selects rows of an array or of a dict of arrays."""
    if isinstance(inputs, dict):
        return {name: value[rows] for name, value in inputs.items()}
    return inputs[rows]


def cli_args(command: str, *positional, **options) -> list:
    """`multimodal-tf` arguments, in the order given.

    `cli_args("train", dataset="japanese_vowels", epochs=1, quiet=True)` is
    `["train", "--dataset", "japanese_vowels", "--epochs", "1", "--quiet"]`.
    """
    arguments = [command, *map(str, positional)]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        arguments += [flag] if value is True else [flag, str(value)]
    return arguments


def tiny_vowels_run(data_dir, output, *extra, **options) -> list:
    """Arguments of a seconds-long real run: the tiny LSTM on a few JapaneseVowels utterances."""
    common = {
        "dataset": "japanese_vowels",
        "architecture": "tiny",
        "limit": 32,
        "epochs": 1,
        "quiet": True,
    }
    run = cli_args("train", **common, **options, data_dir=data_dir, output=str(output))
    return [*run, *extra]
