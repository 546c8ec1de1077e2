"""Whether XLA compiles the step, decided per device and per model."""

import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf import training
from multimodal_tf.training import train
from tests.helpers import build_tiny, make_data
from tests.training.common import dataset, quiet


def test_xla_stays_off_for_16_bit_models_on_a_cpu(monkeypatch):
    monkeypatch.setattr(training.devices, "has_gpu", lambda: False)
    assert training.resolve_jit_compile(build_tiny("bert"), "auto") is True
    assert training.resolve_jit_compile(build_tiny("bert", dtype="mixed_bfloat16"), "auto") is False


def test_jit_compile_auto_follows_the_cpu_measurements():
    data = dataset()
    assert (
        train(lambda: build_tiny("cnn"), data, quiet(epochs=1)).jit_compile is False
    )  # convolutions
    forced = train(lambda: build_tiny("cnn"), data, quiet(epochs=1, jit_compile=True))
    assert forced.jit_compile is True
    assert np.isfinite(forced.history.history["loss"]).all()
    assert train(lambda: build_tiny("bert"), dataset("bert"), quiet(epochs=1)).jit_compile is True


@pytest.mark.slow
def test_xla_keeps_lstm_masking_exact():
    sequences, labels = make_data("lstm", n=32)
    data = tf.data.Dataset.from_tensor_slices((sequences, labels.astype("int32"))).batch(8)
    model = train(lambda: build_tiny("lstm"), data, quiet(epochs=1)).model
    assert model.jit_compile is True
    padded = np.concatenate(
        [sequences[:4], np.zeros((4, 5, sequences.shape[2]), "float32")], axis=1
    )
    np.testing.assert_allclose(
        model.predict(padded, verbose=0), model.predict(sequences[:4], verbose=0), atol=1e-5
    )


def test_label_smoothing_replaces_the_sparse_loss_and_trains():
    import keras

    from multimodal_tf.models.heads import SmoothedSparseCategoricalCrossentropy

    result = train(lambda: build_tiny("cnn"), dataset(), quiet(epochs=1, label_smoothing=0.2))
    loss = result.model.loss
    assert isinstance(loss, SmoothedSparseCategoricalCrossentropy) and loss.label_smoothing == 0.2
    assert np.isfinite(result.history.history["loss"]).all()
    probabilities = np.array([[0.7, 0.2, 0.1]], "float32")
    targets = np.array([[0.8, 0.1, 0.1]], "float32")  # 0.3 spread over 3 classes
    expected = -np.sum(targets * np.log(probabilities))
    smoothed = SmoothedSparseCategoricalCrossentropy(0.3)(np.array([0]), probabilities)
    np.testing.assert_allclose(float(smoothed), expected, rtol=1e-5)
    plain = SmoothedSparseCategoricalCrossentropy(0.0)(np.array([[2]]), probabilities)
    np.testing.assert_allclose(float(plain), -np.log(0.1), rtol=1e-5)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert restored.label_smoothing == 0.2


def test_label_smoothing_refuses_another_loss():
    import pytest

    model = build_tiny("cnn")
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"`label_smoothing`.*'mse'"):
        training.compile_model(model, quiet(label_smoothing=0.1))
