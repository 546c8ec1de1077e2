import keras
import keras_hub
import numpy as np
import pytest
from safetensors.numpy import load_file

from multimodal_tf import (
    TextEncoderConfig,
    build_bert_classifier,
    build_text_encoder,
    build_text_preprocessor,
)
from multimodal_tf.pretrained import minilm_checkpoint
from tests.helpers import TINY_TEXT, make_data


@pytest.fixture(scope="module")
def minilm_classifier():
    return build_bert_classifier(2, checkpoint=minilm_checkpoint(), sequence_length=32)


def test_inputs_outputs_and_the_documents_bugs_fixed():
    model = build_bert_classifier(3, **TINY_TEXT)
    assert sorted(model.input) == ["padding_mask", "segment_ids", "token_ids"]
    # One probability vector per text, not per token (the document's bug).
    assert model.output.shape == (None, 3)
    # The compiled model is the classifier, not the bare encoder (the other bug).
    assert model.compiled and model.get_layer("predictions") is model.layers[-1]


def test_pretrained_weights_are_loaded(minilm_classifier):
    backbone = minilm_classifier.get_layer("text_encoder").get_layer("bert_backbone")
    tensors = load_file(f"{minilm_checkpoint()}/model.safetensors")
    key = next(name for name in tensors if name.endswith("embeddings.word_embeddings.weight"))
    np.testing.assert_array_equal(
        backbone.get_layer("token_embedding").embeddings.numpy(), tensors[key]
    )
    assert backbone.num_layers == 6 and backbone.hidden_dim == 384


def test_raw_strings_to_probabilities(minilm_classifier):
    preprocessor = build_text_preprocessor(minilm_checkpoint(), sequence_length=32)
    probabilities = minilm_classifier.predict(
        preprocessor(["a moving, funny film", "dull and far too long"]), verbose=0
    )
    assert probabilities.shape == (2, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_fine_tuning_defaults_to_a_small_adamw_learning_rate(minilm_classifier):
    assert isinstance(minilm_classifier.optimizer, keras.optimizers.AdamW)
    assert float(minilm_classifier.optimizer.learning_rate) == pytest.approx(5e-5)


def test_frozen_encoder_keeps_its_weights():
    keras.utils.set_random_seed(0)
    model = build_bert_classifier(2, freeze_encoder=True, **TINY_TEXT)
    backbone = model.get_layer("text_encoder").get_layer("frozen_backbone").layer
    assert isinstance(backbone, keras_hub.models.BertBackbone)
    before = [weight.numpy().copy() for weight in backbone.weights]
    head_before = model.get_layer("predictions").kernel.numpy().copy()
    inputs, labels = make_data("bert", n=16)
    model.fit(inputs, labels, epochs=2, verbose=0)
    for old, new in zip(before, backbone.weights):
        np.testing.assert_array_equal(old, new.numpy())
    assert not np.array_equal(head_before, model.get_layer("predictions").kernel.numpy())
    # Frozen means inference mode too: the encoder's dropout is off in training.
    encoder = model.get_layer("text_encoder")
    np.testing.assert_array_equal(encoder(inputs, training=True), encoder(inputs, training=False))


@pytest.mark.parametrize("pooling", ["pooled", "cls", "mean"])
def test_pooling_modes(pooling):
    encoder = build_text_encoder(TextEncoderConfig(pooling=pooling, **TINY_TEXT))
    inputs, _ = make_data("bert", n=4)
    assert encoder.predict(inputs, verbose=0).shape == (4, TINY_TEXT["hidden_dim"])


def test_mean_pooling_ignores_padding():
    encoder = build_text_encoder(TextEncoderConfig(pooling="mean", **TINY_TEXT))
    inputs, _ = make_data("bert", n=2)
    inputs["padding_mask"][:] = 0
    inputs["padding_mask"][:, :3] = 1
    changed = {name: value.copy() for name, value in inputs.items()}
    changed["token_ids"][:, 3:] = 7  # content behind the padding mask
    np.testing.assert_allclose(
        encoder.predict(inputs, verbose=0),
        encoder.predict(changed, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(num_classes=0), "num_classes"),
        (dict(sequence_length=0), "sequence_length"),
        (dict(num_layers=-1), "num_layers"),
        (dict(hidden_dim=10, num_heads=4), "hidden_dim"),
        (dict(pooling="max"), "pooling"),
        (dict(dropout=2.0), "dropout"),
        (dict(freeze_encoder="no"), "freeze"),
        (dict(checkpoint="/no/such/folder"), "checkpoint"),
        (dict(checkpoint=3), "checkpoint"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(arguments, named):
    arguments = {"num_classes": 2, **arguments}
    with pytest.raises(ValueError, match=f"`{named}`"):
        build_bert_classifier(**arguments)


def test_incomplete_checkpoint_folder_names_the_missing_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"missing model\.safetensors, vocab\.txt"):
        build_bert_classifier(2, checkpoint=tmp_path)


def test_sequence_longer_than_the_checkpoint_allows():
    with pytest.raises(ValueError, match="`sequence_length` \\(1024\\)"):
        build_bert_classifier(2, checkpoint=minilm_checkpoint(), sequence_length=1024)
