import keras
import numpy as np
import pytest

from multimodal_tf import build_multimodal_model
from tests.helpers import TINY_IMAGE, TINY_SEQUENCE, TINY_TEXT, build_tiny, make_data


def absent(inputs, modality):
    """The inputs with `modality` marked absent and its content blanked."""
    inputs = {name: value.copy() for name, value in inputs.items()}
    inputs[f"{modality}_present"][:] = 0.0
    names = ["token_ids", "padding_mask", "segment_ids"] if modality == "text" else [modality]
    for name in names:
        inputs[name][:] = 0
    return inputs


@pytest.fixture(scope="module")
def trained_with_modality_dropout():
    keras.utils.set_random_seed(0)
    model = build_multimodal_model(
        2,
        image=TINY_IMAGE,
        sequence=TINY_SEQUENCE,
        fusion="gated",
        fusion_dim=8,
        modality_dropout=0.5,
        learning_rate=1e-2,
        seed=0,
    )
    inputs, labels = make_data("multimodal", n=256)
    inputs = {
        name: inputs[name] for name in ("image", "image_present", "sequence", "sequence_present")
    }
    model.fit(inputs, labels, epochs=12, batch_size=32, verbose=0)
    test_inputs, test_labels = make_data("multimodal", n=128, seed=1)
    test_inputs = {name: test_inputs[name] for name in inputs}
    return model, test_inputs, test_labels


@pytest.mark.parametrize("missing", ["image", "sequence"])
def test_trained_with_modality_dropout_predicts_with_one_modality_absent(
    trained_with_modality_dropout, missing
):
    model, inputs, labels = trained_with_modality_dropout
    accuracy = model.evaluate(absent(inputs, missing), labels, verbose=0, return_dict=True)[
        "accuracy"
    ]
    assert accuracy > 0.9, accuracy


def test_deterministic_in_inference_with_every_modality_present(trained_with_modality_dropout):
    model, inputs, _ = trained_with_modality_dropout
    first = model.predict(inputs, verbose=0)
    np.testing.assert_array_equal(model.predict(inputs, verbose=0), first)
    np.testing.assert_allclose(
        np.asarray(model(inputs, training=False)), first, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("fusion", ["concat", "gated", "attention"])
def test_absent_modality_content_is_ignored_end_to_end(fusion):
    keras.utils.set_random_seed(0)
    model = build_tiny("multimodal", fusion=fusion)
    inputs, _ = make_data("multimodal", n=4)
    inputs["text_present"][:] = 0.0
    other = dict(inputs, token_ids=np.full_like(inputs["token_ids"], 9))
    np.testing.assert_allclose(
        model.predict(other, verbose=0), model.predict(inputs, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_any_subset_of_modalities_builds_with_the_matching_inputs():
    model = build_multimodal_model(3, text=TINY_TEXT, sequence=TINY_SEQUENCE)
    assert sorted(model.input) == [
        "padding_mask",
        "segment_ids",
        "sequence",
        "sequence_present",
        "text_present",
        "token_ids",
    ]
    single = build_multimodal_model(
        3, image=TINY_IMAGE, fusion="attention", num_heads=2, fusion_dim=8
    )
    assert sorted(single.input) == ["image", "image_present"]
    inputs, _ = make_data("multimodal", n=2)
    predictions = single.predict(
        {"image": inputs["image"], "image_present": inputs["image_present"]}, verbose=0
    )
    assert predictions.shape == (2, 3) and predictions.dtype == np.float32


def test_encoders_are_the_classifier_builders_encoders():
    from multimodal_tf import build_cnn_classifier

    model = build_multimodal_model(2, image=TINY_IMAGE)
    encoder = model.get_layer("image_encoder")
    classifier = build_cnn_classifier(num_classes=2, **TINY_IMAGE)
    # The classifier's first layer is its InputGuard; the multimodal model guards in front of
    # the encoder.
    assert [type(layer) for layer in encoder.layers] == [
        type(layer) for layer in classifier.layers[1:-1]
    ]
    assert (
        encoder.count_params() == classifier.count_params() - classifier.layers[-1].count_params()
    )


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(), "At least one modality"),
        (dict(image=TINY_IMAGE, fusion="sum"), "`fusion`"),
        (dict(image=TINY_IMAGE, modality_dropout=1.0), "`modality_dropout`"),
        (dict(image=TINY_IMAGE, fusion_dim=-8), "`fusion_dim`"),
        (dict(image={"input_shape": (28, 28)}), "`input_shape`"),
        (dict(image={"colour": True}), "`image` has an unknown field"),
        (dict(sequence=[3, 4]), "`sequence` must be None, a dict"),
        (dict(image=TINY_IMAGE, num_classes=0), "`num_classes`"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(arguments, match):
    arguments = {"num_classes": 2, **arguments}
    with pytest.raises(ValueError, match=match):
        build_multimodal_model(**arguments)
