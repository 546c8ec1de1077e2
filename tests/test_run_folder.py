"""Run folders: never mixed, overwritten or escaped; training that stops on NaN; honest metadata."""

import fcntl
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf import runs, training
from multimodal_tf.cli import main
from multimodal_tf.files import write_atomically
from multimodal_tf.runs.folder import check_run_name, open_run_folder
from multimodal_tf.training import NonFiniteLossError, TrainingConfig, train
from tests.helpers import tiny_vowels_run


def quick(data_dir, output, *extra):
    """A seconds-long real run: the tiny LSTM on a few JapaneseVowels utterances."""
    return tiny_vowels_run(data_dir, output, *extra, test_limit=16)


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "a/b", "..", ".", "", "  "])
def test_run_names_must_be_one_folder_inside_output(name, tmp_path, capsys):
    with pytest.raises(ValueError, match="single folder name"):
        check_run_name(name)
    assert main(["train", "--run", name, "--output", str(tmp_path / "out")]) == 2
    assert "single folder name" in capsys.readouterr().err
    assert not (tmp_path / "escaped").exists() and not os.path.exists("/tmp/absolute/metrics.json")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e9"])
def test_a_learning_rate_that_cannot_train_is_refused(value, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--learning-rate", value, "--output", str(tmp_path)])
    assert (
        "argument --learning-rate: must be a finite number > 0 and at most 1"
        in capsys.readouterr().err
    )
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="`learning_rate` must be"):  # the library refuses it too
        runs.RunConfig(learning_rate=float(value))


def test_training_stops_with_an_error_when_the_loss_becomes_nan(tmp_path):
    def build():
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(
            optimizer="adam", loss="mse"
        )  # Adam moves each weight by about the learning rate
        return model

    data = tf.data.Dataset.from_tensor_slices(
        (np.full((64, 4), 1e3, "float32"), np.arange(64) % 2)
    ).batch(8)
    config = TrainingConfig(
        epochs=2,
        precision="float32",
        optimizer="auto",
        learning_rate=1e30,
        verbose=0,
        output_dir=str(tmp_path),
    )
    with pytest.raises(
        NonFiniteLossError,
        match=r"epoch 1, batch \d+: the loss is (nan|inf).*Lower --learning-rate",
    ):
        train(build, data, config)
    assert not (tmp_path / "best.keras").exists()


@pytest.mark.slow
def test_a_finished_run_is_kept_unless_overwrite_and_an_interrupted_one_resumes_only_as_started(
    data_dir, tmp_path, capsys, monkeypatch
):
    assert main(quick(data_dir, tmp_path, "--run", "r")) == 0
    finished = (tmp_path / "r" / "metrics.json").read_text()
    # A different run under the same name does not replace it...
    assert main(quick(data_dir, tmp_path, "--run", "r", "--seed", "7")) == 2
    assert "holds a finished run" in capsys.readouterr().err
    assert (tmp_path / "r" / "metrics.json").read_text() == finished
    # ...unless asked.
    assert main(quick(data_dir, tmp_path, "--run", "r", "--seed", "7", "--overwrite")) == 0
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["config"]["seed"] == 7

    # Interrupted after its first of three epochs:
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt("interrupted for the test")

    def interrupted(*args, callbacks=(), **kwargs):
        return training.train(*args, callbacks=[*callbacks, Interrupt()], **kwargs)

    three = quick(data_dir, tmp_path, "--run", "i")
    three[three.index("--epochs") + 1] = "3"
    monkeypatch.setattr(runs.training_run, "train", interrupted)
    assert main(three) == 130  # Ctrl-C: one line saying how to resume
    assert "rerun the same command to resume" in capsys.readouterr().err
    monkeypatch.setattr(runs.training_run, "train", training.train)
    assert not (tmp_path / "i" / "metrics.json").exists()
    first_part = json.loads((tmp_path / "i" / "progress.json").read_text())
    assert first_part["epochs"] == 1
    # Other options are refused, naming the fields...
    assert main([*three, "--learning-rate", "0.01", "--seed", "3"]) == 2
    error = capsys.readouterr().err
    assert (
        "learning_rate None (then) vs 0.01 (now)" in error and "seed 0 (then) vs 3 (now)" in error
    )
    # ...the same options resume, and the metadata covers the whole run.
    capsys.readouterr()
    assert main(three) == 0
    assert "resuming run" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "i" / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 3
    assert metrics["train_seconds"] >= first_part["seconds"]
    assert not (tmp_path / "i" / "backup").exists()


def test_restart_starts_an_interrupted_run_over(tmp_path):
    config = {"seed": 0}
    with open_run_folder(str(tmp_path), "r", config) as folder:
        os.makedirs(os.path.join(folder.path, "backup"))
        (tmp_path / "r" / "backup" / "training_metadata.json").write_text('{"epoch": 2}')
    with pytest.raises(ValueError, match="seed 0 \\(then\\) vs 1 \\(now\\)"):
        with open_run_folder(str(tmp_path), "r", {"seed": 1}):
            pass
    with open_run_folder(str(tmp_path), "r", {"seed": 0}) as folder:
        assert folder.resumed_epochs == 2
    with open_run_folder(str(tmp_path), "r", {"seed": 1}, restart=True) as folder:
        assert folder.resumed_epochs == 0 and not (tmp_path / "r" / "backup").exists()


