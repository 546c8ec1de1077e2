import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf.models.guards import InputGuard
from tests.helpers import IMAGE_SHAPE, build_tiny, make_data, take


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    return build_tiny("cnn")


@pytest.fixture(scope="module")
def broken_images():
    images, _ = make_data("cnn", n=3)
    images[1, 4, 4, 0] = np.nan
    images[2, 0, 0, 0] = np.inf
    return images


@pytest.mark.tensorflow_only
def test_without_the_guard_max_pooling_hides_a_nan_pixel(cnn, broken_images):
    # Why the guard exists: the same layers, minus the guard, predict a finite class
    # (TensorFlow's max pooling skips NaN; XLA's, hence JAX's, propagates it).
    unguarded = keras.Sequential([keras.Input(IMAGE_SHAPE), *cnn.layers[1:]])
    assert np.isfinite(unguarded.predict(broken_images[:2], verbose=0)).all()


@pytest.mark.tensorflow_only
def test_the_cnn_refuses_nan_and_infinity_naming_the_input_and_the_examples(cnn, broken_images):
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"`image` holds NaN or infinity.*\] \[1 2\]"
    ):
        cnn.predict(broken_images, verbose=0)
    assert cnn.predict(broken_images[:1], verbose=0).shape == (1, 2)


def test_under_xla_the_broken_examples_come_out_nan_and_the_others_unchanged(broken_images):
    keras.utils.set_random_seed(0)
    model = build_tiny("cnn")
    expected = model.predict(broken_images[:1], verbose=0)
    model.compile(loss="sparse_categorical_crossentropy", jit_compile=True)
    predictions = model.predict(broken_images, verbose=0)
    np.testing.assert_allclose(predictions[:1], expected, rtol=1e-5)
    assert np.isnan(predictions[1:]).all()


@pytest.mark.tensorflow_only
def test_the_lstm_refuses_nan():
    model = build_tiny("lstm")
    sequences, _ = make_data("lstm", n=2)
    sequences[0, 3, 1] = np.nan
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"`sequence` holds NaN or infinity.*\] \[0\]"
    ):
        model.predict(sequences, verbose=0)


@pytest.fixture(scope="module")
def multimodal():
    keras.utils.set_random_seed(0)
    return build_tiny("multimodal")


@pytest.mark.tensorflow_only
def test_multimodal_refuses_nan_in_a_present_image_only(multimodal):
    inputs, _ = make_data("multimodal", n=3)
    inputs["image"][2] = np.nan
    inputs["image_present"][2] = 0.0
    assert np.isfinite(multimodal.predict(inputs, verbose=0)).all()
    inputs["image_present"][2] = 1.0
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"`image` holds NaN or infinity.*\] \[2\]"
    ):
        multimodal.predict(inputs, verbose=0)


@pytest.mark.slow
def test_training_with_nan_marking_absent_images_keeps_the_weights_finite():
    # NaN as the "missing" marker: without the guard's blanking, NaN in the
    # unused branch of the fusion's `where` made every gradient NaN.
    keras.utils.set_random_seed(0)
    model = build_tiny("multimodal")
    inputs, labels = make_data("multimodal", n=16)
    inputs["image"][::2] = np.nan
    inputs["image_present"][::2] = 0.0
    history = model.fit(inputs, labels, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.isfinite(weight).all() for weight in model.get_weights())
    assert np.isfinite(model.predict(take(inputs, slice(0, 4)), verbose=0)).all()


def test_absent_examples_come_out_as_zeros_and_present_ones_unchanged():
    content = np.array([[1.5, -2.0], [np.nan, np.inf]], "float32")
    out = keras.ops.convert_to_numpy(
        InputGuard("sequence")(content, np.array([1.0, 0.0], "float32"))
    )
    np.testing.assert_array_equal(out, [[1.5, -2.0], [0.0, 0.0]])


def test_large_finite_values_pass_under_float16_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        guard = InputGuard("sequence")
        out = guard(np.full((1, 2, 2), 1e6, "float32"))  # beyond float16's 65504
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert guard.compute_dtype == "float32"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), 1e6)


def test_config_round_trip_and_a_bad_field():
    guard = InputGuard.from_config(InputGuard("image", name="g").get_config())
    assert (guard.field, guard.name) == ("image", "g")
    with pytest.raises(ValueError, match="`field` must be a non-empty string"):
        InputGuard("")
