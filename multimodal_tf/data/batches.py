"""What every pipeline ends with: padded sequences, tokenised text, prefetching."""

from __future__ import annotations

import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
MODALITY_COLUMNS = ("image", "sequence", "text")


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
    return map_features(dataset, lambda features: tokenise(features, text_preprocessor)).prefetch(
        AUTOTUNE
    )


def finish_batches(dataset, text_preprocessor, mask_value):
    """Pads ragged sequences, tokenises text, prefetches."""

    def finish(features):
        features = dict(features)
        if "sequence" in features and isinstance(features["sequence"], tf.RaggedTensor):
            features["sequence"] = features["sequence"].to_tensor(default_value=mask_value)
        if "text" in features and text_preprocessor is not None:
            features = tokenise(features, text_preprocessor)
        return features

    return map_features(dataset, finish).prefetch(AUTOTUNE)
