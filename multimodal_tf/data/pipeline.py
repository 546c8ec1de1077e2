"""Arrays → `tf.data.Dataset`s of `(features, label)` batches for the models."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from multimodal_tf.validation import check_positive_int


def _scale_image(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


def image_dataset(images, labels, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0):
    """Builds the input pipeline for uint8 images.

    Decoding to float in [0, 1] runs in a parallel `map`, the decoded images
    are cached in memory, shuffled with `seed` each epoch, batched and
    prefetched.

    Args:
        images: uint8 array `(n, height, width, channels)`.
        labels: integer array `(n,)`.
        batch_size: examples per batch.
        shuffle: whether to shuffle (training).
        seed: shuffle seed.

    Returns:
        A `tf.data.Dataset` of `(image, label)` batches, images float32 in
        [0, 1], for the single-input CNN classifier.

    Example:
    >>> images, labels = load_fashion_mnist_arrays("train")
    >>> model.fit(image_dataset(images, labels, shuffle=True), epochs=1)
    """
    batch_size = check_positive_int("batch_size", batch_size)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have shape (n, height, width, channels), got {images.shape}."
        )
    if images.dtype != np.uint8:
        raise ValueError(f"`images` must be uint8 pixels in [0, 255], got dtype {images.dtype}.")
    if len(labels) != len(images):
        raise ValueError(f"`labels` has {len(labels)} rows but `images` has {len(images)}.")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
    dataset = dataset.map(_scale_image, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(images), 10000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
