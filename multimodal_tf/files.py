"""Files written whole or not at all.

Every file a run depends on (`model.keras`, `metrics.json`, the epoch
backup, the best checkpoint, exports) is written to a temporary name beside
it, flushed to the disk (`fsync`) and renamed (`os.replace`): a full disk
or a killed process leaves the old file, never half a new one. A failed
write is an `OSError` that names the file (the command line prints it as
one line, exit 2).
"""

from __future__ import annotations

import errno
import json
import os
import shutil

MIB = 2**20


def write_atomically(path: str, write) -> None:
    """Calls `write(temporary_path)`, flushes the result to disk and renames it to `path`.

    The temporary name keeps `path`'s extensions (`.keras`, `.weights.h5`:
    writers that check or add one see it). A failure (a full disk, an
    interrupted process) leaves `path` as it was. `write` may make a folder
    (a SavedModel) instead of a file: it replaces `path` if that is an
    empty folder.

    Args:
        path: the file to write.
        write: a function writing the whole file to the path it is given.

    Raises:
        OSError: the write, flush or rename failed; its `filename` is `path`.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "note.txt"
        ...     write_atomically(
        ...         str(path), lambda temporary: pathlib.Path(temporary).write_text("done")
        ...     )
        ...     print(path.read_text())
        done
    """
    directory, base = os.path.split(path)
    extension = base[base.index(".", 1) :] if "." in base[1:] else ""  # all of `.weights.h5`
    temporary = os.path.join(directory, f".{base}.partial{extension}")
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
        _fsync(directory or ".")
    except OSError as error:
        raise named_error(error, path) from None
    finally:
        if os.path.isdir(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
        elif os.path.lexists(temporary):
            os.remove(temporary)


def named_error(error: OSError, path: str) -> OSError:
    """`error` as an `OSError` naming `path` (h5py's and Keras' often name a temporary or none)."""
    if error.filename == path:
        return error
    text = str(error).strip()
    cause = error.strerror or (text.splitlines()[0] if text else type(error).__name__)
    if error.errno == errno.ENOSPC or "No space left" in str(error):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    return OSError(error.errno, cause, path)


def check_free_space(path: str, needed: int) -> None:
    """Refuses to start writing `path` when its disk has less than `needed` bytes free.

    Some writers (h5py's) do not fail cleanly on a full disk: they are
    stopped before they start.

    Raises:
        OSError: `ENOSPC`, naming `path`, how much is needed and how much is free.
    """
    folder = os.path.dirname(path) or "."
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device: needs about {needed / MIB:.1f} MiB, "
            f"{free / MIB:.1f} MiB free (free some space, then rerun to resume)",
            path,
        )


def check_writable(path: str) -> None:
    """Refuses a `path` that cannot be written: its nearest existing folder is a file or read-only.

    A cheap check before long work (loading a model, converting it) whose
    result would go there.

    Raises:
        OSError: naming `path` and the cause.
    """
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise OSError(errno.ENOTDIR, f"{folder!r} is a file, not a folder", path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(errno.EACCES, f"{folder!r} cannot be written", path)


def write_json(path: str, value) -> None:
    """Writes `value` as JSON to `path` atomically; refuses NaN (not valid JSON)."""

    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as json_file:
            json.dump(value, json_file, indent=2, ensure_ascii=False, allow_nan=False)

    write_atomically(path, write)


def _fsync(path: str) -> None:
    """Flushes `path` (a file or a folder) to the disk; a folder that cannot be is skipped."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        if os.path.isdir(path):
            return  # some file systems do not open folders; the rename is still atomic
        raise
    try:
        os.fsync(descriptor)
    except OSError as error:
        if not os.path.isdir(path) or error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(descriptor)
