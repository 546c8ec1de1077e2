"""A user's records, frames and CSV files become checked pipelines; bad records are named."""

import warnings

import numpy as np
import pandas as pd
import pytest

from multimodal_tf import build_text_preprocessor
from multimodal_tf.data.pipeline import (
    BadRecordError,
    dataframe_to_dataset,
    records_to_dataset,
)
from tests.models.test_bert_tokenizer import TINY_VOCAB


@pytest.fixture(scope="module")
def preprocessor():
    return build_text_preprocessor(TINY_VOCAB, sequence_length=8)


def first_batch(dataset):
    return next(iter(dataset))


def image(value=0):
    return np.full((4, 4, 1), value, np.uint8)


def test_presence_flags_come_from_the_data(preprocessor):
    columns = {
        "image": [image(255), None, image(0), image(10)],
        "sequence": [np.ones((3, 2)), np.ones((5, 2)) * 2, float("nan"), np.ones((1, 2))],
        "text": ["hello world", "", "the movie", None],
    }
    dataset = records_to_dataset(
        columns, [0, 1, 2, 1], text_preprocessor=preprocessor, batch_size=4
    )
    assert dataset.options().autotune.enabled is False  # ends in `prefetched`
    features, labels = first_batch(dataset)
    np.testing.assert_array_equal(features["image_present"], [1, 0, 1, 1])
    np.testing.assert_array_equal(features["sequence_present"], [1, 1, 0, 1])
    np.testing.assert_array_equal(features["text_present"], [1, 0, 1, 0])
    np.testing.assert_allclose(features["image"][0], 1.0)  # uint8 scaled to [0, 1]
    assert features["sequence"].shape == (4, 5, 2)  # padded to the longest in the batch
    np.testing.assert_array_equal(features["sequence"][0, 3:], 0.0)
    assert features["token_ids"].shape == (4, 8)
    assert features["token_ids"][0, 1] == TINY_VOCAB.index("hello")
    np.testing.assert_array_equal(labels, [0, 1, 2, 1])


def test_features_only_without_labels():
    features = first_batch(records_to_dataset({"image": [image(), image()]}, batch_size=2))
    assert set(features) == {"image", "image_present"}


def test_a_pandas_frame():
    frame = pd.DataFrame(
        {
            "text": ["a b", None, "c"],
            "sequence": [np.ones((2, 3)), np.ones((4, 3)), None],
            "label": [0, 1, 0],
        }
    )
    features, labels = first_batch(dataframe_to_dataset(frame, batch_size=3))
    np.testing.assert_array_equal(features["text_present"], [1, 0, 1])
    np.testing.assert_array_equal(features["sequence_present"], [1, 1, 0])
    assert features["text"].numpy().tolist() == [b"a b", b"", b"c"]
    np.testing.assert_array_equal(labels, [0, 1, 0])


@pytest.mark.parametrize(
    "columns, labels, match",
    [
        (
            {"image": [image(), np.zeros((5, 4, 1), np.uint8)]},
            [0, 1],
            "record 1, field 'image': shape",
        ),
        (
            {"image": [image(), np.full((4, 4, 1), np.nan, np.float32)]},
            [0, 1],
            "record 1, field 'image': contains NaN",
        ),
        (
            {"image": [image(), np.full((4, 4, 1), 7.0, np.float32)]},
            [0, 1],
            "record 1, field 'image': float values",
        ),
        (
            {"sequence": [np.ones((2, 3)), np.array([[1, np.inf, 1]])]},
            [0, 1],
            "record 1, field 'sequence': NaN or infinity at time step 0",
        ),
        (
            {"sequence": [np.ones((2, 3)), np.ones((2, 4))]},
            [0, 1],
            "record 1, field 'sequence': 4 features, expected 3",
        ),
        (
            {"sequence": [np.ones((2, 3)), np.zeros((2, 3))]},
            [0, 1],
            "record 1, field 'sequence': time step 0 equals mask_value",
        ),
        ({"text": ["fine", 42]}, [0, 1], "record 1, field 'text': int, expected a string"),
        ({"text": ["fine", "also fine"]}, [0, 5], "record 1, field 'label': 5, expected 0..2"),
        ({"text": ["fine", "also fine"]}, [0, "1"], "record 1, field 'label': '1'"),
        ({"text": ["fine", "also fine"]}, [0, 1.5], "record 1, field 'label': 1.5"),
        ({"text": ["fine", None]}, [0, 1], "record 1: every modality"),
    ],
)
def test_bad_records_are_named_by_index_and_field(columns, labels, match):
    with pytest.raises(BadRecordError, match=match):
        records_to_dataset(columns, labels, num_classes=3)


