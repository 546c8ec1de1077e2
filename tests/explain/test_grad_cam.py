"""Grad-CAM on the CNN and on the planted image half."""

import keras
import numpy as np
import pytest

from multimodal_tf import explain
from tests.helpers import build_tiny, make_data, take


def test_grad_cam_on_the_cnn():
    keras.utils.set_random_seed(0)
    model = build_tiny("cnn")
    images, _ = make_data("cnn", n=1)
    heatmap = explain.grad_cam(model, images[0])
    assert heatmap.shape == (12, 12) and heatmap.dtype == np.float32


@pytest.mark.slow
def test_grad_cam_lights_up_the_planted_half(planted):
    model, inputs, labels = planted
    inside = []
    for row in range(8):
        heatmap = explain.grad_cam(model, take(inputs, row), target=int(labels[row]))
        assert heatmap.shape == (12, 12) and heatmap.min() >= 0 and heatmap.max() <= 1
        half = 6 * int(labels[row])
        inside.append(heatmap[:, half : half + 6].sum() / max(heatmap.sum(), 1e-9))
    assert np.mean(inside) > 0.5, inside
