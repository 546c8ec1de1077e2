"""The epoch backup: written whole or not at all, read back or set aside.

`BackupAndRestore` extends Keras' callback of the same name:

- each backup's weights file is made in memory, then written by Python to a
  temporary name, flushed and renamed, after a check that the disk has room
  for it (h5py writing to a disk that fills does not fail cleanly: it
  crashed the process, also when another process filled the disk after
  the check);
- two generations are kept (`latest.weights.h5` and the one before,
  `previous.weights.h5`); each weights file records its own epoch, so a
  process killed between two renames never pairs weights with another
  epoch's number;
- on resuming, a weights file that cannot be read (cut short, corrupt, of
  another model) is renamed `*.unreadable` with a one-line note, and the
  run resumes from the newest readable generation, or starts over, saying so;
- the layers' random generators and other callbacks' state are backed up
  beside the weights (see `BackupAndRestore`).
"""

from __future__ import annotations

import json
import os

import h5py
import keras
import numpy as np

from multimodal_tf.files import MIB, check_free_space, write_atomically, write_json
from multimodal_tf.keras_internals import resumed_epoch, start_fit_at_epoch, weights_file_bytes
from multimodal_tf.training.compiling import build_optimizer

EPOCH_ATTRIBUTE = "multimodal_tf_epoch"  # in the weights file: the epochs it has trained
UNREADABLE_SUFFIX = ".unreadable"


def variables_bytes(model) -> int:
    """The bytes of `model`'s variables and its optimizer's: about the size of their file."""
    variables = list(model.variables)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)


