"""`multimodal-tf train --data FILE --label COLUMN`: the user's own files, end to end.

One tiny run (18 rows of 16-px photos and captions, the tiny architecture,
one epoch) is trained once and then evaluated, compared, predicted with and
exported; an image folder trains the CNN; each bad input is one line and
exit code 2, with nothing written.
"""

import json
import re

import numpy as np
import pytest

from multimodal_tf.cli import main
from tests.data.user.helpers import ANIMALS, animal_files, train_run_on, write_image, write_rows

TINY = ["--architecture", "tiny", "--epochs", "1", "--batch-size", "4", "--quiet"]


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    """`(run folder, what train printed, data folder)` of one tiny run on a photo CSV."""
    data = tmp_path_factory.mktemp("photos")
    csv = animal_files(data, count=18)
    flags = ["--image-size", "16", *TINY]
    return train_run_on(data, csv, "Species", "photos", flags, tmp_path_factory)


def test_train_prints_the_roles_and_records_the_data(photo_run):
    run, printed, data = photo_run
    assert re.search(r"photo\s+image", printed) and re.search(r"caption\s+text", printed)
    assert "classification on 'species', classes: bird, cat, dog" in printed
    assert "rows: train 12, validation 3, test 3" in printed
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["class_names"] == ["bird", "cat", "dog"]
    assert metrics["config"]["dataset"] == "user"
    assert metrics["config"]["data"]["train"] == str(data / "train.csv")  # absolute
    assert metrics["dataset_version"].startswith("sha256:")
    record = json.loads((run / "data.json").read_text())
    assert record["schema"]["roles"] == {"photo": "image", "caption": "text", "species": "label"}
    rows = record["rows"]
    assert sorted(rows["train"] + rows["validation"] + rows["test"]) == list(range(18))
    assert record["skipped"] == []


@pytest.mark.slow
def test_evaluate_from_another_folder(photo_run, tmp_path, monkeypatch, capsys):
    run, _, _ = photo_run
    monkeypatch.chdir(tmp_path)  # the run's paths are absolute
    assert main(["evaluate", str(run)]) == 0
    accuracy = json.loads((run / "metrics.json").read_text())["test_accuracy"]
    printed = capsys.readouterr().out
    for subset, value in accuracy.items():
        assert f"test accuracy ({subset}): {value:.4f}" in printed


