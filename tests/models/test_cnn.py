import keras
import numpy as np
import pytest

from multimodal_tf import ImageEncoderConfig, build_cnn_classifier, build_image_encoder


@pytest.fixture(scope="module")
def document_model():
    return build_cnn_classifier()


def test_defaults_are_the_documents_model(document_model):
    assert document_model.count_params() == 93322
    summary = [(type(layer).__name__, layer.output.shape[1:]) for layer in document_model.layers]
    assert summary == [
        ("InputGuard", (28, 28, 1)),  # weightless: refuses NaN, see models/guards.py
        ("Conv2D", (26, 26, 32)),
        ("MaxPooling2D", (13, 13, 32)),
        ("Conv2D", (11, 11, 64)),
        ("MaxPooling2D", (5, 5, 64)),
        ("Conv2D", (3, 3, 64)),
        ("Flatten", (576,)),
        ("Dense", (64,)),
        ("Dense", (10,)),
    ]
    assert isinstance(document_model, keras.Sequential)
    assert document_model.layers[-1].activation is keras.activations.softmax


def test_compiled_like_the_document(document_model):
    assert isinstance(document_model.optimizer, keras.optimizers.Adam)
    assert float(document_model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert document_model.loss == "sparse_categorical_crossentropy"
    # The accuracy metric is built on the first evaluation.
    metrics = document_model.evaluate(
        np.zeros((2, 28, 28, 1)), np.zeros(2), verbose=0, return_dict=True
    )
    assert set(metrics) == {"loss", "accuracy"}


def test_encoder_is_the_classifier_without_its_head(document_model):
    encoder = build_image_encoder()
    assert [type(layer) for layer in encoder.layers] == [
        type(layer) for layer in document_model.layers[1:-1]
    ]
    assert encoder.output_shape == (None, 64)


def test_optional_knobs_build():
    model = build_cnn_classifier((32, 32, 3), 5, filters=(8, 16), dropout=0.5, batch_norm=True)
    layer_types = {type(layer).__name__ for layer in model.layers}
    assert {"BatchNormalization", "Dropout"} <= layer_types
    assert model.output_shape == (None, 5)


def test_uncompiled_on_request():
    assert not build_cnn_classifier(compile=False).compiled


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(input_shape=(28, 28)), "input_shape"),
        (dict(input_shape=(1, 28, 28, 1)), "input_shape"),
        (dict(input_shape=(28, -28, 1)), "input_shape"),
        (dict(input_shape=(8, 8, 1)), "input_shape"),
        (dict(num_classes=0), "num_classes"),
        (dict(num_classes=2.5), "num_classes"),
        (dict(filters=(32, -64)), "filters"),
        (dict(filters=()), "filters"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(dense_units=-1), "dense_units"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout="0.5"), "dropout"),
        (dict(batch_norm="yes"), "batch_norm"),
        (dict(augmentation="flips"), "augmentation"),
        (dict(augmentation={"flip": True}), "augmentation"),
        (dict(augmentation={"horizontal_flip": "yes"}), "horizontal_flip"),
        (dict(augmentation={"zoom": 1.5}), "zoom"),
        (dict(augmentation={"fill_mode": "white"}), "fill_mode"),
        (dict(augmentation={"fill_mode": "constant", "fill_value": 255}), "fill_value"),
        (dict(augmentation={"hue": 1.0}, input_shape=(28, 28, 3)), "hue"),
        (dict(augmentation={"erasing": -0.1}), "erasing"),
        (dict(augmentation={"grayscale": 0.2}), "grayscale"),  # on one-channel images
        (dict(augmentation={"hue": 0.5, "saturation": 0.3}), "hue`, `saturation"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(arguments, named):
    with pytest.raises(ValueError, match=f"`{named}`"):
        build_cnn_classifier(**arguments)


def test_config_validates_too():
    with pytest.raises(ValueError, match="`filters`"):
        ImageEncoderConfig(filters="32")


@pytest.fixture(scope="module")
def augmenting_model():
    return build_cnn_classifier((32, 32, 3), 4, filters=(4, 8), augmentation=True)


def test_augmentation_comes_first_and_never_flips(augmenting_model):
    names = [type(layer).__name__ for layer in augmenting_model.layers]
    assert names[:5] == [
        "InputGuard",
        "RandomTranslation",
        "RandomZoom",
        "RandomContrast",
        "RandomBrightness",
    ]
    assert not any("Flip" in name for name in names)
    assert (
        augmenting_model.count_params()
        == build_cnn_classifier((32, 32, 3), 4, filters=(4, 8)).count_params()
    )


def test_augmentation_is_active_in_training_only(augmenting_model):
    images = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
    augment = keras.Sequential(augmenting_model.layers[1:5])
    np.testing.assert_array_equal(augment(images, training=False), images)
    augmented = keras.ops.convert_to_numpy(augment(images, training=True))
    assert augmented.shape == images.shape and not np.allclose(augmented, images)
    np.testing.assert_allclose(
        augmenting_model.predict(images, verbose=0), augmenting_model.predict(images, verbose=0)
    )


def test_augmentation_settings_reach_the_layers():
    encoder = build_image_encoder(
        ImageEncoderConfig(
            (32, 32, 3),
            filters=(4,),
            augmentation={"translation": 0.2, "zoom": 0, "rotation": 0.05, "brightness": 0},
        )
    )
    translation, rotation, contrast = encoder.layers[:3]
    assert (translation.height_factor, translation.fill_mode) == (0.2, "nearest")
    assert type(rotation).__name__ == "RandomRotation" and rotation.factor == (-0.05, 0.05)
    assert type(contrast).__name__ == "RandomContrast" and contrast.value_range == (0, 1)
    mirroring = build_image_encoder(
        ImageEncoderConfig((32, 32, 3), filters=(4,), augmentation={"horizontal_flip": True})
    )
    assert (type(mirroring.layers[0]).__name__, mirroring.layers[0].mode) == (
        "RandomFlip",
        "horizontal",
    )


def test_style_options_add_colour_and_erasing_layers_after_the_default_ones():
    encoder = build_image_encoder(
        ImageEncoderConfig(
            (32, 32, 3),
            filters=(4,),
            augmentation={"hue": 0.5, "saturation": 0.4, "grayscale": 0.2, "erasing": 0.25},
        )
    )
    names = [type(layer).__name__ for layer in encoder.layers[:8]]
    assert names == [
        "RandomTranslation",
        "RandomZoom",
        "RandomContrast",
        "RandomBrightness",
        "RandomHue",
        "RandomSaturation",
        "RandomGrayscale",
        "RandomErasing",
    ]
    hue, saturation, grayscale, erasing = encoder.layers[4:8]
    assert hue.factor == (0.0, 0.5) and list(hue.value_range) == [0, 1]
    np.testing.assert_allclose(saturation.factor, (0.3, 0.7))  # saturation x3/7 to x7/3
    assert grayscale.factor == 0.2
    assert erasing.factor == (0.25, 0.25) and list(erasing.value_range) == [0, 1]


def test_style_options_change_colours_in_training_only():
    images = np.random.default_rng(1).uniform(size=(16, 16, 16, 3)).astype("float32")
    model = build_cnn_classifier(
        (16, 16, 3),
        3,
        filters=(4, 4),
        augmentation={
            "translation": 0,
            "zoom": 0,
            "contrast": 0,
            "brightness": 0,
            "grayscale": 0.99,
        },
    )
    grey = keras.ops.convert_to_numpy(model.layers[1](images, training=True))
    assert np.mean(np.ptp(grey, axis=-1) < 1e-5) > 0.9  # nearly every pixel's channels agree
    np.testing.assert_array_equal(model.layers[1](images, training=False), images)