def space_needed(model, previous_path: str | None = None) -> int:
    """Bytes to keep free to save `model`: its variables (or the previous file) and a margin."""
    size = variables_bytes(model)
    if previous_path and os.path.exists(previous_path):
        size = max(size, os.path.getsize(previous_path))
    return int(size * 1.1) + 4 * MIB


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` that also backs up the random generators and other callbacks.

    Keras' weight files leave out the state of the layers' seed generators
    (dropout, modality dropout), so a resumed run would draw the dropout
    masks of the first epochs again and end with other weights. This one
    saves and restores those states too: with the same seed and data order,
    an interrupted and resumed run ends with the same weights as an
    uninterrupted one (tested).

    It also backs up the state of `stateful_callbacks` (objects with
    `backup_state(folder)` returning a JSON-able dict, and
    `restore_state(state, folder)`; `folder` is the backup's, for any file
    they keep), so that the best-model checkpoint still knows, after a
    resumption, the best value it saved, and early stopping its count. Give
    them before this callback in `fit`'s list: their `on_train_begin`
    (which resets them) then runs before this one restores them, and their
    `on_epoch_end` before this one backs them up.

    Both go to one JSON file, written whole or not at all and tagged with
    its epoch: one that is not of the epoch resumed from (a process killed
    between two writes) is left unused, with a note. The weights are
    written as the module says (atomically, after a free-space check, two
    generations, an unreadable one set aside).

    Args:
        backup_dir: the backup's folder.
        stateful_callbacks: a dict of name to callback whose state is backed up.
        **kwargs: Keras' `BackupAndRestore` arguments.
    """

    STATE_FILE = "state.json"

    def __init__(self, backup_dir, stateful_callbacks=None, **kwargs):
        kwargs.setdefault("double_checkpoint", True)
        super().__init__(backup_dir, **kwargs)
        # Keras' `latest.weights.h5.bkp` cannot be loaded by name (it must end in .weights.h5).
        self._prev_weights_path = os.path.join(backup_dir, "previous.weights.h5")
        self._state_path = os.path.join(backup_dir, self.STATE_FILE)
        self.stateful_callbacks = dict(stateful_callbacks or {})

    def _generations(self) -> list:
        """(weights, metadata, state) paths, newest first."""
        generations = [(self._weights_path, self._training_metadata_path, self._state_path)]
        if self.double_checkpoint:
            previous = self._prev_weights_path, self._prev_training_metadata_path
            generations.append((*previous, self._state_path + ".bkp"))
        return generations

    def _seed_states(self) -> dict:
        # By position: variable paths carry per-process counters, positions
        # are fixed by the architecture.
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        return {f"state_{number}": state for number, state in enumerate(states)}

    def on_train_begin(self, logs=None):  # replaces Keras' (which fails on an unreadable file)
        state_path = self._restore_weights()
        if state_path is None or not os.path.exists(state_path):
            return  # nothing to resume, or no state beside the weights
        try:
            with open(state_path, encoding="utf-8") as state_file:
                saved = json.load(state_file)
            epoch, random, callbacks = saved["epoch"], saved["random"], saved["callbacks"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"the backup's {state_path!r} cannot be read ({error}); remove the folder "
                f"{self.backup_dir!r} (the command line: --restart) to start the run over."
            ) from None
        if epoch != resumed_epoch(self.model):
            print(
                f"note: {state_path!r} is of epoch {epoch}, the weights of epoch "
                f"{resumed_epoch(self.model)}: dropout's random state and the callbacks' are not "
                "restored (the resumed run may differ slightly from an uninterrupted one)",
                flush=True,
            )
            return
        for name, state in self._seed_states().items():
            if name in random:
                state.assign(np.asarray(random[name], dtype=state.dtype))
        for name, callback in self.stateful_callbacks.items():
            if name in callbacks:
                callback.restore_state(callbacks[name], self.backup_dir)

    def _restore_weights(self):
        """Loads the newest readable generation; returns its state file's path (None: none)."""
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, the model must be built before `fit()`."
            )
        present = [paths for paths in self._generations() if os.path.exists(paths[0])]
        if not present:
            return None
        build_optimizer(self.model)
        variables = _all_variables(self.model)
        before = [keras.ops.convert_to_numpy(v) for v in variables]
        for weights, metadata, state in present:
            try:
                epoch = _epoch_of(weights, metadata)
                self.model.load_weights(weights)
            except Exception as error:  # h5py and Keras raise many kinds
                for variable, value in zip(variables, before):
                    variable.assign(value)  # a load that failed half-way
                os.replace(weights, weights + UNREADABLE_SUFFIX)
                cause = (str(error).strip().splitlines() or [type(error).__name__])[0]
                print(
                    f"note: the backup {weights!r} cannot be read ({cause[:200]}); set aside as "
                    f"{os.path.basename(weights) + UNREADABLE_SUFFIX!r}",
                    flush=True,
                )
                continue
            start_fit_at_epoch(self.model, epoch)
            if weights != self._weights_path:
                print(f"note: resuming from the previous backup, of epoch {epoch}", flush=True)
            return state
        print(
            "note: no backup of this run can be read: training starts over from epoch 1",
            flush=True,
        )
        for _, metadata, _ in self._generations():
            if os.path.exists(metadata):
                os.remove(metadata)
        start_fit_at_epoch(self.model, 0)
        return None

    def _save_model(self):  # Keras 3.15's hook, called on each backup
        os.makedirs(self.backup_dir, exist_ok=True)
        check_free_space(self._weights_path, space_needed(self.model, self._weights_path))
        epoch = self._current_epoch  # as Keras' training_metadata.json

        # Made in memory, written by Python: a disk that fills meanwhile is an OSError, where
        # h5py writing the file itself crashed the process (`keras_internals.weights_file_bytes`).
        owner = getattr(self.model, "weights_model", self.model)  # a feature-cache head: whole
        data = weights_file_bytes(owner, {EPOCH_ATTRIBUTE: epoch})

        def write(temporary):
            with open(temporary, "wb") as stream:
                stream.write(data)

        # The new weights first, whole; then the generations move up one.
        staged = os.path.join(self.backup_dir, "next.weights.h5")
        write_atomically(staged, write)
        (latest, latest_metadata, latest_state), previous = self._generations()[0], None
        if self.double_checkpoint:
            previous = self._generations()[1]
            for source, target in zip((latest, latest_metadata, latest_state), previous):
                if os.path.exists(source):
                    os.replace(source, target)
        os.replace(staged, latest)
        write_json(latest_metadata, {"epoch": epoch, "batch": self._last_batch_seen})
        state = {
            "epoch": epoch,
            "random": {
                name: keras.ops.convert_to_numpy(variable).tolist()
                for name, variable in self._seed_states().items()
            },
            "callbacks": {
                name: callback.backup_state(self.backup_dir)
                for name, callback in self.stateful_callbacks.items()
            },
        }
        write_json(latest_state, state)


def _all_variables(model) -> list:
    variables, seen = [], set()
    optimizer = getattr(model, "optimizer", None)
    for variable in [*model.variables, *(optimizer.variables if optimizer else [])]:
        if id(variable) not in seen:
            seen.add(id(variable))
            variables.append(variable)
    return variables


def _epoch_of(weights: str, metadata: str) -> int:
    """The epochs `weights` had trained: its own record, else its metadata file's (Keras')."""
    with h5py.File(weights, "r") as weights_file:
        epoch = weights_file.attrs.get(EPOCH_ATTRIBUTE)
    if epoch is not None:
        return int(epoch)
    with open(metadata, encoding="utf-8") as metadata_file:
        return int(json.load(metadata_file)["epoch"])
