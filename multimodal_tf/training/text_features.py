"""A frozen text encoder's outputs, computed once per distinct text.

`compute_text_features` runs the encoder over every distinct text (and the
empty text, an absent one) and keeps the outputs in memory, or in a `.npy`
file when they exceed `memory_limit_bytes` (its free space checked first).
`multimodal_tf.training.feature_cache` trains the rest of the model on them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

import numpy as np
import tensorflow as tf

from multimodal_tf.console import Progress
from multimodal_tf.data.batches import tokenise
from multimodal_tf.keras_internals import call_tensors
from multimodal_tf.models.frozen import is_frozen_feature_extractor

TEXT_INPUTS = ("token_ids", "padding_mask", "segment_ids")
MEMORY_LIMIT_BYTES = 256 * 2**20
FEATURES_FILE = "text_features.npy"


def frozen_text_encoder(model):
    """The model's frozen text encoder, or None: a top-level layer that is a fixed function
    (`is_frozen_feature_extractor`) of the model's token inputs."""
    if not isinstance(getattr(model, "input", None), dict) or not set(TEXT_INPUTS) <= set(
        model.input
    ):
        return None
    token_inputs = {id(model.input[name]) for name in TEXT_INPUTS}
    for layer in model.layers:
        if not is_frozen_feature_extractor(layer):
            continue
        try:
            inbound, _ = call_tensors(layer)
        except ValueError:
            continue
        if {id(tensor) for tensor in inbound} == token_inputs:
            return layer
    return None


@dataclasses.dataclass
class TextFeatures:
    """A frozen text encoder's outputs, one row per distinct text (row 0: the empty text).

    Attributes:
        texts: the texts, in row order.
        values: `(rows, width)` float32, in memory or a memory-mapped `.npy` file.
        path: the `.npy` file, or None in memory.
    """

    texts: list
    values: np.ndarray
    path: str | None = None

    def lookup_table(self):
        keys = tf.constant(self.texts, tf.string)
        rows = tf.range(len(self.texts), dtype=tf.int64)
        return tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, rows), default_value=-1
        )


def compute_text_features(
    encoder,
    preprocessor,
    texts,
    *,
    batch_size: int = 64,
    memory_limit_bytes: int = MEMORY_LIMIT_BYTES,
    folder: str | None = None,
    verbose=1,
) -> TextFeatures:
    """Runs the frozen `encoder` once over every distinct text (and `""`).

    Args:
        encoder: the frozen text encoder (token inputs in, `(batch, width)` out).
        preprocessor: the model's text preprocessor (strings in, token inputs out).
        texts: the texts, repeats allowed (strings or UTF-8 bytes).
        batch_size: texts per forward pass.
        memory_limit_bytes: above this size the outputs go to disk.
        folder: where the `.npy` file goes when they do.
        verbose: 0 hides the progress (texts done; `console.Progress`).

    Returns:
        `TextFeatures`.

    Raises:
        ValueError: too large for memory with no `folder`, or not enough
            free disk space there; the message says how much is needed.
    """
    decoded = {text.decode("utf-8") if isinstance(text, bytes) else str(text) for text in texts}
    rows = ["", *sorted(decoded - {""})]
    width = int(encoder.outputs[0].shape[-1])  # its own graph's output: the width is the same
    size = len(rows) * width * 4
    path = None
    if size <= memory_limit_bytes:
        values = np.empty((len(rows), width), np.float32)
    else:
        if folder is None:
            raise ValueError(
                f"the text features take {size / 2**20:.0f} MiB, above the "
                f"{memory_limit_bytes / 2**20:.0f} "
                "MiB kept in memory; give a `folder` for the file, or train with "
                "--no-feature-cache."
            )
        os.makedirs(folder, exist_ok=True)
        free = shutil.disk_usage(folder).free
        if free < size * 1.1:
            raise ValueError(
                f"the text features need {size / 2**20:.0f} MiB on disk and {folder!r} has "
                f"{free / 2**20:.0f} MiB free; free some space, or train with --no-feature-cache."
            )
        path = os.path.join(folder, FEATURES_FILE)
        values = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float32, shape=(len(rows), width)
        )

    @tf.function(reduce_retracing=True)
    def encode(texts):  # tokeniser and encoder as one graph, as in a training step
        return tf.cast(encoder(tokenise({"text": texts}, preprocessor), training=False), tf.float32)

    with Progress("computing text features", len(rows), "texts", verbose=verbose) as progress:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            values[start : start + len(batch)] = encode(tf.constant(batch)).numpy()
            progress.update(len(batch))
    if path is not None:
        values.flush()
    return TextFeatures(rows, values, path)
