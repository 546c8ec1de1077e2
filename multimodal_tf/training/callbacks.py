"""The callbacks every training run gets: backup, checkpoint, logs, early stopping, NaN stop."""

from __future__ import annotations

import os

import keras
import numpy as np

from multimodal_tf.files import check_free_space, write_atomically
from multimodal_tf.keras_internals import start_fit_at_epoch
from multimodal_tf.training.backup import BackupAndRestore, space_needed
from multimodal_tf.training.config import BACKUP_FOLDER, CHECKPOINT_FILE, LOG_FOLDER, TrainingConfig


class NonFiniteLossError(RuntimeError):
    """Training stopped because the loss became NaN or infinite."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training with a clear error the first time the loss is NaN or infinite.

    Keras' `TerminateOnNaN` stops quietly, and what was trained so far would
    then be saved and reported as a result; this raises instead, so nothing
    downstream mistakes a diverged model for a trained one.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            raise NonFiniteLossError(
                f"training stopped at epoch {self.epoch + 1}, batch {batch + 1}: the loss is "
                f"{float(loss)}. "
                "The model diverged (a learning rate too high for this model, or inputs with "
                "extreme values); "
                "nothing was saved as a result. Lower --learning-rate and train again."
            )


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves `model` (default: the model being fitted) whenever `monitor` reaches a new low.

    Keras' `ModelCheckpoint` saves the model being fitted; when that is the
    head of a model whose frozen encoder is cached, the file must hold the
    whole model, raw inputs in.

    The file is written whole or not at all (a kill mid-save leaves the
    previous best). A resumed run carries on from the best value saved
    before the interruption (its state is in the backup: `backup_state`,
    `restore_state`), so a worse epoch after resuming replaces nothing.

    Args:
        path: the `.keras` file.
        monitor: the logged loss to watch (`"val_loss"` or `"loss"`).
        model: the model to save.
    """

    def __init__(self, path: str, monitor: str, model=None):
        super().__init__()
        self.path, self.monitor, self.saved_model, self.best = path, monitor, model, np.inf

    def backup_state(self, folder: str) -> dict:
        return {"monitor": self.monitor, "best": None if np.isinf(self.best) else self.best}

    def restore_state(self, state: dict, folder: str) -> None:
        """Takes the backed-up best value, if it is of this monitor and its file is there."""
        if (
            state.get("monitor") == self.monitor
            and state.get("best") is not None
            and os.path.isfile(self.path)  # not removed as cut short
        ):
            self.best = float(state["best"])

    def on_train_begin(self, logs=None):
        self.best = np.inf  # a new fit; a resumed one's backup sets it after this

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and float(value) < self.best:
            self.best = float(value)
            model = self.saved_model or self.model
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            check_free_space(self.path, space_needed(model, self.path))
            write_atomically(self.path, model.save)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' `EarlyStopping` whose progress survives an interruption.

    Keras' starts counting again when a run resumes, forgets the best value
    and, with `restore_best_weights`, the best weights seen before: a resumed
    run would then stop later and end with other weights than an
    uninterrupted one. This one's state (epochs waited, best value and
    epoch, and the best weights, written to the backup folder when they
    change) is backed up by `BackupAndRestore` and restored on resuming.
    """

    BEST_WEIGHTS_FILE = "early_stopping_best_weights.npz"

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._weights_saved = None

    def backup_state(self, folder: str) -> dict:
        if self.best_weights is not None and self.best_weights is not self._weights_saved:
            arrays = {f"weight_{index}": value for index, value in enumerate(self.best_weights)}
            write_atomically(
                os.path.join(folder, self.BEST_WEIGHTS_FILE),
                lambda path: np.savez(path, best_epoch=self.best_epoch, **arrays),
            )
            self._weights_saved = self.best_weights
        return {
            "monitor": self.monitor,
            "wait": self.wait,
            "best": None if self.best is None else float(self.best),
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }

    def restore_state(self, state: dict, folder: str) -> None:
        """Takes the backed-up count, best value and weights; a run that had
        stopped early trains no more epochs (its best weights are restored)."""
        if state.get("monitor") != self.monitor:
            return
        self.wait, self.best_epoch = int(state["wait"]), int(state["best_epoch"])
        self.best, self.stopped_epoch = state["best"], int(state["stopped_epoch"])
        path = os.path.join(folder, self.BEST_WEIGHTS_FILE)
        if self.restore_best_weights and os.path.exists(path):
            with np.load(path) as saved:
                if int(saved["best_epoch"]) == self.best_epoch:  # else written after the state
                    count = len(saved.files) - 1
                    self.best_weights = [saved[f"weight_{index}"] for index in range(count)]
                    self._weights_saved = self.best_weights
        if self.stopped_epoch:
            start_fit_at_epoch(self.model, self.params["epochs"])  # it had stopped: no epoch left


def make_callbacks(config: TrainingConfig, validation: bool, saved_model=None) -> list:
    """TensorBoard, best-model checkpoint, backup and early stopping.

    Args:
        config: says which, and where (`output_dir`).
        validation: whether validation data is given; the checkpoint and
            early stopping then watch `val_loss`, else the training loss.
        saved_model: the model the checkpoint saves (default: the one fitted).

    Returns:
        A list of `keras.callbacks.Callback` (the progress bar is Keras'
        own, set by `verbose`).
    """
    monitor = "val_loss" if validation else "loss"
    callbacks = [StopOnNonFiniteLoss()]
    stateful = {}  # the callbacks whose state the backup keeps
    if config.output_dir is not None:
        if config.checkpoint:
            stateful["best_checkpoint"] = BestModelCheckpoint(
                os.path.join(config.output_dir, CHECKPOINT_FILE), monitor, saved_model
            )
            callbacks.append(stateful["best_checkpoint"])
        if config.tensorboard:
            callbacks.append(
                keras.callbacks.TensorBoard(os.path.join(config.output_dir, LOG_FOLDER))
            )
    if config.early_stopping_patience is not None:
        stateful["early_stopping"] = ResumableEarlyStopping(
            monitor=monitor, patience=config.early_stopping_patience, restore_best_weights=True
        )
        callbacks.append(stateful["early_stopping"])
    if config.output_dir is not None and config.backup:
        # Last: the others' epoch ends run before it backs them up.
        callbacks.append(
            BackupAndRestore(
                os.path.join(config.output_dir, BACKUP_FOLDER),
                stateful_callbacks=stateful,
                delete_checkpoint=not config.keep_backup,
            )
        )
    return callbacks
