"""What every pipeline ends with: padded sequences, tokenised text, prefetching."""

from __future__ import annotations

import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
MODALITY_COLUMNS = ("image", "sequence", "text")


def prefetched(dataset):
    """`dataset` prefetched, with tf.data's autotuning model off: how every pipeline ends.

    Keras 3 makes a new iterator for every epoch (and for every validation
    pass), and discards one it made ahead; TensorFlow's iterator destructor
    then waits for that iterator's autotuning thread to wake from a sleep
    that doubles from 10 ms. On a 2-core CPU that wait delayed the start of
    short epochs by most of a second (`python -m bench epoch-wait`:
    bench/results.jsonl#epoch-wait-avx512bf16-2026-11-27). Without the
    autotuning model there is no such thread; parallel maps given
    `AUTOTUNE` then run one call per core, and the prefetch buffer still
    sizes itself.

    Example:
    >>> prefetched(tf.data.Dataset.range(3)).options().autotune.enabled
    False
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(AUTOTUNE).with_options(options)


def tokenise(features: dict, text_preprocessor) -> dict:
    """A batch's raw `"text"` replaced by the preprocessor's int32 token inputs."""
    features = dict(features)
    features.update(text_preprocessor(features.pop("text")))
    features["padding_mask"] = tf.cast(features["padding_mask"], tf.int32)
    return features


def map_features(dataset, function):
    """`function` over the features of `(features, label)` batches, or of feature-only batches."""
    if isinstance(dataset.element_spec, tuple):
        return dataset.map(
            lambda features, label: (function(features), label), num_parallel_calls=AUTOTUNE
        )
    return dataset.map(function, num_parallel_calls=AUTOTUNE)


def tokenise_batches(dataset, text_preprocessor):
    """Batches with raw `"text"` as batches of token inputs (the model's own input)."""
    return prefetched(map_features(dataset, lambda features: tokenise(features, text_preprocessor)))


def finish_batches(dataset, text_preprocessor, mask_value):
    """Pads ragged sequences, tokenises text, prefetches."""

    def finish(features):
        features = dict(features)
        if "sequence" in features and isinstance(features["sequence"], tf.RaggedTensor):
            features["sequence"] = features["sequence"].to_tensor(default_value=mask_value)
        if "text" in features and text_preprocessor is not None:
            features = tokenise(features, text_preprocessor)
        return features

    return prefetched(map_features(dataset, finish))
