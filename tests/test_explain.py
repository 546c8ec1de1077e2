"""Integrated gradients, presence Shapley values and Grad-CAM (multimodal_tf.explain)."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from multimodal_tf import explain  # noqa: E402
from tests.helpers import build_tiny, make_data, make_images, make_sequences, make_text, take  # noqa: E402


@pytest.fixture(scope="module")
def multimodal():
    keras.utils.set_random_seed(0)
    return build_tiny("multimodal")


@pytest.fixture(scope="module")
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


@pytest.mark.parametrize("seed", [0, 1])
def test_completeness_for_all_three_modalities(multimodal, seed):
    inputs, _ = make_data("multimodal", n=2, seed=seed)
    result = explain.integrated_gradients(multimodal, take(inputs, 0), steps=128)
    change = result.output - result.baseline_output
    assert set(result.totals) == {"image", "sequence", "text"}
    assert abs(result.convergence_delta) <= 0.01 * abs(change) + 1e-3, (result.convergence_delta, change)
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


def test_planted_signal_is_found_by_every_explainer(planted):
    model, inputs, labels = planted
    shares, shapley = [], []
    for row in range(8):
        example = take(inputs, row)
        result = explain.integrated_gradients(model, example, target=int(labels[row]), steps=32)
        magnitudes = {m: abs(total) for m, total in result.totals.items()}
        shares.append(magnitudes["image"] / sum(magnitudes.values()))
        contributions = explain.modality_contributions(model, example, target=int(labels[row]))
        shapley.append(max(contributions["contributions"], key=lambda m: abs(contributions["contributions"][m])))
    assert np.median(shares) > 0.6, shares
    assert shapley.count("image") >= 7, shapley


def test_grad_cam_lights_up_the_planted_half(planted):
    model, inputs, labels = planted
    inside = []
    for row in range(8):
        heatmap = explain.grad_cam(model, take(inputs, row), target=int(labels[row]))
        assert heatmap.shape == (12, 12) and heatmap.min() >= 0 and heatmap.max() <= 1
        half = 6 * int(labels[row])
        inside.append(heatmap[:, half: half + 6].sum() / max(heatmap.sum(), 1e-9))
    assert np.mean(inside) > 0.5, inside


def test_shapley_values_add_up(multimodal):
    inputs, _ = make_data("multimodal", n=1)
    result = explain.modality_contributions(multimodal, take(inputs, 0), target=1)
    total = sum(result["contributions"].values())
    assert np.isclose(total, result["outputs"]["image+sequence+text"] - result["outputs"]["none"], atol=1e-5)
    assert len(result["outputs"]) == 8


def test_grad_cam_on_the_cnn():
    keras.utils.set_random_seed(0)
    model = build_tiny("cnn")
    images, _ = make_data("cnn", n=1)
    heatmap = explain.grad_cam(model, images[0])
    assert heatmap.shape == (12, 12) and heatmap.dtype == np.float32


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


def test_plots_draw(multimodal):
    import matplotlib.pyplot as plt

    inputs, _ = make_data("multimodal", n=1)
    example = take(inputs, 0)
    result = explain.integrated_gradients(multimodal, example, steps=8)
    _, axes = plt.subplots(1, 4, figsize=(12, 3))
    explain.plot_image_attribution(example["image"], result.attributions["image"], ax=axes[0], title="IG")
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
