import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import pytest


@pytest.fixture
def dtype_policy():
    """Sets a global dtype policy for one test and restores float32 after."""

    def set_policy(name):
        keras.config.set_dtype_policy(name)

    yield set_policy
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data folder shared by every test that reads real datasets."""
    return str(tmp_path_factory.mktemp("tfds"))


def pytest_collection_modifyitems(config, items):
    """Skips `tensorflow_only` tests under another Keras backend (KERAS_BACKEND=jax)."""
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"needs the TensorFlow backend, not {keras.backend.backend()}")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
