"""Numeric and categorical columns as the `tabular` modality, from `train --data` to the SavedModel.

One tiny run (36 rows of 16-px photos, a weight with empty cells, a colour
with empty cells, a species) is trained once, then evaluated, predicted
with and exported; the SavedModel and `predict --batch` agree.
"""

import json
import re

import numpy as np
import pytest

from multimodal_tf.cli import main
from tests.data.user.helpers import ANIMALS, train_run_on, write_image, write_rows

TINY = ["--architecture", "tiny", "--epochs", "2", "--batch-size", "8", "--quiet"]
WEIGHTS = {"bird": 0.3, "cat": 4.0, "dog": 20.0}
COLOURS = ("red", "green", "blue")


def animal_table(folder, count=36, name="train.csv", photos=True):
    """Rows of photo (optional), weight and colour (some empty), and species."""
    rows = []
    for index in range(count):
        animal = ANIMALS[index % 3]
        weight = "" if index % 7 == 0 else round(WEIGHTS[animal] * (1 + 0.1 * (index % 5)), 2)
        colour = "" if index % 5 == 0 else COLOURS[(index + index % 3) % 3]
        row = [weight, colour, animal]
        if photos:
            write_image(folder / f"p{index}.png", size=20, value=20 * (index % 12))
            row.insert(0, f"p{index}.png")
        rows.append(row)
    header = ["photo", "weight", "colour", "species"] if photos else ["weight", "colour", "species"]
    return write_rows(folder / name, header, rows)


@pytest.fixture(scope="module")
def tabular_run(tmp_path_factory):
    """`(run folder, what train printed, data folder)` of one tiny image + tabular run."""
    data = tmp_path_factory.mktemp("animals")
    flags = ["--image-size", "16", *TINY]
    return train_run_on(data, animal_table(data), "species", "animals", flags, tmp_path_factory)


def test_numeric_and_categorical_columns_train_as_the_tabular_modality(tabular_run):
    run, printed, _ = tabular_run
    assert re.search(r"weight\s+numeric", printed) and re.search(r"colour\s+categorical", printed)
    assert re.search(r"training multimodal on \S*train\.csv \(image, tabular\)", printed)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["tabular_columns"] == ["weight", "colour"]
    assert metrics["tabular_features"] == 1 + 5  # weight; [UNK], 3 colours, [missing]
    assert set(metrics["test_accuracy"]) == {"all", "image only", "tabular only"}
    assert (run / "tabular_feature_space.keras").is_file()
    fill = json.loads((run / "tabular_fill.json").read_text())["fill"]
    assert 0.3 < fill["weight"] < 30


