"""Damaged run files: every field of metrics.json checked, cheap checks before the model loads."""

import dataclasses
import json
import shutil

import pytest

from multimodal_tf import build_lstm_classifier
from multimodal_tf.cli import main
from multimodal_tf.runs import RunConfig, load_run
from multimodal_tf.runs.metrics_schema import FIELDS
from tests.test_robustness import write_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    model = build_lstm_classifier(None, 3, 9, units=(4, 4))
    config = RunConfig(dataset="japanese_vowels", model="classifier")
    facts = dict(class_names=[str(index) for index in range(1, 10)], num_features=3)
    return write_run(tmp_path_factory.mktemp("runs") / "lstm", model, config, **facts)


def damaged(run, tmp_path, edit):
    folder = tmp_path / "damaged"
    shutil.copytree(run, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    edit(metrics)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return str(folder)


def _bad_value(check):
    return next(value for value in ({"bad": 1}, "bad", -5, [None]) if not check(value))


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_every_top_level_field_is_checked(run, tmp_path, capsys, field):
    value = _bad_value(field.check)
    folder = damaged(run, tmp_path, lambda metrics: metrics.update({field.name: value}))
    assert main(["predict", folder, "--text", "x"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"metrics.json: field {field.name!r} must be {field.expected}, got" in err


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(RunConfig)])
def test_every_config_field_is_checked(run, tmp_path, capsys, name):
    # `data` and `augmentation` take an object: a string is their bad type
    bad = "bad" if name in ("data", "augmentation") else {"bad": 1}
    folder = damaged(run, tmp_path, lambda metrics: metrics["config"].update({name: bad}))
    assert main(["evaluate", folder]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert f"metrics.json: field 'config.{name}' must be" in err
    assert f"got {json.dumps(bad)}." in err


def test_a_number_for_data_dir_is_one_line_not_a_traceback(run, tmp_path, capsys):
    # The probe's case: 123 for config.data_dir gave a 48-line traceback.
    folder = damaged(run, tmp_path, lambda metrics: metrics["config"].update(data_dir=123))
    assert main(["evaluate", folder]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"multimodal-tf evaluate: error: {folder}/metrics.json: field 'config.data_dir' must be a "
        "string or null, got 123."
    )


def test_each_bad_field_is_a_line_of_its_own(run, tmp_path):
    def edit(metrics):
        metrics.update(class_names="abc", num_features=0, train_seconds="slow")
        metrics["config"].update(data_dir=1, seed="0")
        metrics["a_newer_field"] = 1  # unknown fields are left alone

    with pytest.raises(ValueError) as error:
        load_run(damaged(run, tmp_path, edit))
    lines = str(error.value).splitlines()
    assert [line.split("field ")[1].split(" ")[0] for line in lines] == [
        "'class_names'",
        "'num_features'",
        "'train_seconds'",
        "'config.seed'",
        "'config.data_dir'",
    ]
    assert "'num_features' must be a positive integer, got 0." in lines[1]


def test_a_missing_required_field_says_so(run, tmp_path):
    with pytest.raises(
        ValueError,
        match="field 'num_features' must be a positive integer, got "
        "nothing \\(the field is missing\\)",
    ):
        load_run(damaged(run, tmp_path, lambda metrics: metrics.pop("num_features")))


@pytest.fixture
def no_model_loading(monkeypatch):
    """Fails any test that loads the model."""
    import multimodal_tf.saving

    def load_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the cheap checks")

    monkeypatch.setattr(multimodal_tf.saving, "load_model", load_model)


def test_cheap_checks_come_before_the_model_loads(run, tmp_path, capsys, no_model_loading):
    (tmp_path / "file").write_text("x")
    requests = [
        (["predict", run, str(tmp_path / "missing.npy")], "there is no such file"),
        (["predict", run, "--sequence", str(tmp_path / "missing.npy")], "there is no such file"),
        (["predict", run, str(tmp_path / "picture.png")], "there is no such file"),
        (
            ["export", run, "--format", "tflite", "--output", str(tmp_path / "file" / "m.tflite")],
            "is a file, not a folder",
        ),
        (
            ["export", run, "--output", str(tmp_path / "file" / "1")],
            "cannot write the SavedModel to",
        ),
        (["evaluate", str(tmp_path / "no-run")], "is not a run folder"),
    ]
    for argv, message in requests:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "the model was loaded" not in err, (argv, err)
