"""Bad examples get clear errors, and explaining leaves the model as it was."""

import numpy as np
import pytest

from multimodal_tf import explain
from tests.helpers import build_tiny, make_data, take


def test_bad_inputs_get_clear_errors(multimodal):
    inputs, _ = make_data("multimodal", n=1)
    example = take(inputs, 0)
    with pytest.raises(ValueError, match=r"inputs\['image'\].*\(12, 12, 1\)"):
        explain.integrated_gradients(multimodal, {**example, "image": np.zeros((10, 10, 1))})
    with pytest.raises(ValueError, match=r"inputs\['sequence'\]` contains NaN"):
        explain.integrated_gradients(multimodal, {**example, "sequence": np.full((6, 3), np.nan)})
    with pytest.raises(ValueError, match="lacks"):
        explain.integrated_gradients(multimodal, {"image": example["image"]})
    with pytest.raises(ValueError, match="target"):
        explain.integrated_gradients(multimodal, example, target=5)
    with pytest.raises(ValueError, match=r"baseline\['image'\]"):
        explain.integrated_gradients(multimodal, example, baseline={"image": np.zeros((3, 3, 1))})
    with pytest.raises(ValueError, match="output"):
        explain.modality_contributions(multimodal, example, output="softmax")
    cnn = build_tiny("cnn")
    with pytest.raises(ValueError, match="multimodal model"):
        explain.modality_contributions(cnn, make_data("cnn", n=1)[0][0])
    with pytest.raises(ValueError, match=r"one example of shape \(12, 12, 1\)"):
        explain.integrated_gradients(cnn, make_data("cnn", n=2)[0])
    with pytest.raises(ValueError, match="Conv2D"):
        explain.grad_cam(cnn, make_data("cnn", n=1)[0][0], layer_name="nope")


def test_the_model_is_left_as_it_was(multimodal):
    inputs, _ = make_data("multimodal", n=2)
    before = multimodal.predict(inputs, verbose=0)
    explain.integrated_gradients(multimodal, take(inputs, 0), steps=4)
    explain.grad_cam(multimodal, take(inputs, 0))
    np.testing.assert_array_equal(before, multimodal.predict(inputs, verbose=0))
    np.testing.assert_allclose(before.sum(axis=1), 1.0, rtol=1e-5)
