import keras
import numpy as np
import pytest

from multimodal_tf import SequenceEncoderConfig, build_lstm_classifier, build_sequence_encoder


@pytest.fixture(scope="module")
def variable_length_model():
    keras.utils.set_random_seed(3)
    return build_lstm_classifier(None, num_features=4, num_classes=3, units=(8, 8))


def test_document_structure_and_parameter_count():
    model = build_lstm_classifier(20, num_features=12)
    lstm_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.units for layer in lstm_layers] == [64, 64]
    assert [layer.return_sequences for layer in lstm_layers] == [True, False]
    assert [type(layer).__name__ for layer in model.layers[:2]] == ["InputGuard", "Masking"]
    # LSTM(64) on 12 features + LSTM(64) on 64 + Dense(10): the document's model.
    expected = 4 * 64 * (12 + 64 + 1) + 4 * 64 * (64 + 64 + 1) + 64 * 10 + 10
    assert model.count_params() == expected
    assert model.output_shape == (None, 10)


def test_padding_does_not_change_the_prediction(variable_length_model):
    rng = np.random.default_rng(0)
    sequence = rng.normal(size=(1, 5, 4)).astype("float32")
    padded = np.concatenate([sequence, np.zeros((1, 7, 4), "float32")], axis=1)
    np.testing.assert_allclose(
        variable_length_model.predict(padded, verbose=0),
        variable_length_model.predict(sequence, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_a_batch_of_different_lengths_matches_each_sequence_alone(variable_length_model):
    rng = np.random.default_rng(1)
    lengths = [3, 9, 6]
    sequences = [rng.normal(size=(1, n, 4)).astype("float32") for n in lengths]
    batch = np.zeros((3, max(lengths), 4), "float32")
    for row, sequence in enumerate(sequences):
        batch[row, : lengths[row]] = sequence[0]
    alone = np.concatenate([variable_length_model.predict(s, verbose=0) for s in sequences])
    np.testing.assert_allclose(
        variable_length_model.predict(batch, verbose=0), alone, rtol=1e-5, atol=1e-6
    )


def test_a_custom_mask_value_is_honoured():
    model = build_lstm_classifier(None, 2, 2, units=(4,), mask_value=-1.0)
    sequence = np.ones((1, 3, 2), "float32")
    padded = np.concatenate([sequence, -np.ones((1, 2, 2), "float32")], axis=1)
    np.testing.assert_allclose(
        model.predict(padded, verbose=0), model.predict(sequence, verbose=0), rtol=1e-5
    )


def test_bidirectional_encoder_doubles_the_width():
    encoder = build_sequence_encoder(
        SequenceEncoderConfig(None, 3, units=(8, 16), bidirectional=True)
    )
    assert encoder.output_shape == (None, 32)


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(sequence_length=0, num_features=3), "sequence_length"),
        (dict(sequence_length=10, num_features=-3), "num_features"),
        (dict(sequence_length=10, num_features=3, num_classes=0), "num_classes"),
        (dict(sequence_length=10, num_features=3, units=(64, 0)), "units"),
        (dict(sequence_length=10, num_features=3, dropout=-0.1), "dropout"),
        (dict(sequence_length=10, num_features=3, mask_value=float("nan")), "mask_value"),
        (dict(sequence_length=10, num_features=3, bidirectional=1), "bidirectional"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(arguments, named):
    with pytest.raises(ValueError, match=f"`{named}`"):
        build_lstm_classifier(**arguments)


def test_in_model_standardisation_keeps_padding_invisible():
    keras.utils.set_random_seed(0)
    model = build_lstm_classifier(
        None, 2, 3, units=(4,), feature_mean=(5.0, -1.0), feature_variance=(4.0, 0.25)
    )
    assert any(isinstance(layer, keras.layers.Normalization) for layer in model.layers)
    sequence = np.array([[[5.0, -1.0], [7.0, -0.5], [3.0, -1.5]]], "float32")
    padded = np.concatenate([sequence, np.zeros((1, 4, 2), "float32")], axis=1)
    np.testing.assert_allclose(
        model.predict(padded, verbose=0), model.predict(sequence, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(feature_mean=(0.0, 0.0)), "feature_mean"),  # without variance
        (dict(feature_mean=(0.0,), feature_variance=(1.0,)), "feature_mean"),  # wrong length
        (dict(feature_mean=(0.0, 0.0), feature_variance=(1.0, 0.0)), "feature_variance"),
        (dict(feature_mean=("a", 0.0), feature_variance=(1.0, 1.0)), "feature_mean"),
    ],
)
def test_bad_statistics_are_refused(arguments, named):
    with pytest.raises(ValueError, match=f"`{named}`"):
        build_lstm_classifier(None, 2, **arguments)
