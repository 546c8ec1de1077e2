"""The tabular encoder: a dense branch over a FeatureSpace's encoding, fused like the others."""

import numpy as np
import pytest

from multimodal_tf import build_multimodal_model
from multimodal_tf.models.tabular import TabularEncoderConfig, build_tabular_encoder
from multimodal_tf.saving import load_model

IMAGE = {"input_shape": (8, 8, 3), "filters": (4,), "dense_units": 8}
TABULAR = {"num_features": 5, "units": (8,)}


def _batch(rows=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "image": rng.random((rows, 8, 8, 3), np.float32),
        "image_present": np.ones(rows, np.float32),
        "tabular": rng.normal(size=(rows, 5)).astype(np.float32),
        "tabular_present": np.array([1, 1, 0, 1][:rows], np.float32),
    }


def test_the_encoder_is_a_dense_branch_of_the_configured_width():
    encoder = build_tabular_encoder(TabularEncoderConfig(num_features=5, units=(16, 4)))
    assert encoder.input_shape == (None, 5) and encoder.output_shape == (None, 4)
    with pytest.raises(ValueError, match="`num_features`"):
        TabularEncoderConfig(num_features=0)
    with pytest.raises(ValueError, match="`dropout`"):
        TabularEncoderConfig(num_features=3, dropout=1.5)


@pytest.mark.parametrize("fusion", ["concat", "gated", "attention"])
def test_tabular_fuses_with_an_image_saves_and_reloads(fusion, tmp_path):
    model = build_multimodal_model(3, image=IMAGE, tabular=TABULAR, fusion=fusion, fusion_dim=8)
    assert {"tabular", "tabular_present"} <= set(model.input)
    batch = _batch()
    probabilities = model.predict_on_batch(batch)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    model.save(tmp_path / "model.keras")
    np.testing.assert_allclose(
        load_model(str(tmp_path / "model.keras")).predict_on_batch(batch), probabilities, atol=1e-6
    )


def test_an_absent_row_ignores_its_tabular_content():
    model = build_multimodal_model(3, image=IMAGE, tabular=TABULAR, fusion_dim=8)
    batch = _batch()
    garbage = dict(batch, tabular=batch["tabular"].copy())
    garbage["tabular"][2] = np.nan  # row 2 is marked absent
    np.testing.assert_allclose(
        model.predict_on_batch(garbage)[2], model.predict_on_batch(batch)[2], atol=1e-6
    )


def test_tabular_alone_trains():
    model = build_multimodal_model(2, tabular={"num_features": 5}, fusion_dim=16)
    rng = np.random.default_rng(1)
    features = rng.normal(size=(64, 5)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int32)
    inputs = {"tabular": features, "tabular_present": np.ones(64, np.float32)}
    history = model.fit(inputs, labels, epochs=30, batch_size=16, verbose=0).history
    assert history["accuracy"][-1] > 0.8
