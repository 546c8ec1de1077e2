"""Interruptions: a SIGINT is never lost, a default run is resumed by the same command."""

import gc
import glob
import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest

from multimodal_tf.runs.folder import CONFIG_FILE, find_unfinished_run, lock_run_folder
from multimodal_tf.runs.interrupts import InterruptGuard
from multimodal_tf.training import train
from tests.helpers import build_tiny, tiny_vowels_run
from tests.training.common import dataset, quiet


class LosesSigint:
    """Gets a SIGINT inside `__del__`, where Python prints the KeyboardInterrupt and drops it."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs at one of these bytecodes
            pass


class DeleteAt(keras.callbacks.Callback):
    """Deletes a `LosesSigint` at a training batch, as TensorFlow deletes iterators and tensors."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            LosesSigint()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost one
def test_a_sigint_lost_in_a_destructor_stops_training_a_batch_later():
    # Python's own handler, whatever the process had (a pytest-xdist worker may have another)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        config = quiet(epochs=3, checkpoint=False, tensorboard=False)
        # The window: under Python's own handler the interrupt is lost and training runs on.
        unguarded = train(lambda: build_tiny("cnn"), dataset(), config, callbacks=[DeleteAt()])
        assert unguarded.history.epoch == [0, 1, 2]
        with InterruptGuard() as guard, pytest.raises(KeyboardInterrupt):
            train(lambda: build_tiny("cnn"), dataset(), config, callbacks=[DeleteAt(), guard])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_sigint_in_a_gc_callback_is_held_for_the_next_check_not_printed(monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def interrupting(phase, info):  # as JAX's _xla_gc_callback may be interrupted
        if phase == "start":
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs at one of these bytecodes
                pass

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), InterruptGuard() as guard:
            gc.callbacks.append(interrupting)
            try:
                gc.collect()
            finally:
                gc.callbacks.remove(interrupting)
            assert guard.pending  # recorded, not raised inside the collector
        assert unraisable == []  # no "Exception ignored ... Traceback"
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_newest_unfinished_default_run_with_the_same_options_is_found(tmp_path):
    options = {"dataset": "d", "epochs": 3, "data_dir": "/a"}

    def folder(name, config, *files):
        os.makedirs(tmp_path / name)
        (tmp_path / name / CONFIG_FILE).write_text(json.dumps(config))
        for file in files:
            (tmp_path / name / file).write_text("x")

    folder("d-k-20260101-000000", options)  # older
    folder("d-k-20260102-000000", {**options, "data_dir": "/b"})  # data_dir may change
    folder("d-k-20260103-000000", {**options, "epochs": 4})  # other options
    folder("d-k-20260104-000000", options, "model.keras", "metrics.json")  # finished
    folder("named-run", options)  # not a default name
    folder("d-k-20260105-000000-worker1", options)
    assert find_unfinished_run(str(tmp_path), "d-k", options) == "d-k-20260102-000000"
    with lock_run_folder(str(tmp_path / "d-k-20260102-000000")):  # another process trains it
        assert find_unfinished_run(str(tmp_path), "d-k", options) == "d-k-20260101-000000"
    assert find_unfinished_run(str(tmp_path / "none"), "d-k", options) is None


def _start(data_dir, output, epochs):
    command = [sys.executable, "-m", "multimodal_tf.cli"]
    command += tiny_vowels_run(data_dir, output, "--epochs", str(epochs), test_limit=16)
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        # A shell without job control starts background commands (`.ci/run &`) with SIGINT
        # ignored, and children inherit that: the run under test gets the default back, as
        # from a terminal, so Python turns a SIGINT into KeyboardInterrupt.
        preexec_fn=_default_sigint,
    )


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_backup(process, output, timeout=240):
    """Waits until an epoch is backed up in the (only) run folder of `output`; its path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        runs = os.listdir(output) if os.path.isdir(output) else []
        for name in runs:
            if os.path.exists(os.path.join(output, name, "backup", "training_metadata.json")):
                return os.path.join(output, name)
        time.sleep(0.05)
    process.kill()
    pytest.fail("no backup appeared")


@pytest.mark.slow
def test_a_default_run_interrupted_or_killed_resumes_with_the_same_command(data_dir, tmp_path):
    output = str(tmp_path / "out")
    first = _start(data_dir, output, epochs=60)
    folder = _wait_for_backup(first, output)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    line = err.strip().splitlines()[-1]
    name = os.path.basename(folder)
    assert f"the run is in {folder!r}" in line and f"--run {name}" in line, line

    second = _start(data_dir, output, epochs=60)  # the same command, no --run
    time.sleep(1)
    deadline = time.monotonic() + 240
    while not os.path.exists(os.path.join(folder, "progress.json")) or (
        json.loads(open(os.path.join(folder, "progress.json")).read())["epochs"] < 3
    ):
        assert time.monotonic() < deadline and second.poll() is None
        time.sleep(0.05)
    second.kill()  # SIGKILL: no handler runs at all
    out, _ = second.communicate(timeout=60)
    assert f"note: resuming the unfinished run {folder!r}" in out
    assert "resuming run" in out

    third = _start(data_dir, output, epochs=60)
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, err
    assert f"resuming the unfinished run {folder!r}" in out
    assert os.listdir(output) == [name]  # no new timestamped folder
    metrics = json.loads(open(os.path.join(folder, "metrics.json")).read())
    assert metrics["epochs_trained"] == 60


@pytest.mark.slow
def test_a_sigint_before_the_first_epoch_names_the_folder_and_the_rerun_reuses_it(
    data_dir, tmp_path
):
    output = str(tmp_path / "out")
    first = _start(data_dir, output, epochs=2)
    deadline = time.monotonic() + 240
    while not glob.glob(os.path.join(output, "*", CONFIG_FILE)):  # the run folder's first file
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    (name,) = os.listdir(output)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert "Traceback" not in err
    assert f"--run {name} (--restart starts it over)" in err.strip().splitlines()[-1]
    second = _start(data_dir, output, epochs=2)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    assert f"resuming the unfinished run {os.path.join(output, name)!r}" in out
    assert os.listdir(output) == [name]
