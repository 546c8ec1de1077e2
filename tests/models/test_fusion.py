import keras
import numpy as np
import pytest

from multimodal_tf.models.fusion import ModalityDropout, ModalityFusion


def test_modality_dropout_is_the_identity_at_inference():
    presence = np.ones((8, 3), "float32")
    np.testing.assert_array_equal(ModalityDropout(0.9)(presence, training=False), presence)


def test_modality_dropout_drops_but_never_every_modality():
    presence = np.ones((4000, 3), "float32")
    presence[::2, 0] = 0.0  # some modalities already absent stay absent
    dropped = np.asarray(ModalityDropout(0.5, seed=0)(presence, training=True))
    assert np.all(dropped <= presence)
    assert np.all(dropped.sum(axis=1) >= 1)
    kept = dropped[presence == 1].mean()
    assert 0.4 < kept < 0.75, kept  # about 1 - rate, raised by the "keep one" rule


@pytest.mark.parametrize("mode", ["concat", "gated", "attention"])
def test_absent_modality_content_does_not_reach_the_output(mode):
    keras.utils.set_random_seed(0)
    layer = ModalityFusion(mode, fusion_dim=8, num_heads=2)
    rng = np.random.default_rng(0)
    features = [
        rng.normal(size=(5, 6)).astype("float32"),
        rng.normal(size=(5, 4)).astype("float32"),
    ]
    presence = np.array([[1, 0]] * 5, "float32")
    changed = [features[0], rng.normal(size=(5, 4)).astype("float32") * 100]
    nan = [features[0], np.full((5, 4), np.nan, "float32")]
    reference = np.asarray(layer(features, presence))
    np.testing.assert_allclose(np.asarray(layer(changed, presence)), reference, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layer(nan, presence)), reference, rtol=1e-6)
    # ...while a present modality's content does.
    assert not np.allclose(np.asarray(layer(features, np.ones((5, 2), "float32"))), reference)


@pytest.mark.parametrize("mode", ["concat", "gated", "attention"])
def test_no_modality_present_gives_finite_zeros_not_nan(mode):
    layer = ModalityFusion(mode, fusion_dim=8, num_heads=2)
    features = [np.ones((2, 3), "float32"), np.ones((2, 5), "float32")]
    fused = np.asarray(layer(features, np.zeros((2, 2), "float32")))
    assert np.all(np.isfinite(fused)) and np.all(fused == 0)


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(mode="sum"), "fusion"),
        (dict(fusion_dim=0), "fusion_dim"),
        (dict(mode="attention", fusion_dim=10, num_heads=4), "fusion_dim"),
        (dict(num_heads=0), "num_heads"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(arguments, named):
    with pytest.raises(ValueError, match=f"`{named}`"):
        ModalityFusion(**arguments)
