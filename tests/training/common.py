"""Tiny data and a quiet configuration shared by the training engine's tests."""

import tensorflow as tf

from multimodal_tf.training import TrainingConfig
from tests.helpers import make_data


def dataset(kind="cnn", n=64, batch_size=8, seed=0):
    inputs, labels = make_data(kind, n=n, seed=seed)
    return tf.data.Dataset.from_tensor_slices((inputs, labels.astype("int32"))).batch(batch_size)


def quiet(**overrides):
    return TrainingConfig(**{"epochs": 2, "precision": "float32", "verbose": 0, **overrides})
