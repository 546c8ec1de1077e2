"""What the terminal sees: native log lines silenced, the real stderr, progress on or off a TTY.

The ground floor of the package: it imports nothing of TensorFlow or Keras,
so the command-line parser and the library both use it without a circle.

TensorFlow writes C++ log lines straight to the process' standard error
(`cuInit ... UNKNOWN ERROR (303)`, `oneDNN custom operations are on`,
`absl::InitializeLog`), which `TF_CPP_MIN_LOG_LEVEL` does not silence.
:func:`quiet_native_logs` therefore points file descriptor 2 at /dev/null
and gives Python's `sys.stderr` the real standard error, so Python warnings,
progress bars and errors stay visible and only native lines go.
`multimodal-tf --verbose` (or `MULTIMODAL_TF_VERBOSE=1`) keeps everything.
"""

from __future__ import annotations

import contextlib
import os
import sys

VERBOSE_VARIABLE = "MULTIMODAL_TF_VERBOSE"
_REAL_STDERR_FD = None


def verbose_requested() -> bool:
    """Whether the user asked for TensorFlow's native log lines (`MULTIMODAL_TF_VERBOSE=1`)."""
    return os.environ.get(VERBOSE_VARIABLE) == "1"


def quiet_native_logs():
    """Sends native (C++) writes to standard error to /dev/null; Python's stay (see module doc)."""
    global _REAL_STDERR_FD
    if _REAL_STDERR_FD is not None:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    _REAL_STDERR_FD = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(
        os.dup(_REAL_STDERR_FD), "w", buffering=1, encoding="utf-8", errors="backslashreplace"
    )


@contextlib.contextmanager
def real_stderr():
    """Standard error restored for the block, e.g. while a child process that inherits it starts."""
    if _REAL_STDERR_FD is None:
        yield
        return
    quiet = os.dup(2)
    os.dup2(_REAL_STDERR_FD, 2)
    try:
        yield
    finally:
        os.dup2(quiet, 2)
        os.close(quiet)


def progress_verbosity(verbose=None, stream=None) -> int:
    """Keras' `verbose` for `fit`: a progress bar on a terminal, one line per epoch off it.

    Keras' progress bar rewrites its line with carriage returns on every
    step; written to a file (CI, `nohup`, a notebook's `!` cell) that is
    one line per step. Off a terminal this gives Keras' `verbose=2`.

    Args:
        verbose: the user's own choice (0, 1, 2 or "auto"), kept as given;
            None or "auto" decides from `stream`.
        stream: the stream the progress goes to (default: `sys.stdout`).

    Returns:
        `verbose` when the user set it, else 1 on a terminal and 2 off one.

    Example:
    >>> import io
    >>> progress_verbosity(stream=io.StringIO()), progress_verbosity(0)
    (2, 0)
    """
    if verbose is not None and verbose != "auto":
        return verbose
    stream = sys.stdout if stream is None else stream
    try:
        return 1 if stream.isatty() else 2
    except (AttributeError, ValueError):  # a closed or unusual stream
        return 2
