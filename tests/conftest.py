import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


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
