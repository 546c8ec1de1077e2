"""Ctrl-C during training: never lost, and always told how to resume.

Python runs a signal's handler in the main thread between two bytecodes,
wherever it is: when that is inside a `__del__` (TensorFlow deletes the
last epoch's dataset iterator and tensors there, h5py its file objects
during a backup), the `KeyboardInterrupt` it raises is printed as
"Exception ignored" and lost, and training goes on to the end. The probe
of issue 30 lost one SIGINT of 7 sent during epoch 3 that way.
`InterruptGuard` closes that window: its handler also records the
interrupt, and as a callback it raises it again at the next batch or epoch
boundary (not at an epoch's end, where the backup still has to be written),
so a lost `KeyboardInterrupt` stops training a batch later. Where the
signal lands inside a finaliser (a `__del__`, or a garbage-collector
callback such as JAX's `_xla_gc_callback`), the handler only records it:
raised there, it would be printed as "Exception ignored ... Traceback" and
lost; the next check raises it (at the latest when the guard exits).
"""

from __future__ import annotations

import contextlib
import gc
import signal
import threading

import keras


class InterruptGuard(keras.callbacks.Callback):
    """A SIGINT handler (while entered, as a context manager) and a callback that re-raises it.

    Example:
        >>> with InterruptGuard() as guard:
        ...     guard.check()  # raises KeyboardInterrupt only after a SIGINT
    """

    def __init__(self):
        super().__init__()
        self.pending = False  # a SIGINT came (its KeyboardInterrupt may have been lost)
        self._held = False  # one came inside a finaliser and has not been raised since
        self._previous = None

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, exception_type, *exception):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if exception_type is None and self._held:
            self.check()
        return False

    def _handle(self, signum, frame):
        self.pending = True
        if in_a_finaliser(frame):
            self._held = True
        else:
            raise KeyboardInterrupt

    def check(self) -> None:
        """Raises `KeyboardInterrupt` if a SIGINT came (and may have been lost)."""
        if self.pending:
            self._held = False
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch, logs=None):
        self.check()

    def on_test_batch_end(self, batch, logs=None):
        self.check()

    def on_epoch_begin(self, epoch, logs=None):
        self.check()

    def on_train_end(self, logs=None):
        self.check()


def in_a_finaliser(frame) -> bool:
    """Whether `frame` runs inside a `__del__` or a garbage-collector callback.

    An exception raised there is printed as "Exception ignored" and dropped.
    """
    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def naming_the_run_on_interrupt(folder: str):
    """Adds `run_folder` to a `KeyboardInterrupt` leaving the block (the command line prints it)."""
    try:
        yield
    except KeyboardInterrupt as interrupt:
        interrupt.run_folder = folder
        raise