def test_bad_records_can_be_skipped_and_counted():
    skipped = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = records_to_dataset(
            {"text": ["good", 7, "fine", None]},
            [0, 1, 1, 0],
            on_bad_record="skip",
            skipped=skipped,
            batch_size=8,
        )
    assert [index for index, _ in skipped] == [1, 3]
    assert any("skipped 2 of 4 records" in str(w.message) for w in caught)
    features, labels = first_batch(dataset)
    assert features["text"].numpy().tolist() == [b"good", b"fine"]
    np.testing.assert_array_equal(labels, [0, 1])


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(columns={"audio": [1]}), "unknown column"),
        (dict(columns={}), "at least one of"),
        (dict(columns={"text": ["a", "b"]}, labels=[1]), "`labels` has 1 rows"),
        (dict(columns={"text": ["a"], "image": [image(), image()]}), "column 'text' has 1 rows"),
        (dict(columns={"text": ["a"]}, on_bad_record="ignore"), "`on_bad_record`"),
        (dict(columns={"text": ["a"], "sequence": [None]}), "pass `num_features`"),
        (dict(columns={"text": ["a"], "image": [None]}), "pass `image_shape`"),
    ],
)
def test_bad_arguments(arguments, match):
    with pytest.raises(ValueError, match=match):
        records_to_dataset(**arguments)


def write_csv(folder, rows):
    from PIL import Image

    Image.fromarray(np.full((4, 4, 3), 200, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.zeros((4, 4, 4), np.uint8)).save(folder / "clear.png")  # fully transparent
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    lines = ["image,text,label"] + [",".join(row) for row in rows]
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    return folder / "data.csv"


def test_a_folder_of_images_and_a_csv(tmp_path):
    from multimodal_tf.data.pipeline import csv_to_dataset

    path = write_csv(
        tmp_path, [("a.png", "nice", "1"), ("", "no image", "0"), ("clear.png", "", "2")]
    )
    features, labels = first_batch(csv_to_dataset(path, batch_size=3))
    np.testing.assert_array_equal(features["image_present"], [1, 0, 1])
    np.testing.assert_array_equal(features["text_present"], [1, 1, 0])
    np.testing.assert_allclose(features["image"][0], 200 / 255.0, rtol=1e-6)
    np.testing.assert_allclose(features["image"][2], 1.0)  # transparency over white
    np.testing.assert_array_equal(labels, [1, 0, 2])


def test_corrupt_and_missing_image_files_are_bad_records(tmp_path):
    from multimodal_tf.data.pipeline import csv_to_dataset

    path = write_csv(
        tmp_path,
        [
            ("a.png", "x", "1"),
            ("broken.png", "y", "0"),
            ("gone.png", "z", "1"),
            ("a.png", "w", "one"),
        ],
    )
    with pytest.raises(BadRecordError, match="record 1, field 'image': cannot read image file"):
        csv_to_dataset(path)
    skipped = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _features, labels = first_batch(csv_to_dataset(path, on_bad_record="skip", skipped=skipped))
    assert [index for index, _ in skipped] == [1, 2, 3]
    assert "field 'label': 'one'" in skipped[2][1]
    np.testing.assert_array_equal(labels, [1])
    with pytest.raises(ValueError, match="has no column 'caption'"):
        csv_to_dataset(path, text_column="caption")
