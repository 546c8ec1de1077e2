"""Logs, the best model, early stopping, and resuming to the same weights."""

import glob
import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf import training
from multimodal_tf.training import TrainingConfig, train
from tests.helpers import build_tiny, make_data
from tests.training.common import dataset, quiet


def test_callbacks_write_logs_and_the_best_model(tmp_path):
    output = str(tmp_path / "run")
    data = dataset()
    result = train(lambda: build_tiny("cnn"), data, quiet(output_dir=output), validation_data=data)
    assert glob.glob(os.path.join(output, "logs", "train", "events.out.tfevents.*"))
    assert glob.glob(os.path.join(output, "logs", "validation", "events.out.tfevents.*"))
    best = keras.saving.load_model(os.path.join(output, training.CHECKPOINT_FILE))
    best_loss = min(result.history.history["val_loss"])
    assert best.evaluate(data, verbose=0, return_dict=True)["loss"] == pytest.approx(
        best_loss, rel=1e-4
    )
    assert not os.path.exists(os.path.join(output, "backup"))  # removed once training ends


def test_early_stopping_stops_and_keeps_the_best_weights():
    # The best epoch is the first (flipped_validation), so training stops at 3.
    result = train_flipped(quiet(epochs=20, early_stopping_patience=2))
    losses = result.history.history["val_loss"]
    assert len(losses) == 3 and losses[0] == min(losses)
    restored = result.model.evaluate(flipped_validation(), verbose=0, return_dict=True)["loss"]
    assert restored == pytest.approx(losses[0], rel=1e-5)


class Interrupt(keras.callbacks.Callback):
    """Raises in the middle of an epoch, like a killed job."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("interrupted for the test")


@pytest.fixture
def deterministic_ops():
    """TensorFlow's deterministic kernels for one test (multi-threaded CPU
    reductions otherwise vary in the last bits from run to run)."""
    from tensorflow.python.framework import config as tf_config

    tf.config.experimental.enable_op_determinism()
    yield
    tf_config.disable_op_determinism()


@pytest.mark.parametrize("kind", ["cnn", pytest.param("multimodal", marks=pytest.mark.slow)])
def test_backup_and_restore_resumes_to_the_same_weights(tmp_path, kind, deterministic_ops):
    data = dataset(kind)
    config = quiet(epochs=3, checkpoint=False, tensorboard=False)
    uninterrupted = train(lambda: build_tiny(kind, dropout=0.25), data, config)

    resumable = TrainingConfig(**{**config.__dict__, "output_dir": str(tmp_path)})
    with pytest.raises(KeyboardInterrupt):
        train(
            lambda: build_tiny(kind, dropout=0.25),
            data,
            resumable,
            callbacks=[Interrupt(epoch=1, batch=3)],
        )
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1  # the first epoch was backed up
    resumed = train(lambda: build_tiny(kind, dropout=0.25), data, resumable)
    assert resumed.history.epoch == [1, 2]  # continued from the saved epoch
    for expected, actual in zip(uninterrupted.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(expected, actual)


def flipped_validation():
    """Validation data whose labels are flipped: learning the training labels
    makes its loss grow every epoch, so the best epoch is the first."""
    inputs, labels = make_data("cnn", n=64)
    return tf.data.Dataset.from_tensor_slices((inputs, (1 - labels).astype("int32"))).batch(8)


def train_flipped(config, callbacks=()):
    return train(
        lambda: build_tiny("cnn"),
        dataset(),
        config,
        validation_data=flipped_validation(),
        callbacks=list(callbacks),
    )


def interrupted_in_epoch(epoch, config) -> dict:
    """Trains until interrupted in `epoch` (from 0); the backed-up callbacks' states."""
    with pytest.raises(KeyboardInterrupt):
        train_flipped(config, [Interrupt(epoch=epoch, batch=3)])
    return json.loads((Path(config.output_dir) / "backup" / "state.json").read_text())["callbacks"]


def test_a_resumed_run_keeps_the_best_model_saved_before_the_interruption(tmp_path):
    config = quiet(epochs=3, output_dir=str(tmp_path), tensorboard=False)
    state = interrupted_in_epoch(1, config)
    assert state["best_checkpoint"]["monitor"] == "val_loss"
    best_path = tmp_path / training.CHECKPOINT_FILE
    saved_before = best_path.read_bytes()
    resumed = train_flipped(config)
    assert resumed.history.epoch == [1, 2]
    assert best_path.read_bytes() == saved_before  # worse epochs after resuming replace nothing
    best_loss = keras.saving.load_model(best_path).evaluate(flipped_validation(), verbose=0)[0]
    assert best_loss == pytest.approx(state["best_checkpoint"]["best"], rel=1e-5)
    assert best_loss < min(resumed.history.history["val_loss"])
    assert not (tmp_path / "backup").exists()


def test_early_stopping_resumes_where_it_was(tmp_path, deterministic_ops):
    config = quiet(epochs=20, early_stopping_patience=2, checkpoint=False, tensorboard=False)
    uninterrupted = train_flipped(config)
    assert uninterrupted.history.epoch == [0, 1, 2]
    resumable = TrainingConfig(**{**config.__dict__, "output_dir": str(tmp_path)})
    state = interrupted_in_epoch(2, resumable)["early_stopping"]
    assert (state["wait"], state["best_epoch"]) == (1, 0)
    backup = tmp_path / "backup"
    assert (backup / training.ResumableEarlyStopping.BEST_WEIGHTS_FILE).is_file()
    resumed = train_flipped(resumable)
    assert resumed.history.epoch == [2]  # stops where the uninterrupted run stopped
    for expected, actual in zip(uninterrupted.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(expected, actual)  # the first epoch's, restored
    assert not backup.exists()


def test_a_run_that_had_stopped_early_resumes_to_no_more_epochs(
    tmp_path, deterministic_ops, capsys
):
    # keep_backup: as `train_run` keeps it until model.keras is written (a kill in between).
    config = quiet(epochs=20, early_stopping_patience=2, output_dir=str(tmp_path), keep_backup=True)
    stopped = train_flipped(config)
    assert stopped.history.epoch == [0, 1, 2]
    resumed = train_flipped(config)
    assert resumed.history.epoch == []
    for expected, actual in zip(stopped.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(expected, actual)  # the best (first) epoch's
    # A state file of another epoch than the weights' is left unused, saying so.
    state_path = tmp_path / "backup" / "state.json"
    state = json.loads(state_path.read_text())
    state_path.write_text(json.dumps({**state, "epoch": 1}))
    train_flipped(config)
    assert "is of epoch 1, the weights of epoch 3" in capsys.readouterr().out
    (tmp_path / "backup" / "state.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"cannot be read.*--restart"):
        train_flipped(config)
