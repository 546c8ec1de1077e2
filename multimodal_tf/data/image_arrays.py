"""The single-input CNN's pipeline from uint8 image arrays (Fashion-MNIST, the document's §4.1)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from multimodal_tf.data.batches import AUTOTUNE, prefetched
from multimodal_tf.validation import check_positive_int


def _scale_image(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


def image_dataset(images, labels, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0):
    """Builds the input pipeline for the single-input CNN from uint8 images.

    Args:
        images: uint8 array `(n, height, width, channels)`.
        labels: integer array `(n,)`.
        batch_size: examples per batch.
        shuffle: whether to shuffle (training).
        seed: shuffle seed.

    Returns:
        A `tf.data.Dataset` of `(image, label)` batches, images float32 in
        [0, 1].

    Example:
    >>> import numpy as np
    >>> images = np.zeros((10, 28, 28, 1), np.uint8)  # e.g. load_fashion_mnist_arrays("train")[0]
    >>> batch, labels = next(iter(image_dataset(images, np.arange(10) % 2, batch_size=4)))
    >>> tuple(batch.shape), batch.dtype.name, labels.numpy().tolist()
    ((4, 28, 28, 1), 'float32', [0, 1, 0, 1])
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
    if shuffle:
        dataset = dataset.shuffle(min(len(images), 10000), seed=seed, reshuffle_each_iteration=True)
    # Scaled a batch at a time: one vectorised op instead of one per image.
    return prefetched(dataset.batch(batch_size).map(_scale_image, num_parallel_calls=AUTOTUNE))
