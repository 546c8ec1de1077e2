"""Bad inputs the other test files do not already try (docs/robustness.md lists them all).

Each test is one row of docs/robustness.md; `test_every_row_names_a_test`
keeps that table and the tests in step.
"""

import ast
import dataclasses
import json
import pathlib
import re

import keras
import numpy as np
import pytest

from multimodal_tf import (
    build_cnn_classifier,
    build_lstm_classifier,
    build_text_preprocessor,
    load_model,
)
from multimodal_tf.data.pipeline import BadRecordError, records_to_dataset
from multimodal_tf.runs import RunConfig, predict_run
from tests.helpers import build_tiny, make_data
from tests.models.test_bert_tokenizer import TINY_VOCAB

ROOT = pathlib.Path(__file__).parent.parent


def write_run(folder, model, config: RunConfig, **facts):
    """A run folder as `train_run` writes it, for a tiny model (no dataset needed)."""
    folder.mkdir()
    model.save(folder / "model.keras")
    metrics = {
        "config": {**dataclasses.asdict(config), "kind": config.kind},
        "text_checkpoint": None,
        **facts,
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return str(folder)


@pytest.fixture(scope="module")
def sequence_run(tmp_path_factory):
    model = build_lstm_classifier(None, 3, 9, units=(4, 4))
    config = RunConfig(dataset="japanese_vowels", model="classifier")
    facts = dict(class_names=[str(index) for index in range(1, 10)], num_features=3)
    return write_run(tmp_path_factory.mktemp("runs") / "lstm", model, config, **facts)


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    model = build_cnn_classifier((28, 28, 1), 10, filters=(4, 8), dense_units=8)
    config = RunConfig(dataset="fashion_mnist", model="classifier")
    facts = dict(class_names=[f"class {index}" for index in range(10)], image_shape=[28, 28, 1])
    return write_run(tmp_path_factory.mktemp("runs") / "cnn", model, config, **facts)


@pytest.mark.parametrize(
    "value, match",
    [
        (np.array([[1.0, np.nan, 1.0]]), "NaN or infinity at time step 0"),
        (np.array([[1.0, 1.0, 1.0], [np.inf, 0.0, 1.0]]), "NaN or infinity at time step 1"),
        (np.ones((4, 5)), "5 features, expected 3"),
        (np.ones(4), r"shape \(4,\), expected \(time >= 1, features\)"),
        (np.ones((0, 3)), r"shape \(0, 3\)"),
        (np.array([["a", "b", "c"]]), "not numeric"),
    ],
)
def test_predict_refuses_a_bad_sequence_file(sequence_run, tmp_path, value, match):
    path = tmp_path / "sequence.npy"
    np.save(path, value)
    with pytest.raises(ValueError, match=rf"input '.*sequence.npy', field 'sequence': {match}"):
        predict_run(sequence_run, [str(path)])


def test_predict_refuses_a_pickled_or_foreign_npy(sequence_run, tmp_path):
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"code": "anything"}], dtype=object), allow_pickle=True)
    not_npy = tmp_path / "text.npy"
    not_npy.write_text("not an array")
    with pytest.raises(ValueError, match=r"not a readable numeric \.npy array"):
        predict_run(sequence_run, [str(pickled)])
    with pytest.raises(ValueError, match=r"is not a .npy file \(it lacks the .npy header\)"):
        predict_run(sequence_run, [str(not_npy)])
    good = tmp_path / "good.npy"
    np.save(good, np.random.default_rng(0).normal(size=(7, 3)))
    [(_, name, probability)] = predict_run(sequence_run, [str(good)])
    assert name in [str(index) for index in range(1, 10)] and 0 < probability <= 1


def test_predict_refuses_a_corrupt_image_file_and_resizes_a_good_one(image_run, tmp_path):
    from PIL import Image

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ValueError, match=r"cannot read image file .*broken\.png"):
        predict_run(image_run, [str(broken)])
    Image.new("RGBA", (50, 30), (0, 0, 0, 128)).save(tmp_path / "big_rgba.png")
    [(_, name, probability)] = predict_run(image_run, [str(tmp_path / "big_rgba.png")])
    assert name.startswith("class") and 0 < probability <= 1
    with pytest.raises(ValueError, match="is text, but this model takes image"):
        predict_run(image_run, ["a caption"])


