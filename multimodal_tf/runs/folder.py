"""Run folders that cannot be mixed, overwritten or escaped.

`multimodal-tf train --run NAME` writes `<output>/NAME/`. While a process
trains it holds the folder's lock; the folder records the options it was
started with (`run_config.json`) and the training time so far
(`progress.json`). The rules, each tested in tests/test_run_folder.py:

- NAME is one path component: no `/`, no `..`, not absolute.
- A finished run (`model.keras` and `metrics.json`) is never replaced
  unless asked (`overwrite=True`, `--overwrite`).
- An interrupted run resumes only with the options it was started with;
  other options are refused, naming the fields that differ, unless asked
  to start over (`restart=True`, `--restart`).
- One process at a time: a second one is refused while the first holds the
  lock (released by the system when the first process ends, however).
- Files are written to a temporary name and renamed, so a full disk or a
  crash never leaves a half-written `model.keras` or `metrics.json` that
  looks finished.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import shutil
import time
import zipfile

import keras

from multimodal_tf.files import write_atomically, write_json
from multimodal_tf.training import BACKUP_FOLDER, CHECKPOINT_FILE, FEATURE_CACHE_FOLDER, LOG_FOLDER

MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "run_config.json"
PROGRESS_FILE = "progress.json"
SEARCH_CONFIG_FILE = "search_config.json"  # a search's options (`tune`)
LOCK_FILE = ".lock"
# What a fresh start removes (never model.keras or metrics.json: they are
# replaced, atomically, only when the new run has finished).
TRAINING_LEFTOVERS = (
    BACKUP_FOLDER,
    LOG_FOLDER,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    PROGRESS_FILE,
    FEATURE_CACHE_FOLDER,
)
# Options that may change between an interrupted run and its resumption.
RESUMABLE_CHANGES = ("data_dir", "test_limit", "feature_cache")  # none changes what is learned


def check_run_name(name: str) -> str:
    """`name` when it is a single path component (a folder inside `--output`).

    Raises:
        ValueError: empty, `.`/`..`, absolute, or holding a path separator.
    """
    if (
        not isinstance(name, str)
        or not name.strip()
        or name in (".", "..")
        or os.sep in name
        or (os.altsep and os.altsep in name)
        or not name.isprintable()
    ):
        raise ValueError(
            "`run` must be a single folder name inside `--output` (no '/', not '.' or '..', no "
            "control "
            f"characters), got {name!r}."
        )
    return name


def replace_run_files(folder: str, save_model, metrics: dict) -> None:
    """Writes a run's `model.keras` (with `save_model(path)`) and `metrics.json`, replacing both.

    The new model is written in full first; only then does the old
    `metrics.json` go, the model take its place and the new `metrics.json`
    follow. A failure before the rename leaves the old run whole; after it,
    the folder lacks `metrics.json`, so it never passes for finished.
    """
    model_path, metrics_path = os.path.join(folder, MODEL_FILE), os.path.join(folder, METRICS_FILE)

    def save_then_swap(temporary):
        save_model(temporary)
        if os.path.exists(metrics_path):
            os.remove(metrics_path)

    write_atomically(model_path, save_then_swap)
    write_json(metrics_path, metrics)


def remove_training_state(folder: str) -> None:
    """Removes what an unfinished training left: backup, logs, checkpoint, options and progress."""
    _remove(folder, TRAINING_LEFTOVERS)


def remove_backup(folder: str) -> None:
    """Removes the epoch backup, once the run it could resume is saved."""
    _remove(folder, [BACKUP_FOLDER])


def is_finished(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, MODEL_FILE)) and os.path.isfile(
        os.path.join(folder, METRICS_FILE)
    )


@dataclasses.dataclass
class RunFolder:
    """A locked run folder, ready to train into.

    Attributes:
        path: the folder.
        resumed_epochs: epochs an interrupted run had finished (0: fresh).
        seconds_before: training seconds of those epochs.
    """

    path: str
    resumed_epochs: int = 0
    seconds_before: float = 0.0

    def record_progress(self, epochs: int, seconds: float) -> None:
        write_json(os.path.join(self.path, PROGRESS_FILE), {"epochs": epochs, "seconds": seconds})


def find_unfinished_run(output: str, prefix: str, config: dict) -> str | None:
    """The newest unfinished run `<prefix>-YYYYmmdd-HHMMSS` in `output` started with `config`.

    A default run (no `--run`) gets a timestamped name; rerunning the same
    command after an interruption finds it here and resumes it. Finished
    runs, runs with other options and folders another process holds are
    passed over.

    Returns:
        The folder's name, or None.
    """
    pattern = re.compile(re.escape(prefix) + r"-\d{8}-\d{6}")
    try:
        names = sorted(os.listdir(output), reverse=True)
    except OSError:
        return None
    for name in names:
        folder = os.path.join(output, name)
        saved = _read_json(os.path.join(folder, CONFIG_FILE))
        if (
            pattern.fullmatch(name)
            and isinstance(saved, dict)
            and not is_finished(folder)
            and not _differences(saved, config)
            and not _is_locked(folder)
        ):
            return name
    return None


def _is_locked(folder: str) -> bool:
    path = os.path.join(folder, LOCK_FILE)
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def check_search_options(folder: str, options: dict) -> None:
    """Records a search's options in its folder, or refuses other options than those recorded.

    keras-tuner resumes a search from its folder whatever the search space
    now is (a trial's stored values are taken as they are), so a search is
    resumed only with the options it was started with (`max_trials` aside).

    Raises:
        ValueError: the folder's search was started with other options (the
            message names the fields that differ).
    """
    path = os.path.join(folder, SEARCH_CONFIG_FILE)
    saved = _read_json(path)
    if saved is not None:
        differences = _differences(saved, options)
        if differences:
            raise ValueError(
                f"run folder {folder!r} holds a search started with other options: "
                f"{'; '.join(differences)}. Rerun with its options to resume it, or choose another "
                "--run."
            )
        return
    os.makedirs(folder, exist_ok=True)
    write_json(path, options)


def _differences(saved: dict, current: dict) -> list:
    names = sorted((set(saved) | set(current)) - set(RESUMABLE_CHANGES))
    return [
        f"{name} {saved.get(name)!r} (then) vs {current.get(name)!r} (now)"
        for name in names
        if saved.get(name) != current.get(name)
    ]


def _remove(folder: str, names) -> None:
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as json_file:
            return json.load(json_file)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def lock_run_folder(folder: str):
    """Holds `folder`'s lock for the block (made if need be); refuses if another process holds it.

    Raises:
        ValueError: another process writes the folder.
    """
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, LOCK_FILE), "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise ValueError(
                f"run folder {folder!r} is being written by {holder}; wait for it to finish or "
                "choose another --run."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"process {os.getpid()}")
        lock.flush()
        yield


@contextlib.contextmanager
def open_run_folder(
    output: str, name: str, config: dict, *, overwrite: bool = False, restart: bool = False
):
    """Locks `<output>/<name>` for training with `config` and says where to start.

    Args:
        output: the folder that holds run folders.
        name: the run's name (one path component).
        config: the run's options, as JSON-able values.
        overwrite: train although a finished run is there; it stays whole
            until the new one is saved (`replace_run_files`).
        restart: start an interrupted run over instead of resuming it.

    Yields:
        A `RunFolder`.

    Raises:
        ValueError: a bad name, another process holds the folder, a
            finished run without `overwrite`, or an interrupted run started
            with other options without `restart`.
    """
    folder = os.path.join(output, check_run_name(name))
    with lock_run_folder(folder):
        yield _prepare(folder, config, overwrite, restart)


def _prepare(folder: str, config: dict, overwrite: bool, restart: bool) -> RunFolder:
    if is_finished(folder) and not overwrite:
        raise ValueError(
            f"run folder {folder!r} holds a finished run ({MODEL_FILE}, {METRICS_FILE}); pass "
            "--overwrite to "
            "replace it, or choose another --run."
        )
    saved = _read_json(os.path.join(folder, CONFIG_FILE))
    interrupted = os.path.isdir(os.path.join(folder, BACKUP_FOLDER))
    if restart or not interrupted:
        _remove(folder, TRAINING_LEFTOVERS)
    else:
        differences = (
            ["the options it was started with are unknown"]
            if saved is None
            else _differences(saved, config)
        )
        if differences:
            raise ValueError(
                f"run folder {folder!r} holds an interrupted run started with other options: "
                f"{'; '.join(differences)}. Rerun with its options to resume it, or pass --restart "
                "to start it over."
            )
    _drop_partial_checkpoint(os.path.join(folder, CHECKPOINT_FILE))
    write_json(os.path.join(folder, CONFIG_FILE), config)
    progress = _read_json(os.path.join(folder, PROGRESS_FILE)) or {}
    # Keras' BackupAndRestore resumes after the epoch its metadata names.
    backup = _read_json(os.path.join(folder, BACKUP_FOLDER, "training_metadata.json")) or {}
    return RunFolder(folder, int(backup.get("epoch", 0)), float(progress.get("seconds", 0.0)))


def _drop_partial_checkpoint(path: str) -> None:
    """Removes a `best.keras` cut short (a full disk, a kill mid-write), saying so.

    Keras writes it in place; a resumed run must not leave a broken one that
    looks like the best model so far. Training writes a new one.
    """
    if not os.path.exists(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip() is not None
    except (zipfile.BadZipFile, OSError):
        broken = True
    if broken:
        os.remove(path)
        print(
            f"note: removed {path!r}, a checkpoint cut short; training writes a new one", flush=True
        )


class ProgressRecorder(keras.callbacks.Callback):
    """Records finished epochs and cumulative training seconds in the run folder."""

    def __init__(self, run_folder: RunFolder):
        super().__init__()
        self.run_folder = run_folder
        self.started = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = self.run_folder.seconds_before + time.perf_counter() - self.started
        self.run_folder.record_progress(epoch + 1, round(seconds, 1))
