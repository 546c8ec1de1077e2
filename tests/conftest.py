import os
import time

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


_SESSION_START = time.monotonic()


def pytest_addoption(parser):
    parser.addoption(
        "--time-budget",
        type=_minutes,
        default=None,
        metavar="MINUTES",
        help="start no test after MINUTES from the session's start: the rest are skipped, "
        "each saying so (CI's slow step runs the slow tests where time allows)",
    )


def _minutes(text):
    value = float(text)
    if not value >= 0:
        raise ValueError(f"--time-budget must be a number of minutes >= 0, not {text!r}")
    return value


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Skips a test, before its fixtures are built, once `--time-budget` is spent."""
    budget = item.config.getoption("--time-budget")
    if budget is not None and time.monotonic() - _SESSION_START > budget * 60:
        pytest.skip(f"--time-budget of {budget:g} min spent before this test could start")