@pytest.mark.slow
def test_evaluate_a_new_labelled_file(photo_run, tmp_path, capsys):
    run, _, _ = photo_run
    for index in range(6):
        write_image(tmp_path / f"new{index}.png", size=24, value=30 * index)
    rows = [[f"new{i}.png", f"another {ANIMALS[i % 3]}", ANIMALS[i % 3]] for i in range(6)]
    new = write_rows(tmp_path / "new.csv", ["Photo", "caption", "species"], rows)
    assert main(["evaluate", str(run), "--data", str(new)]) == 0
    printed, warned = capsys.readouterr()
    assert re.search(r"new\.csv accuracy \(all\): \d\.\d{4}", printed)
    (warning,) = warned.strip().splitlines()  # one line, not the library's source line
    assert warning.startswith("multimodal-tf evaluate: warning: ")
    assert "matched column 'Photo' (case-insensitive)" in warned
    assert "per class (new.csv, all modalities present):" in printed
    assert all(re.search(rf"(?m)^\s*{animal}\b", printed) for animal in ANIMALS)
    rows[4][2] = "fish"
    write_rows(new, ["photo", "caption", "species"], rows)
    assert main(["evaluate", str(run), "--data", str(new)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "new.csv: row 4" in error and "'species'" in error
    assert "'fish' was never seen in training" in error


def test_predict_prints_class_names(photo_run, capsys):
    run, _, data = photo_run
    image = str(data / "photo1.png")
    assert main(["predict", str(run), "--image", image, "--text", "a cat photo"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"(bird|cat|dog) \(\d+\.\d%\)", line), line
    assert main(["predict", str(run), image, "--json"]) == 0
    prediction = json.loads(capsys.readouterr().out)
    assert prediction["class"] in ANIMALS and 0 < prediction["probability"] <= 1
    assert main(["predict", str(run), "--batch", str(data / "train.csv")]) == 0  # its columns
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 18 and all(
        re.fullmatch(r"row \d+: (bird|cat|dog) \(.*%\)", line) for line in lines
    )


def test_skipped_rows_are_counted_and_listed(tmp_path):
    from multimodal_tf.runs import RunConfig
    from multimodal_tf.runs.user_data import load_user, write_data_record

    csv = animal_files(tmp_path, count=12)
    (tmp_path / "photo5.png").unlink()
    data = {"train": str(csv), "label": "species", "on_bad_record": "skip", "image_size": [16, 16]}
    config = RunConfig(dataset="user", data=data, architecture="tiny")
    assert [row for row, _ in load_user(config).skipped] == [5]
    write_data_record(str(tmp_path), config)
    record = json.loads((tmp_path / "data.json").read_text())
    (skipped,) = record["skipped"]
    assert skipped["row"] == 5 and "train.csv: row 5" in skipped["reason"]
    assert "'photo'" in skipped["reason"] and all(5 not in ids for ids in record["rows"].values())


@pytest.mark.slow
def test_the_savedmodel_returns_class_names(photo_run, tmp_path, capsys):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the tokeniser's ops)

    run, _, _ = photo_run
    exported = tmp_path / "exported" / "1"
    assert main(["export", str(run), "--output", str(exported)]) == 0
    serve = tf.saved_model.load(str(exported)).signatures["serving_default"]
    served = serve(
        image=tf.zeros([2, 16, 16, 3], tf.uint8),
        text=tf.constant(["a dog", "a bird"]),
        image_present=tf.constant([1.0, 0.0]),
        text_present=tf.constant([1.0, 1.0]),
    )
    names = [name.decode() for name in served["class_name"].numpy()]
    assert set(names) <= set(ANIMALS) and served["probabilities"].shape == (2, 3)
    np.testing.assert_allclose(served["probabilities"].numpy().sum(axis=1), 1.0, atol=1e-4)


def test_an_image_folder_trains_evaluates_and_compares_the_cnn(tmp_path, capsys):
    for animal in ANIMALS:
        (tmp_path / "photos" / animal).mkdir(parents=True)
        for index in range(4):
            write_image(tmp_path / "photos" / animal / f"{index}.png", size=20, value=40 * index)
    output = tmp_path / "runs"
    arguments = ["train", "--data", str(tmp_path / "photos"), "--image-size", "16"]
    assert main([*arguments, "--output", str(output), "--run", "folder", *TINY]) == 0
    printed = capsys.readouterr().out
    assert "classifier on" in printed and "classes: bird, cat, dog" in printed
    metrics = json.loads((output / "folder" / "metrics.json").read_text())
    assert metrics["config"]["kind"] == "classifier" and metrics["image_shape"] == [16, 16, 3]
    assert main(["evaluate", str(output / "folder")]) == 0
    assert "test accuracy (all)" in capsys.readouterr().out
    assert main(["compare", str(output / "folder"), str(output / "folder")]) == 0
    assert "+0.00 points" in capsys.readouterr().out
    write_image(tmp_path / "photos" / "cat" / "new.png", size=20)  # its splits would change
    assert main(["evaluate", str(output / "folder")]) == 2
    assert "changed or moved since training" in capsys.readouterr().err


def _bad_files(folder):
    """Files for the bad-input cases: `{case: (extra arguments, expected words)}`."""
    csv = animal_files(folder, count=12)
    rows = csv.read_text().splitlines()
    (folder / "empty.csv").write_text("")
    (folder / "lonely.csv").write_text("\n".join([*rows, "photo0.jpg,a fish,fish"]) + "\n")
    (folder / "mixed.csv").write_text("\n".join([*rows, "12345,a cat,cat"]) + "\n")
    write_rows(folder / "test.csv", ["photo", "caption", "species"], [["photo1.png", "x", "fish"]])
    return {
        "missing label column": ([str(csv), "--label", "kind"], ["train.csv", "no column 'kind'"]),
        "unknown column": (
            [str(csv), "--label", "species", "--text-column", "words"],
            ["train.csv", "no column 'words'"],
        ),
        "missing path": (
            [str(folder / "nope.csv"), "--label", "species"],
            ["nope.csv", "no such file"],
        ),
        "empty file": ([str(folder / "empty.csv"), "--label", "species"], ["empty.csv", "empty"]),
        "class with one row": (
            [str(folder / "lonely.csv"), "--label", "species"],
            ["lonely.csv", "class 'fish' has 1 row", "at least 2 rows"],
        ),
        "unseen test label": (
            [str(csv), "--label", "species", "--test", str(folder / "test.csv")],
            ["test.csv: row 0", "'species'", "'fish' was never seen"],
        ),
        "mixed types": (
            [str(folder / "mixed.csv"), "--label", "species"],
            ["mixed.csv: row 12", "'photo'", "mixed types"],
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing label column",
        "unknown column",
        "missing path",
        "empty file",
        "class with one row",
        "unseen test label",
        "mixed types",
    ],
)
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    arguments, words = _bad_files(tmp_path)[case]
    output = tmp_path / "runs"
    code = main(["train", "--data", *arguments, "--output", str(output), *TINY])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(error) == 1 and error[0].startswith("multimodal-tf train: error: "), error
    for word in words:
        assert word in error[0], (word, error[0])
    assert not output.exists()  # nothing written


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--label", "species"], "--label describe(s) your own data: add --data"),
        (["--data", "x.csv", "--dataset", "rt_snippets"], "--data FILE or --dataset NAME"),
    ],
)
def test_data_flags_need_data(arguments, message, tmp_path, capsys):
    assert main(["train", *arguments, "--output", str(tmp_path / "runs")]) == 2
    assert message in capsys.readouterr().err


def test_an_interrupted_data_run_resumes_with_the_same_command(tmp_path, monkeypatch, capsys):
    from multimodal_tf.runs import training_run
    from multimodal_tf.runs.folder import ProgressRecorder

    class StopsAfterTheSecondEpoch(ProgressRecorder):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if epoch == 1:
                raise KeyboardInterrupt  # as Ctrl-C at the end of epoch 2

    csv = animal_files(tmp_path, count=18)
    output = tmp_path / "runs"
    command = ["train", "--data", str(csv), "--label", "species", "--image-size", "16"]
    command += ["--output", str(output), *TINY[:2], "--epochs", "4", "--batch-size", "4"]
    monkeypatch.setattr(training_run, "ProgressRecorder", StopsAfterTheSecondEpoch)
    assert main(command) == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    monkeypatch.setattr(training_run, "ProgressRecorder", ProgressRecorder)
    assert main(command) == 0  # the same command: no --run
    printed = capsys.readouterr().out
    (folder,) = output.iterdir()
    assert f"note: resuming the unfinished run {str(folder)!r}" in printed
    assert "resuming run" in printed and "after epoch 2 of 4" in printed
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 4 and len(metrics["history"]["loss"]) == 2
