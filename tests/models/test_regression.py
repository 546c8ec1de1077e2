"""A regression head: `build_multimodal_model(task="regression")` on a user's float targets."""

import numpy as np
import pandas as pd
import pytest

from multimodal_tf import build_multimodal_model
from multimodal_tf.data import from_dataframe
from multimodal_tf.models import is_regressor
from multimodal_tf.saving import load_model
from multimodal_tf.training import TrainingConfig, train
from tests.data.user.helpers import write_image

IMAGE = {"input_shape": (16, 16, 3), "filters": (4,), "dense_units": 8}


@pytest.fixture(scope="module")
def prices(tmp_path_factory):
    """30 photos whose price grows with their brightness (a float target)."""
    folder = tmp_path_factory.mktemp("prices")
    rows = []
    for index in range(30):
        value = 8 * index
        write_image(folder / f"{index}.png", size=20, value=value)
        rows.append({"image": f"{index}.png", "price": round(2.5 + value / 10, 2)})
    frame = pd.DataFrame(rows)
    return from_dataframe(
        frame, "price", image_root=str(folder), image_size=(16, 16), batch_size=8, task="regression"
    )


def test_the_head_starts_at_the_targets_mean_and_learns_past_it(prices):
    statistics = prices.target_statistics()
    targets = np.concatenate([target for _, target in prices.train.as_numpy_iterator()])
    np.testing.assert_allclose(statistics["target_mean"], targets.mean(), rtol=1e-5)
    np.testing.assert_allclose(statistics["target_std"], targets.std(), rtol=1e-4)

    def build():
        return build_multimodal_model(
            None, image=IMAGE, task="regression", fusion_dim=8, **statistics
        )

    features, _ = next(prices.test.as_numpy_iterator())  # numpy: any backend
    before = build().predict_on_batch(features)
    np.testing.assert_allclose(before, statistics["target_mean"], rtol=1e-5)
    result = train(build, prices.train, TrainingConfig(epochs=30, verbose=0))
    assert result.history.history["rmse"][-1] < 0.8 * statistics["target_std"]


def test_target_statistics_are_checked_and_a_classes_label_has_none(tmp_path):
    with pytest.raises(ValueError, match="`target_std` must be at least 0"):
        build_multimodal_model(None, image=IMAGE, task="regression", target_std=-1.0)
    with pytest.raises(ValueError, match="`target_mean` must be a finite number"):
        build_multimodal_model(None, image=IMAGE, task="regression", target_mean=float("nan"))
    frame = pd.DataFrame({"text": ["good", "bad"] * 6, "label": ["a", "b"] * 6})
    with pytest.raises(ValueError, match="'label' holds classes"):
        from_dataframe(frame, "label", text_column="text").target_statistics()


def test_a_regressor_has_one_float32_output_and_trains_with_mse_mae_and_rmse(prices):
    assert prices.class_names is None and prices.num_classes is None
    model = build_multimodal_model(None, image=IMAGE, task="regression", fusion_dim=8)
    assert is_regressor(model) and model.output_shape == (None, 1)
    assert not is_regressor(build_multimodal_model(3, image=IMAGE, fusion_dim=8))
    result = train(
        lambda: build_multimodal_model(None, image=IMAGE, task="regression", fusion_dim=8),
        prices.train,
        TrainingConfig(epochs=3, verbose=0),
        validation_data=prices.validation,
    )
    history = result.history.history
    assert {"loss", "mae", "rmse", "val_mae", "val_rmse"} <= set(history)
    assert "accuracy" not in history
    assert all(np.isfinite(value) for values in history.values() for value in values)
    np.testing.assert_allclose(history["rmse"][-1] ** 2, history["loss"][-1], rtol=0.1)
    scores = result.model.evaluate(prices.test, return_dict=True, verbose=0)
    assert set(scores) >= {"mae", "rmse"}


def test_a_regressor_saves_and_reloads(prices, tmp_path):
    model = build_multimodal_model(None, image=IMAGE, task="regression", fusion_dim=8)
    features, _ = next(iter(prices.test))
    features = {name: value.numpy() for name, value in features.items()}  # any backend
    model.save(tmp_path / "regressor.keras")
    reloaded = load_model(str(tmp_path / "regressor.keras"))
    assert is_regressor(reloaded)
    np.testing.assert_allclose(
        reloaded.predict_on_batch(features), model.predict_on_batch(features), atol=1e-6
    )


def test_bad_tasks_name_the_argument():
    with pytest.raises(ValueError, match="`task`"):
        build_multimodal_model(3, image=IMAGE, task="ranking")
    with pytest.raises(ValueError, match=r"`num_classes` must be None \(or 1\)"):
        build_multimodal_model(3, image=IMAGE, task="regression")
