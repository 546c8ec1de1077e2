"""The callbacks every training run gets: backup, checkpoint, logs, early stopping, NaN stop."""

from __future__ import annotations

import json
import os
import shutil

import keras
import numpy as np

from multimodal_tf.training.config import BACKUP_FOLDER, CHECKPOINT_FILE, LOG_FOLDER, TrainingConfig


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` that also backs up the random generators.

    Keras' weight files leave out the state of the layers' seed generators
    (dropout, modality dropout), so a resumed run would draw the dropout
    masks of the first epochs again and end with other weights. This one
    saves and restores those states too: with the same seed and data order,
    an interrupted and resumed run ends with the same weights as an
    uninterrupted one (tested).

    It also backs up the state of `stateful_callbacks` (objects with
    `backup_state(folder)` returning a JSON-able dict, and
    `restore_state(state, folder)`; `folder` is the backup's, for any file
    they keep), so that e.g. the best-model checkpoint still knows, after a
    resumption, the best value it saved before. Give them before this
    callback in `fit`'s list: their epoch ends then run before the backup.

    Args:
        backup_dir: the backup's folder.
        stateful_callbacks: a dict of name to callback whose state is backed up.
        **kwargs: Keras' `BackupAndRestore` arguments.
    """

    def __init__(self, backup_dir, stateful_callbacks=None, **kwargs):
        # Two generations of weights: a backup cut short (a full disk, a
        # kill mid-write) falls back to the one before.
        kwargs.setdefault("double_checkpoint", True)
        super().__init__(backup_dir, **kwargs)
        self._random_state_path = os.path.join(backup_dir, "random_state.npz")
        self._callback_state_path = os.path.join(backup_dir, "callback_state.json")
        self.stateful_callbacks = dict(stateful_callbacks or {})

    def _seed_states(self) -> dict:
        # By position: variable paths carry per-process counters, positions
        # are fixed by the architecture.
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        return {f"state_{number}": state for number, state in enumerate(states)}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if not os.path.exists(self._training_metadata_path):
            return  # nothing to resume
        if os.path.exists(self._random_state_path):
            with np.load(self._random_state_path) as saved:
                for name, state in self._seed_states().items():
                    if name in saved.files:
                        state.assign(saved[name])
        if os.path.exists(self._callback_state_path):
            with open(self._callback_state_path, encoding="utf-8") as state_file:
                saved = json.load(state_file)
            for name, callback in self.stateful_callbacks.items():
                if name in saved:
                    callback.restore_state(saved[name], self.backup_dir)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)  # Keras removed its files; the callbacks' go too

    def _save_model(self):  # Keras 3.15's hook, called on each backup
        super()._save_model()
        states = {
            name: keras.ops.convert_to_numpy(state) for name, state in self._seed_states().items()
        }
        np.savez(self._random_state_path, **states)
        if self.stateful_callbacks:
            callback_states = {
                name: callback.backup_state(self.backup_dir)
                for name, callback in self.stateful_callbacks.items()
            }
            with open(self._callback_state_path, "w", encoding="utf-8") as state_file:
                json.dump(callback_states, state_file)


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
                f"training stopped at epoch {self.epoch + 1}, batch {batch + 1}: the loss is {float(loss)}. "
                "The model diverged (a learning rate too high for this model, or inputs with extreme values); "
                "nothing was saved as a result. Lower --learning-rate and train again."
            )


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves `model` (default: the model being fitted) whenever `monitor` reaches a new low.

    Keras' `ModelCheckpoint` saves the model being fitted; when that is the
    head of a model whose frozen encoder is cached, the file must hold the
    whole model, raw inputs in.

    A resumed run carries on from the best value saved before the
    interruption (its state is in the backup: `backup_state`, `restore_state`), so
    a worse epoch after resuming never replaces a better model.

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
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            (self.saved_model or self.model).save(self.path)


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
            np.savez(os.path.join(folder, self.BEST_WEIGHTS_FILE), *self.best_weights)
            self._weights_saved = self.best_weights
        return {
            "monitor": self.monitor,
            "wait": self.wait,
            "best": None if self.best is None else float(self.best),
            "best_epoch": self.best_epoch,
        }

    def restore_state(self, state: dict, folder: str) -> None:
        if state.get("monitor") != self.monitor:
            return
        self.wait, self.best_epoch = int(state["wait"]), int(state["best_epoch"])
        self.best = state["best"]
        path = os.path.join(folder, self.BEST_WEIGHTS_FILE)
        if self.restore_best_weights and os.path.exists(path):
            with np.load(path) as saved:
                self.best_weights = [saved[f"arr_{index}"] for index in range(len(saved.files))]
            self._weights_saved = self.best_weights


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