@pytest.mark.parametrize(
    "image, match",
    [
        (np.zeros((4, 4, 3), np.uint8), r"shape \(4, 4, 3\), expected \(4, 4, 1\)"),
        (np.full((4, 4, 1), np.inf, np.float32), "contains NaN or infinity"),
        (np.zeros((4, 4, 1), np.int64), "dtype int64, expected uint8 or float"),
    ],
)
def test_wrong_channels_infinity_and_dtype_in_images_are_bad_records(image, match):
    columns = {"image": [np.zeros((4, 4, 1), np.uint8), image]}
    with pytest.raises(BadRecordError, match=f"record 1, field 'image': {match}"):
        records_to_dataset(columns, [0, 1])


def test_text_longer_than_the_sequence_length_is_truncated_keeping_sep():
    preprocessor = build_text_preprocessor(TINY_VOCAB, sequence_length=8)
    long = " ".join(["hello world"] * 50)
    short = "hello world"
    tokens = preprocessor([long, short])
    ids = np.asarray(tokens["token_ids"])
    assert ids.shape == (2, 8)
    sep = TINY_VOCAB.index("[SEP]")
    assert ids[0, 0] == TINY_VOCAB.index("[CLS]") and ids[0, -1] == sep
    assert np.asarray(tokens["padding_mask"])[0].all()
    assert ids[1, 3] == sep and not np.asarray(tokens["padding_mask"])[1, 4:].any()


def test_empty_and_blank_text_count_as_missing_not_as_data():
    features = next(
        iter(
            records_to_dataset(
                {"text": ["hello", "", "   "], "image": [np.zeros((4, 4, 1), np.uint8)] * 3},
                [0, 1, 0],
                batch_size=3,
                text_preprocessor=build_text_preprocessor(TINY_VOCAB, sequence_length=8),
            )
        )
    )[0]
    np.testing.assert_array_equal(features["text_present"], [1, 0, 0])


def test_nan_in_an_absent_modality_is_never_read():
    keras.utils.set_random_seed(0)
    model = build_tiny("multimodal")
    inputs, _ = make_data("multimodal", n=4)
    inputs["image_present"][:] = 0.0
    clean = model.predict(inputs, verbose=0)
    poisoned = {**inputs, "image": np.full_like(inputs["image"], np.nan)}
    np.testing.assert_allclose(model.predict(poisoned, verbose=0), clean, rtol=1e-6)


def test_the_serving_signature_refuses_nan_sequences(sequence_run, tmp_path):
    import tensorflow as tf

    from multimodal_tf.runs.export import export_savedmodel

    serve = tf.saved_model.load(
        export_savedmodel(sequence_run, str(tmp_path / "served"))
    ).signatures["serving_default"]
    good = np.random.default_rng(0).normal(size=(1, 5, 3)).astype("float32")
    assert serve(sequence=tf.constant(good))["class_name"].shape == (1,)
    good[0, 2, 1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="`sequence` contains NaN or infinity"):
        serve(sequence=tf.constant(good))


def test_wrong_image_size_or_channels_into_a_model_is_a_keras_value_error():
    model = build_tiny("cnn")
    with pytest.raises(ValueError, match="is incompatible with the layer"):
        model.predict(np.zeros((1, 10, 12, 1), np.float32), verbose=0)
    multimodal = build_tiny("multimodal")
    inputs, _ = make_data("multimodal", n=1)
    with pytest.raises(
        ValueError, match=r"expected axis -1 of input shape to have value 1, but received .* 3"
    ):
        multimodal.predict({**inputs, "image": np.zeros((1, 12, 12, 3), np.float32)}, verbose=0)


def test_a_keras_file_with_code_loads_only_when_safe_mode_is_turned_off(tmp_path):
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    path = str(tmp_path / "unknown_source.keras")
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(path)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(path)
    trusted = keras.saving.load_model(path, safe_mode=False)  # the user's explicit decision
    np.testing.assert_allclose(trusted.predict(np.ones((1, 3)), verbose=0), 2.0)
    with pytest.raises(ValueError, match=r"must name a \.keras file"):
        load_model(str(tmp_path / "model.h5"))


def _tests_defined():
    names = set()
    for path in ROOT.glob("tests/**/test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {
            f"{path.relative_to(ROOT)}::{node.name}"
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
        }
    return names


def test_every_row_names_a_test():
    table = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    rows = [
        line
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| bad input")
    ]
    assert len(rows) >= 20
    defined = _tests_defined()
    for row in rows:
        named = re.findall(r"`(tests/[\w/]+\.py::\w+)`", row)
        assert named, f"row without a test: {row}"
        missing = [test for test in named if test not in defined]
        assert not missing, f"row names tests that do not exist: {missing}"
