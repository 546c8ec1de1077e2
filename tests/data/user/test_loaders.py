"""from_csv, from_dataframe, from_directory: the user's files as checked, streamed splits."""

import warnings

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from multimodal_tf.data import from_csv, from_dataframe, from_directory
from tests.data.user.helpers import ANIMALS, animal_files, write_image, write_rows


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture
def animals(tmp_path):
    return animal_files(tmp_path, count=12)


@pytest.fixture
def split_animals(animals):
    """The 12 rows in halves of train, quarters of validation and test, 24x24 images."""
    return from_csv(
        animals,
        label="species",
        image_size=(24, 24),
        batch_size=4,
        validation_split=0.25,
        test_split=0.25,
    )


def test_string_labels_map_to_class_names(split_animals):
    data = split_animals
    assert data.class_names == sorted(ANIMALS) and data.num_classes == 3
    assert data.schema.roles == {"photo": "image", "caption": "text", "species": "label"}
    assert sorted(row for ids in data.rows.values() for row in ids) == list(range(12))
    assert [len(data.rows[name]) for name in ("train", "validation", "test")] == [6, 3, 3]
    targets = []
    for _features, labels in data.test:
        targets += labels.numpy().tolist()
    names = [data.class_names[target] for target in targets]
    assert names == [ANIMALS[row % 3] for row in data.rows["test"]]
    assert data.model_inputs() == {"image": {"input_shape": (24, 24, 3)}}


def test_the_datasets_stream_resized_images(split_animals):
    data = split_animals
    assert data.train.cardinality().numpy() == 2  # 6 rows in batches of 4
    features, labels = data.train.element_spec
    assert features["image"] == tf.TensorSpec((None, 24, 24, 3), tf.float32)
    assert features["text"].dtype == tf.string and labels.dtype == tf.int32
    batch, _ = next(iter(data.validation))
    assert batch["image"].shape == (3, 24, 24, 3)
    assert 0.0 <= float(tf.reduce_min(batch["image"])) <= float(tf.reduce_max(batch["image"])) <= 1


@pytest.mark.parametrize("channels", [3, 1])
def test_training_streams_the_pixels_predict_reads(tmp_path, channels):
    """PNGs decoded in the graph, JPEGs by PIL, each resized one way: what `predict` sees."""
    from multimodal_tf.runs.prediction import _read_image

    csv = animal_files(tmp_path, count=12)  # PNG and JPEG, 20-80 px
    data = from_csv(
        csv,
        label="species",
        image_size=(24, 24),
        channels=channels,
        batch_size=12,
        validation_split=0,
        test_split=0.5,  # the test split streams in the order of its row ids
    )
    features, _ = next(iter(data.test))
    names = [f"photo{row}.{'png' if row % 2 else 'jpg'}" for row in data.rows["test"]]
    assert {name[-3:] for name in names} == {"png", "jpg"}
    expected = [_read_image(str(tmp_path / name), (24, 24, channels)) for name in names]
    np.testing.assert_array_equal(features["image"].numpy(), np.stack(expected))


def test_given_validation_and_test_files(tmp_path, animals):
    write_image(tmp_path / "v.png")
    write_rows(tmp_path / "val.csv", ["Photo", "caption", "species"], [["v.png", "a", "dog"]])
    write_rows(tmp_path / "test.csv", ["photo", "caption", "species"], [["v.png", "b", "cat"]])
    data = quiet(
        from_csv,
        animals,
        label="species",
        validation=tmp_path / "val.csv",
        test=tmp_path / "test.csv",
    )
    assert data.rows["validation"] == [0] and data.rows["test"] == [0]
    assert len(data.rows["train"]) == 12
    write_rows(tmp_path / "odd.csv", ["photo", "caption", "species"], [["v.png", "b", "cow"]])
    with pytest.raises(
        ValueError,
        match=r"odd\.csv: row 0 \(line 2\), column 'species': label "
        r"'cow' was never seen in training",
    ):
        from_csv(animals, label="species", test=tmp_path / "odd.csv")


def test_the_same_seed_gives_the_same_splits(tmp_path):
    path = animal_files(tmp_path, count=30)
    first = from_csv(path, label="species", seed=5, validation_split=0.2, test_split=0.2)
    again = from_csv(path, label="species", seed=5, validation_split=0.2, test_split=0.2)
    assert first.rows == again.rows
    for name in ("validation", "test"):
        assert sorted(row % 3 for row in first.rows[name]) == [0, 0, 1, 1, 2, 2]


def test_regression_targets_are_floats(tmp_path):
    frame = pd.DataFrame(
        {"review": [f"review {i} says" for i in range(20)], "score": [i / 4 for i in range(20)]}
    )
    data = from_dataframe(frame, label="score", batch_size=32)
    assert data.schema.task == "regression" and data.class_names is None
    _features, targets = next(iter(data.train))
    assert targets.dtype == tf.float32
    assert sorted(targets.numpy().tolist()) == [row / 4 for row in data.rows["train"]]


def test_npy_sequences_are_padded_per_batch(tmp_path):
    rows = []
    for index in range(10):
        np.save(tmp_path / f"s{index}.npy", np.ones((2 + index % 4, 3), np.float32) * (index + 1))
        rows.append([f"s{index}.npy", ["up", "down"][index % 2]])
    write_rows(tmp_path / "seq.csv", ["clip", "y"], rows)
    data = from_csv(
        tmp_path / "seq.csv", label="y", validation_split=0, test_split=0, batch_size=10
    )
    assert data.schema.num_features == 3
    assert data.model_inputs() == {"sequence": {"num_features": 3}}
    features, _ = next(iter(data.train))
    assert features["sequence"].shape == (10, 5, 3)  # the longest of the batch
    lengths = np.sum(np.any(features["sequence"].numpy() != 0.0, axis=-1), axis=1)
    assert sorted(lengths.tolist()) == sorted(2 + index % 4 for index in range(10))


