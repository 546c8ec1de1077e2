"""The plots draw, and refuse a heat map of the wrong shape."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from multimodal_tf import explain
from tests.helpers import make_data, take


def test_plots_draw(multimodal):
    import matplotlib.pyplot as plt

    inputs, _ = make_data("multimodal", n=1)
    example = take(inputs, 0)
    result = explain.integrated_gradients(multimodal, example, steps=8)
    _, axes = plt.subplots(1, 4, figsize=(12, 3))
    explain.plot_image_attribution(
        example["image"], result.attributions["image"], ax=axes[0], title="IG"
    )
    explain.plot_sequence_attribution(result.attributions["sequence"], ax=axes[1])
    vocabulary = [f"w{index}" for index in range(40)]
    tokens = explain.token_strings(example["token_ids"], vocabulary, example["padding_mask"])
    assert len(tokens) == int(example["padding_mask"].sum())
    explain.plot_token_attribution(tokens, result.attributions["text"], ax=axes[2])
    explain.plot_modality_contributions(result.totals, ax=axes[3])
    assert axes[3].patches and axes[2].texts
    with pytest.raises(ValueError, match="heatmap"):
        explain.plot_image_attribution(example["image"], np.zeros((3, 3)))
    plt.close("all")
