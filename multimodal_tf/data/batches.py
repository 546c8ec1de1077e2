"""What every pipeline ends with: padded sequences, tokenised text, prefetching."""

from __future__ import annotations

import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
MODALITY_COLUMNS = ("image", "sequence", "text")


def finish_batches(dataset, text_preprocessor, mask_value):
    """Pads ragged sequences, tokenises text, prefetches."""

    def finish(features):
        features = dict(features)
        if "sequence" in features and isinstance(features["sequence"], tf.RaggedTensor):
            features["sequence"] = features["sequence"].to_tensor(default_value=mask_value)
        if "text" in features and text_preprocessor is not None:
            features.update(text_preprocessor(features.pop("text")))
            features["padding_mask"] = tf.cast(features["padding_mask"], tf.int32)
        return features

    def finish_pair(features, label):
        return finish(features), label

    is_pair = isinstance(dataset.element_spec, tuple)
    dataset = dataset.map(finish_pair if is_pair else finish, num_parallel_calls=AUTOTUNE)
    return dataset.prefetch(AUTOTUNE)
