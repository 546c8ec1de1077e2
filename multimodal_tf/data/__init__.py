"""Data: real datasets that ship in packages, a user's own files, and tf.data pipelines.

`from_csv`, `from_dataframe`, `from_directory`, `Schema` and `UserData`
(`multimodal_tf.data.user`) load TensorFlow on first use only.
"""

import importlib as _importlib

from multimodal_tf.data.datasets.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist_arrays,
)

_USER = ("Schema", "UserData", "from_csv", "from_dataframe", "from_directory")

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist_arrays", *_USER]


def __getattr__(name):
    if name in _USER:
        value = getattr(_importlib.import_module("multimodal_tf.data.user"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