def test_evaluate_uses_the_saved_feature_space(tabular_run, tmp_path, capsys):
    from multimodal_tf.runs import user_data

    run, _, _ = tabular_run
    user_data._ENCODINGS.clear()  # as a fresh process: only the run folder's copy is there
    new = animal_table(tmp_path, count=9, name="new.csv")
    assert main(["evaluate", str(run), "--data", str(new)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"new\.csv accuracy \(tabular only\): \d\.\d{4}", printed)
    assert main(["evaluate", str(run), "--missing-rates", "0,0.5"]) == 0
    assert "test accuracy (rows missing a modality: 50%)" in capsys.readouterr().out


def test_predict_batch_and_the_savedmodel_agree(tabular_run, tmp_path, capsys):
    import tensorflow as tf

    run, _, data = tabular_run
    assert main(["predict", str(run), "--batch", str(data / "train.csv"), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 36 and lines[0]["absent"] == ["tabular"]  # weight and colour empty
    assert all(line["absent"] == [] for line in lines[1:5])
    exported = tmp_path / "exported" / "1"
    assert main(["export", str(run), "--output", str(exported)]) == 0
    serve = tf.saved_model.load(str(exported)).signatures["serving_default"]
    rows = [1, 2, 3]
    cells = [
        (WEIGHTS[ANIMALS[i % 3]] * (1 + 0.1 * (i % 5)), COLOURS[(i + i % 3) % 3]) for i in rows
    ]
    from PIL import Image

    images = [
        np.asarray(Image.open(data / f"p{i}.png").convert("RGB").resize((16, 16))) for i in rows
    ]
    served = serve(
        image=tf.constant(np.stack(images), tf.uint8),
        image_present=tf.ones([3]),
        weight=tf.constant([round(weight, 2) for weight, _ in cells], tf.float32),
        colour=tf.constant([colour for _, colour in cells]),
        tabular_present=tf.ones([3]),
    )
    names = [name.decode() for name in served["class_name"].numpy()]
    assert names == [lines[i]["class"] for i in rows]
    probabilities = served["probabilities"].numpy().max(axis=1)
    np.testing.assert_allclose(probabilities, [lines[i]["probability"] for i in rows], atol=0.02)


def test_a_batch_file_with_only_some_tabular_columns_is_refused(tabular_run, tmp_path, capsys):
    run, _, data = tabular_run
    rows = [[str(data / "p1.png"), "2.0", "dog"]]
    partial = write_rows(tmp_path / "partial.csv", ["photo", "weight", "species"], rows)
    assert main(["predict", str(run), "--batch", str(partial)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "but not ['colour']" in error


def test_tabular_columns_alone_train_the_multimodal_model(tmp_path, capsys):
    csv = animal_table(tmp_path, photos=False)
    flags = ["--data", str(csv), "--label", "species", *TINY]
    assert main(["train", *flags, "--model", "classifier", "--output", str(tmp_path)]) == 2
    assert "no tabular form" in capsys.readouterr().err
    assert main(["train", *flags, "--output", str(tmp_path / "runs"), "--run", "table"]) == 0
    assert re.search(r"training multimodal on \S*train\.csv \(tabular\)", capsys.readouterr().out)
    metrics = json.loads((tmp_path / "runs" / "table" / "metrics.json").read_text())
    assert set(metrics["test_accuracy"]) == {"all"}


def test_tune_searches_over_tabular_columns_and_keeps_their_encoding(tmp_path, capsys):
    csv = animal_table(tmp_path, photos=False)
    flags = ["--data", str(csv), "--label", "species", "--max-trials", "1", *TINY]
    assert main(["tune", *flags, "--output", str(tmp_path / "tuned"), "--run", "search"]) == 0
    assert "test accuracy (all): " in capsys.readouterr().out
    run = tmp_path / "tuned" / "search"
    assert (run / "tabular_feature_space.keras").is_file()
    assert main(["predict", str(run), "--batch", str(csv)]) == 1  # rows 0 and 35 are empty
    printed, error = capsys.readouterr()
    lines = printed.splitlines()
    assert len(lines) == 36 and "2 of 36 rows were bad" in error
    assert lines[0] == (
        f"row 0: error: {csv}: row 0: every cell of the model's modalities (tabular) is empty: "
        "there is nothing to predict from."
    )


def test_missing_rates_score_the_runs_own_test_rows_whatever_its_seed(tmp_path, monkeypatch):
    from multimodal_tf.runs import evaluate_missing, user_batches

    seeds = []  # the seed each read of the run's rows carves its splits with
    real = user_batches.load_user
    monkeypatch.setattr(user_batches, "load_user", lambda c: seeds.append(c.seed) or real(c))

    csv = animal_table(tmp_path)
    flags = ["--data", str(csv), "--label", "species", "--image-size", "16", "--seed", "3", *TINY]
    assert main(["train", *flags, "--output", str(tmp_path / "runs"), "--run", "s3"]) == 0
    metrics = json.loads((tmp_path / "runs" / "s3" / "metrics.json").read_text())
    scored = evaluate_missing(str(tmp_path / "runs" / "s3"), [0.0], seed=0)
    assert scored[0.0] == metrics["test_accuracy"]["all"]  # the seed-3 test rows, not seed 0's
    assert seeds and set(seeds) == {3}


def test_column_flags_set_roles_and_a_cross_must_name_categories(tmp_path, capsys):
    csv = animal_table(tmp_path, photos=False)
    flags = ["--data", str(csv), "--label", "species", *TINY]
    output = str(tmp_path / "runs")
    assert main(["train", *flags, "--cross", "colour,weight", "--output", output]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "'weight' is not a categorical column" in error
    assert not (tmp_path / "runs").exists()  # refused before a run folder is made
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses it
        main(["train", *flags, "--cross", "colour", "--output", output])
    assert exit_info.value.code == 2
    assert "must be two column names" in capsys.readouterr().err
    ignored = ["--ignore-columns", "colour", "--categorical-columns", "weight"]
    assert main(["train", *flags, *ignored, "--cross", "weight,colour", "--output", output]) == 2
    assert "'colour' is not a categorical column" in capsys.readouterr().err  # ignored
    roles = ["--categorical-columns", "weight", "--cross", "weight,colour"]
    assert main(["train", *flags, *roles, "--output", output, "--run", "roles"]) == 0
    printed = capsys.readouterr().out
    assert all(re.search(rf"{name}\s+categorical", printed) for name in ("weight", "colour"))
    run = tmp_path / "runs" / "roles"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["tabular_columns"] == ["weight", "colour"]
    config = json.loads((run / "run_config.json").read_text())
    assert config["data"]["crosses"] == [["weight", "colour"]]
    assert main(["evaluate", str(run)]) == 0  # the saved FeatureSpace, cross and all
    assert f"{metrics['test_accuracy']['all']:.4f}" in capsys.readouterr().out
