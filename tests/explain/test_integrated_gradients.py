"""Integrated gradients: completeness for every modality and classifier."""

import keras
import numpy as np
import pytest

from multimodal_tf import explain
from tests.helpers import build_tiny, make_data, take


@pytest.mark.parametrize("seed", [0, 1])
def test_completeness_for_all_three_modalities(multimodal, seed):
    inputs, _ = make_data("multimodal", n=2, seed=seed)
    result = explain.integrated_gradients(multimodal, take(inputs, 0), steps=128)
    change = result.output - result.baseline_output
    assert set(result.totals) == {"image", "sequence", "text"}
    assert abs(result.convergence_delta) <= 0.01 * abs(change) + 1e-3, (
        result.convergence_delta,
        change,
    )
    assert np.isclose(sum(result.totals.values()), change, rtol=0.01, atol=1e-3)
    assert result.attributions["image"].shape == (12, 12, 1)
    assert result.attributions["sequence"].shape == (6, 3)
    assert result.attributions["text"].shape == (8,)
    # Padding, [CLS] and [SEP] are their own baseline: no attribution.
    mask = take(inputs, 0)["padding_mask"].astype(bool)
    real = np.flatnonzero(mask)
    assert np.all(result.attributions["text"][~mask] == 0)
    assert result.attributions["text"][real[0]] == 0 and result.attributions["text"][real[-1]] == 0


@pytest.mark.parametrize("kind", ["cnn", "lstm", "bert"])
def test_completeness_for_single_modality_classifiers(kind):
    keras.utils.set_random_seed(0)
    model = build_tiny(kind)
    inputs, _ = make_data(kind, n=1)
    result = explain.integrated_gradients(model, take(inputs, 0), steps=128, output="probability")
    change = result.output - result.baseline_output
    assert abs(result.convergence_delta) <= 0.01 * abs(change) + 1e-4


def test_completeness_over_the_encoded_tabular_columns():
    from multimodal_tf import build_multimodal_model

    keras.utils.set_random_seed(0)
    image = {"input_shape": (8, 8, 3), "filters": (4,), "dense_units": 8}
    model = build_multimodal_model(3, image=image, tabular={"num_features": 5}, fusion_dim=8)
    rng = np.random.default_rng(0)
    example = {
        "image": rng.random((8, 8, 3), np.float32),
        "image_present": np.float32(1.0),
        "tabular": rng.normal(size=5).astype(np.float32),
        "tabular_present": np.float32(1.0),
    }
    result = explain.integrated_gradients(model, example, steps=128)
    change = result.output - result.baseline_output
    assert set(result.totals) == {"image", "tabular"}
    assert result.attributions["tabular"].shape == (5,)
    assert abs(result.convergence_delta) <= 0.01 * abs(change) + 1e-3
