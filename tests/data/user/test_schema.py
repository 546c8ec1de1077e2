"""Column roles inferred and overridden; the schema printed and saved as JSON; label tasks."""

import json

import pandas as pd
import pytest

from multimodal_tf.data.user.checks import fit_labels
from multimodal_tf.data.user.schema import Schema, build_schema, infer_role, infer_task
from multimodal_tf.data.user.tables import read_table


def frame():
    return pd.DataFrame(
        {
            "photo": [f"p{i}.JPG" for i in range(10)],
            "clip": [f"c{i}.npy" for i in range(10)],
            "review": [f"words and more words {i}" for i in range(10)],
            "price": [str(i * 1.5) for i in range(10)],
            "colour": ["red", "blue"] * 5,
            "y": ["b", "a"] * 5,
        }
    )


def test_roles_are_inferred():
    schema = build_schema(read_table(frame()), "y")
    assert schema.roles == {
        "photo": "image",
        "clip": "sequence",
        "review": "text",
        "price": "numeric",
        "colour": "categorical",
        "y": "label",
    }
    assert schema.columns("image") == ["photo"]


def test_roles_can_be_overridden_and_unknown_columns_are_named():
    schema = build_schema(read_table(frame()), "Y", roles={"COLOUR": "text", "price": "ignore"})
    assert schema.label == "y"
    assert schema.roles["colour"] == "text" and schema.roles["price"] == "ignore"
    with pytest.raises(ValueError, match=r"has no column 'size' \(`numeric_column=`\)"):
        build_schema(read_table(frame()), "y", roles={"size": "numeric"})
    with pytest.raises(ValueError, match="role 'audio'"):
        build_schema(read_table(frame()), "y", roles={"price": "audio"})
    with pytest.raises(ValueError, match=r"<DataFrame>: has no column 'target' \(`label=`\)"):
        build_schema(read_table(frame()), "target")


def test_describe_and_a_json_round_trip():
    schema = build_schema(read_table(frame()), "y", image_size=(20, 30))
    fit_labels(schema, list(frame()["y"]))
    text = schema.describe()
    assert "photo   image" in text and "classes: a, b" in text
    restored = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert restored == schema and restored.image_size == (20, 30)
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['colour'\]"):
        Schema.from_dict({**schema.to_dict(), "colour": 1})
    with pytest.raises(ValueError, match="column 'photo' has role 'picture'"):
        Schema.from_dict({**schema.to_dict(), "roles": {"photo": "picture"}})
    with pytest.raises(ValueError, match="schema field 'task'"):
        Schema.from_dict({**schema.to_dict(), "task": "ranking"})


@pytest.mark.parametrize(
    "values, task, expected",
    [
        (["cat", "dog"], None, ("classification", "string")),
        (["0", "2", "1"], None, ("classification", "integer")),
        ([0.5, 1.25, 3.0], None, ("regression", "float")),
        ([str(i) for i in range(30)], None, ("regression", "float")),
        (["1", "2"], "regression", ("regression", "float")),
        ([str(i) for i in range(30)], "classification", ("classification", "integer")),
    ],
)
def test_the_task_follows_the_label(values, task, expected):
    assert infer_task(values, task) == expected


def test_string_labels_get_a_sorted_vocabulary_and_integer_labels_keep_their_ids():
    schema = Schema({"y": "label"}, "y", label_kind="string")
    fit_labels(schema, ["dog", "cat", None, "bird", "cat"])
    assert schema.class_names == ["bird", "cat", "dog"] and schema.num_classes == 3
    schema = Schema({"y": "label"}, "y", label_kind="integer")
    fit_labels(schema, ["2", "0"])
    assert schema.class_names == ["0", "1", "2"]
    with pytest.raises(ValueError, match="integer label -1 is negative"):
        fit_labels(schema, ["-1", "0"])


@pytest.mark.parametrize(
    "values, role",
    [
        ([], "ignore"),
        (["a.png", "b.webp", None], "image"),
        (["1", "2", "x", "4", "5"], "numeric"),  # 80 % numbers: the rest are mixed types
        ([str(i) for i in range(12)], "ignore"),  # a row id: 0..n-1, each once
        ([i + 1 for i in range(12)][::-1], "ignore"),  # 1..n, in any order
        ([2 * i for i in range(12)], "numeric"),  # gaps: a measurement
        ([1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "numeric"),  # a repeat
        ([str(i) for i in range(5)], "numeric"),  # too few rows to tell
        (["one two", "three four five"], "text"),
    ],
)
def test_infer_role(values, role):
    assert infer_role([value for value in values if value is not None]) == role
