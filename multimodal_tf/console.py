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


class Progress:
    """Progress of long work that is not Keras' `fit`: feature caching, TFLite scoring, fetching.

    On a terminal one line is rewritten (at most ten times a second); off
    one (CI, `nohup`, a notebook's `!` cell) a line is written at most every
    `every_seconds`, and one at the end, so a log file grows by a few lines.
    Nothing is written with `verbose=0`, nor for work shorter than
    `after_seconds` off a terminal.

    Args:
        label: what is being done, e.g. "computing text features".
        total: the number of steps, or None when unknown.
        unit: what a step is ("texts", "rows").
        verbose: 0 silent; anything else (or "auto") shows progress.
        stream: where it goes (default: `sys.stderr`, so stdout stays data).
        every_seconds: off a terminal, the least time between two lines.
        after_seconds: off a terminal, the time before the first line.

    Example:
    >>> import io
    >>> stream = io.StringIO()
    >>> with Progress("scoring", total=3, unit="rows", stream=stream, after_seconds=0) as progress:
    ...     for _ in range(3):
    ...         progress.update()
    >>> stream.getvalue().splitlines()[-1].startswith("scoring: 3/3 rows (100%) in ")
    True
    """

    def __init__(
        self,
        label: str,
        total=None,
        unit: str = "",
        *,
        verbose=1,
        stream=None,
        every_seconds: float = 10.0,
        after_seconds: float = 2.0,
    ):
        import time

        self._clock = time.monotonic
        self.label, self.total, self.unit = label, total, unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = verbose not in (0, False)
        self.terminal = progress_verbosity(stream=self.stream) == 1
        self.every = 0.1 if self.terminal else every_seconds
        self.after = after_seconds
        self.count = 0
        self._written = None  # the count of the last line written off a terminal
        self.started = self._clock()
        self._shown = self.started - self.every + after_seconds

    def _line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        elapsed = self._clock() - self.started
        if self.total:
            share = f" ({self.count / self.total:.0%})"
            return f"{self.label}: {self.count}/{self.total}{unit}{share} in {elapsed:.1f} s"
        return f"{self.label}: {self.count}{unit} in {elapsed:.1f} s"

    def _write(self, final: bool) -> None:
        if self.terminal:
            self.stream.write(f"\r{self._line()}" + ("\n" if final else ""))
        else:
            self.stream.write(self._line() + "\n")
            self._written = self.count
        self.stream.flush()

    def update(self, steps: int = 1) -> None:
        """Counts `steps` more done, and shows it when it is time to."""
        self.count += steps
        now = self._clock()
        if self.enabled and now - self._shown >= self.every:
            self._shown = now
            self._write(final=False)

    def close(self) -> None:
        """Shows the final count, if a line was shown or the work took `after_seconds`."""
        if not self.enabled or (not self.terminal and self._written == self.count):
            return  # off a terminal, the last line written has the final count already
        if self._shown > self.started or self._clock() - self.started >= self.after:
            self._write(final=True)
        self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if exc_info[0] is None:
            self.close()
        elif self.terminal and self.enabled and self._shown > self.started:
            self.stream.write("\n")  # leave the rewritten line, then the error
        return False
