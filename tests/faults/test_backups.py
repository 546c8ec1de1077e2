"""Backups under faults: a full disk, a backup cut short, both generations damaged."""

import json
import os
import shutil

import keras
import pytest

from multimodal_tf.cli import main
from multimodal_tf.training import TrainingConfig, train
from multimodal_tf.training.backup import EPOCH_ATTRIBUTE
from tests.helpers import build_tiny, tiny_vowels_run
from tests.training.common import dataset, quiet


class Interrupt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the start of `epoch` (from 0), after earlier epochs' backups."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("interrupted for the test")


def interrupted(tmp_path, epochs_done: int) -> TrainingConfig:
    """A run of 4 epochs interrupted after `epochs_done`; its config, to resume it."""
    config = quiet(epochs=4, checkpoint=False, tensorboard=False, output_dir=str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        train(lambda: build_tiny("cnn"), dataset(), config, callbacks=[Interrupt(epochs_done)])
    return config


def test_each_backup_records_its_epoch_and_the_one_before_is_kept(tmp_path):
    import h5py

    interrupted(tmp_path, 2)
    backup = tmp_path / "backup"
    with h5py.File(backup / "latest.weights.h5") as latest:
        assert latest.attrs[EPOCH_ATTRIBUTE] == 2
    with h5py.File(backup / "previous.weights.h5") as previous:
        assert previous.attrs[EPOCH_ATTRIBUTE] == 1
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    assert json.loads((backup / "state.json.bkp").read_text())["epoch"] == 1
    assert not [name for name in os.listdir(backup) if "partial" in name or "next" in name]


def test_a_backup_cut_short_is_set_aside_and_the_one_before_resumes(tmp_path, capsys):
    config = interrupted(tmp_path, 2)
    latest = tmp_path / "backup" / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:1000])  # a full disk or a kill mid-write
    capsys.readouterr()
    resumed = train(lambda: build_tiny("cnn"), dataset(), config)
    out = capsys.readouterr().out
    assert "latest.weights.h5' cannot be read" in out and "set aside" in out
    assert "resuming from the previous backup, of epoch 1" in out
    assert resumed.history.epoch == [1, 2, 3]
    assert not (tmp_path / "backup").exists()  # removed when the run finished


def test_a_kill_between_the_renames_resumes_from_the_previous_backup(tmp_path, capsys):
    config = interrupted(tmp_path, 2)
    backup = tmp_path / "backup"
    # Killed after the generations moved up and before the new one took their place:
    (backup / "latest.weights.h5").unlink()
    (backup / "training_metadata.json").unlink()
    capsys.readouterr()
    resumed = train(lambda: build_tiny("cnn"), dataset(), config)
    assert "resuming from the previous backup, of epoch 1" in capsys.readouterr().out
    assert resumed.history.epoch == [1, 2, 3]


def test_no_readable_backup_starts_over_saying_so(tmp_path, capsys):
    config = interrupted(tmp_path, 2)
    backup = tmp_path / "backup"
    for name in ("latest.weights.h5", "previous.weights.h5"):
        (backup / name).write_bytes(b"\x89HDF\r\n\x1a\n not really")
    config = TrainingConfig(**{**config.__dict__, "keep_backup": True})
    capsys.readouterr()
    resumed = train(lambda: build_tiny("cnn"), dataset(), config)
    out = capsys.readouterr().out
    assert out.count("set aside as") == 2
    assert "no backup of this run can be read: training starts over from epoch 1" in out
    assert resumed.history.epoch == [0, 1, 2, 3]
    assert (backup / "latest.weights.h5.unreadable").is_file()


def test_a_backup_of_another_model_is_set_aside_not_a_keras_dump(tmp_path, capsys):
    config = interrupted(tmp_path, 1)
    other = build_tiny("cnn", filters=(2, 3))  # another shape: Keras cannot load it
    other.save_weights(str(tmp_path / "backup" / "latest.weights.h5"))
    capsys.readouterr()
    resumed = train(lambda: build_tiny("cnn"), dataset(), config)
    out = capsys.readouterr().out
    assert "latest.weights.h5' cannot be read" in out and "set aside" in out
    assert resumed.history.epoch == [0, 1, 2, 3]  # the .bkp: none after one epoch


def test_a_full_disk_stops_before_the_backup_naming_it(tmp_path, monkeypatch):
    real = shutil.disk_usage

    def almost_full(path):
        return real(path)._replace(free=100_000)

    monkeypatch.setattr(shutil, "disk_usage", almost_full)
    config = quiet(epochs=2, checkpoint=False, tensorboard=False, output_dir=str(tmp_path))
    with pytest.raises(OSError, match="No space left on device: needs about") as error:
        train(lambda: build_tiny("cnn"), dataset(), config)
    assert error.value.filename.endswith(os.path.join("backup", "latest.weights.h5"))


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_exit_2(data_dir, tmp_path, monkeypatch, capsys):
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=10_000))
    assert main(tiny_vowels_run(data_dir, tmp_path, "--run", "r", test_limit=16)) == 2
    err = capsys.readouterr().err  # (the first run also shows TFDS' preparation)
    assert "Traceback" not in err
    error = err.strip().splitlines()[-1]
    assert error.startswith("multimodal-tf train: error: cannot write or read '")
    assert "best.keras" in error or "latest.weights.h5" in error  # the first file of the epoch
    assert "No space left on device: needs about" in error
    assert not (tmp_path / "r" / "metrics.json").exists()
    monkeypatch.undo()
    assert main(tiny_vowels_run(data_dir, tmp_path, "--run", "r", test_limit=16)) == 0
    assert (tmp_path / "r" / "metrics.json").is_file()


def test_tensorboard_on_a_full_disk_is_one_line(data_dir, tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    def full_disk(self, logs=None):
        raise tf.errors.ResourceExhaustedError(
            None,
            None,
            "{{function_node __wrapped__CreateSummaryFileWriter}} /x/logs/train/events.out; No "
            "space left on device\n\tFailed to flush 1 events",
        )

    monkeypatch.setattr(keras.callbacks.TensorBoard, "on_train_begin", full_disk)
    assert main(tiny_vowels_run(data_dir, tmp_path, "--run", "r", test_limit=16)) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == (
        "multimodal-tf train: error: cannot write or read '/x/logs/train/events.out': No space "
        "left on device"
    )
