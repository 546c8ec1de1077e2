"""Models shared by the explainers' tests, built once per session."""

import keras
import numpy as np
import pytest

from tests.helpers import build_tiny, make_images, make_sequences, make_text


@pytest.fixture(scope="session")
def multimodal():
    keras.utils.set_random_seed(0)
    return build_tiny("multimodal")


@pytest.fixture(scope="session")
def planted():
    """A model trained where only the image carries the label (bright left or right half)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    noise = rng.integers(0, 2, 256)  # the other modalities follow these, not the labels
    inputs = {
        "image": make_images(labels, rng),
        "sequence": make_sequences(noise, rng),
        **make_text(rng.integers(0, 2, 256), rng),
    }
    for modality in ("image", "sequence", "text"):
        inputs[f"{modality}_present"] = np.ones(256, "float32")
    model = build_tiny("multimodal")
    model.fit(inputs, labels, epochs=15, batch_size=32, verbose=0)
    accuracy = model.evaluate(inputs, labels, verbose=0, return_dict=True)["accuracy"]
    assert accuracy > 0.95, accuracy
    return model, inputs, labels
