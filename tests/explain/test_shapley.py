"""Presence Shapley values add up, and find the one modality that carries the label."""

import numpy as np

from multimodal_tf import explain
from tests.helpers import make_data, take


def test_shapley_values_add_up(multimodal):
    inputs, _ = make_data("multimodal", n=1)
    result = explain.modality_contributions(multimodal, take(inputs, 0), target=1)
    total = sum(result["contributions"].values())
    assert np.isclose(
        total, result["outputs"]["image+sequence+text"] - result["outputs"]["none"], atol=1e-5
    )
    assert len(result["outputs"]) == 8


def test_planted_signal_is_found_by_every_explainer(planted):
    model, inputs, labels = planted
    shares, shapley = [], []
    for row in range(8):
        example = take(inputs, row)
        result = explain.integrated_gradients(model, example, target=int(labels[row]), steps=32)
        magnitudes = {m: abs(total) for m, total in result.totals.items()}
        shares.append(magnitudes["image"] / sum(magnitudes.values()))
        contributions = explain.modality_contributions(model, example, target=int(labels[row]))
        shapley.append(
            max(
                contributions["contributions"], key=lambda m: abs(contributions["contributions"][m])
            )
        )
    assert np.median(shares) > 0.6, shares
    assert shapley.count("image") >= 7, shapley
