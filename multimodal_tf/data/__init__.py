"""Data: real datasets that ship in packages, and tf.data pipelines."""

from multimodal_tf.data.datasets.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist_arrays,
)

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist_arrays"]