def test_a_checkpoint_cut_short_is_not_left_to_look_like_the_best_model(tmp_path, capsys):
    with open_run_folder(str(tmp_path), "r", {"seed": 0}) as folder:
        os.makedirs(os.path.join(folder.path, "backup"))
    (tmp_path / "r" / "best.keras").write_bytes(b"PK\x03\x04 half a zip")
    with open_run_folder(str(tmp_path), "r", {"seed": 0}):
        pass
    assert not (tmp_path / "r" / "best.keras").exists()
    assert "a checkpoint cut short" in capsys.readouterr().out


def test_one_process_at_a_time_writes_a_run_folder(tmp_path):
    with open_run_folder(str(tmp_path), "r", {}):
        # Another process (here another open file description) cannot take the lock.
        with open(tmp_path / "r" / ".lock") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match=r"is being written by process \d+"):
            with open_run_folder(str(tmp_path), "r", {}):
                pass
    with open_run_folder(str(tmp_path), "r", {}):  # released once the first is done
        pass


def test_a_failed_write_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("the finished model")

    def full_disk(temporary):
        with open(temporary, "w") as partial:
            partial.write("half a mod")
        raise OSError(28, "No space left on device", temporary)

    with pytest.raises(OSError, match="No space left"):
        write_atomically(str(path), full_disk)
    assert path.read_text() == "the finished model"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_file_system_errors_are_one_line(data_dir, tmp_path, capsys, monkeypatch):
    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device", "model.keras")

    monkeypatch.setattr(keras.Model, "save", full_disk)
    assert main(quick(data_dir, tmp_path, "--run", "r")) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith("r/best.keras': No space left on device")  # the first save
    assert len(error.splitlines()) == 1
    assert not (tmp_path / "r" / "metrics.json").exists()
    monkeypatch.undo()
    (tmp_path / "file").write_text("x")
    assert main(quick(data_dir, tmp_path / "file", "--run", "r")) == 2
    assert "cannot write or read" in capsys.readouterr().err


def test_a_failed_overwrite_leaves_the_finished_run_whole(tmp_path):
    from multimodal_tf.runs.folder import replace_run_files

    (tmp_path / "model.keras").write_text("the finished model")
    (tmp_path / "metrics.json").write_text('{"finished": true}')

    def full_disk(path):
        raise OSError(28, "No space left on device", path)

    with pytest.raises(OSError):
        replace_run_files(str(tmp_path), full_disk, {"new": True})
    assert (tmp_path / "model.keras").read_text() == "the finished model"
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"finished": True}
    replace_run_files(
        str(tmp_path), lambda path: open(path, "w").write("the new model"), {"new": True}
    )
    assert (tmp_path / "model.keras").read_text() == "the new model"
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"new": True}


@pytest.mark.slow
def test_a_diverged_run_leaves_nothing_to_resume(data_dir, tmp_path, capsys, monkeypatch):
    def diverging(*args, **kwargs):
        config = args[2]
        os.makedirs(os.path.join(config.output_dir, "backup"))  # as an epoch's backup would
        raise NonFiniteLossError("training stopped at epoch 2, batch 1: the loss is nan.")

    monkeypatch.setattr(runs.training_run, "train", diverging)
    assert main(quick(data_dir, tmp_path, "--run", "d")) == 2
    assert "the loss is nan" in capsys.readouterr().err
    assert (
        not (tmp_path / "d" / "backup").exists() and not (tmp_path / "d" / "metrics.json").exists()
    )
    monkeypatch.setattr(runs.training_run, "train", training.train)
    assert (
        main(quick(data_dir, tmp_path, "--run", "d", "--learning-rate", "0.001")) == 0
    )  # a fresh start


@pytest.mark.slow
def test_tune_never_replaces_a_finished_training_run(data_dir, tmp_path, capsys):
    assert main(quick(data_dir, tmp_path, "--run", "r")) == 0
    tune = quick(data_dir, tmp_path, "--run", "r", "--max-trials", "1")
    tune[0] = "tune"
    assert main(tune) == 2
    assert "holds a finished training run" in capsys.readouterr().err


def test_trials_that_ended_failed_count_as_finished(tmp_path):
    for number, status in enumerate(["COMPLETED", "FAILED", "INVALID", "RUNNING"]):
        trial = tmp_path / "tuner" / f"trial_{number}"
        trial.mkdir(parents=True)
        (trial / "trial.json").write_text(json.dumps({"status": status}))
    assert runs.tuning_run._finished_trials(str(tmp_path)) == 3