def test_tabular_columns_ride_along_when_asked(tmp_path):
    frame = pd.DataFrame(
        {
            "text": [f"t {i} x" for i in range(10)],
            "n": [1.5 * i for i in range(10)],
            "c": ["a", "b"] * 5,
            "y": ["p", "q"] * 5,
        }
    )
    data = from_dataframe(
        frame, label="y", include_tabular=True, validation_split=0, test_split=0, batch_size=10
    )
    features, _ = next(iter(data.train))
    assert "n" not in features and "c" not in features  # encoded by the FeatureSpace
    assert features["tabular"].shape == (10, 1 + 3)  # n; [UNK], a, b
    np.testing.assert_array_equal(features["tabular_present"], np.ones(10))
    assert data.model_inputs() == {"tabular": {"num_features": 4}}
    again, _ = next(iter(data.split("train", batch_size=10, include_tabular=True)))
    assert again["tabular"].shape == (10, 4)  # encoded as `train` is


def test_an_image_folder(tmp_path):
    for animal in ANIMALS:
        (tmp_path / animal).mkdir()
        for index in range(4):
            write_image(tmp_path / animal / f"{index}.png", size=20 + 10 * index)
    (tmp_path / "notes.txt").write_text("not a class")
    data = from_directory(tmp_path, image_size=(16, 16), validation_split=0.25, test_split=0.25)
    assert data.class_names == sorted(ANIMALS)
    assert [len(data.rows[name]) for name in ("train", "validation", "test")] == [6, 3, 3]
    features, _ = next(iter(data.train))
    assert features["image"].shape[1:] == (16, 16, 3)
    with pytest.raises(ValueError, match="no image files in class subfolders"):
        from_directory(tmp_path / "cat")
    with pytest.raises(ValueError, match="the folder does not exist"):
        from_directory(tmp_path / "none")


def test_columns_chosen_by_name_and_several_text_columns(tmp_path):
    for index in range(10):
        write_image(tmp_path / f"a{index}.png", size=20)
    frame = pd.DataFrame(
        {
            "front": [f"a{i}.png" for i in range(10)],
            "back": [f"a{i}.png" for i in range(10)],
            "title": [f"title {i} words" for i in range(10)],
            "body": [None if i == 3 else f"body {i} more words" for i in range(10)],
            "y": ["p", "q"] * 5,
        }
    )
    options = dict(label="y", image_root=tmp_path, validation_split=0, test_split=0)
    with pytest.raises(ValueError, match=r"columns \['front', 'back'\] all hold image data"):
        from_dataframe(frame, **options)
    data = from_dataframe(frame, image_column="back", batch_size=10, **options)
    assert data.schema.roles["front"] == "ignore" and data.schema.roles["back"] == "image"
    features, _ = next(iter(data.train))
    texts = sorted(text.decode() for text in features["text"].numpy())
    assert "title 3 words" in texts and "title 4 words body 4 more words" in texts
    chosen = from_dataframe(frame, image_column="back", text_column="body", **options)
    assert chosen.schema.roles["title"] == "ignore" and chosen.schema.roles["body"] == "text"
    features, _ = next(iter(chosen.split("train", batch_size=10)))
    assert sorted(text.decode() for text in features["text"].numpy())[-1] == "body 9 more words"


def test_what_a_run_records_round_trips_through_json(animals):
    import json

    from multimodal_tf.data import Schema

    data = quiet(from_csv, animals, label="species", validation_split=0.25, test_split=0.25)
    record = json.loads(json.dumps(data.record()))
    assert Schema.from_dict(record["schema"]) == data.schema
    assert record["rows"] == data.rows and record["skipped"] == []


def test_the_package_root_exports_the_entry_points():
    import multimodal_tf

    assert multimodal_tf.from_csv is from_csv and multimodal_tf.from_directory is from_directory
    assert {"Schema", "UserData", "from_dataframe"} <= set(dir(multimodal_tf))


@pytest.mark.parametrize("extension", ["parquet", "jsonl", "tsv"])
def test_every_table_format_loads_the_same(tmp_path, extension):
    frame = pd.DataFrame(
        {"text": [f"words {i} here" for i in range(12)], "y": [i % 2 for i in range(12)]}
    )
    path = tmp_path / f"data.{extension}"
    if extension == "parquet":
        frame.to_parquet(path)
    elif extension == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, sep="\t", index=False)
    data = from_csv(path, label="y", validation_split=0.25, test_split=0)
    assert data.schema.label_kind == "integer" and data.class_names == ["0", "1"]
    assert [len(data.rows[name]) for name in ("train", "validation", "test")] == [8, 4, 0]
    assert data.test is None


def test_a_validation_frame_grey_images_and_a_regression_override(tmp_path):
    for index in range(6):
        write_image(tmp_path / f"g{index}.png", size=30)
    train = pd.DataFrame({"img": [f"g{i}.png" for i in range(6)], "y": [0, 1, 2, 0, 1, 2]})
    data = from_dataframe(
        train,
        label="y",
        validation=train.iloc[:2],
        image_root=tmp_path,
        channels=1,
        image_size=(8, 8),
        task="regression",
        test_split=0,
    )
    assert data.schema.task == "regression" and data.rows["validation"] == [0, 1]
    features, targets = next(iter(data.validation))
    assert features["image"].shape == (2, 8, 8, 1) and targets.numpy().tolist() == [0.0, 1.0]
