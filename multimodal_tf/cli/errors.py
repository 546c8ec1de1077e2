"""What the CLI says when a command fails on a file or is interrupted: one line each."""

from __future__ import annotations

import re
import sys

FILE_ERRORS = (
    "No space left on device",
    "Read-only file system",
    "Permission denied",
    "No such file or directory",  # an image deleted after the checks, while streaming
)


def file_error_of(error) -> str | None:
    """A TensorFlow `OpError` about a file as one line (`'path': cause`), else None."""
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is None or not isinstance(error, tensorflow.errors.OpError):
        return None
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", str(error.message)).strip()
    first = message.splitlines()[0] if message else ""
    cause = next((cause for cause in FILE_ERRORS if cause in first), None)
    if cause is None:
        return None
    path = first.split(";")[0].strip()
    return f"{path!r}: {cause}" if path and path != first else first


def resume_hint(args, interrupt) -> str:
    """How to go on: for a `train` whose run folder is known, the folder and the exact command."""
    folder = getattr(interrupt, "run_folder", None)
    if args.command != "train" or folder is None:
        return _RESUME_HINTS.get(args.command, "")
    import os
    import shlex

    argv = list(getattr(args, "argv", None) or [])
    if args.run is None:
        argv += ["--run", os.path.basename(folder)]
    command = shlex.join(["multimodal-tf", *argv]) if argv else "the same command"
    return (
        f"; the run is in {folder!r}: rerun the same command to resume it after its last finished "
        f"epoch, that is: {command} (--restart starts it over)"
    )


_RESUME_HINTS = {
    "train": "; rerun the same command to resume after the last finished epoch (--restart starts "
    "over)",
    "tune": "; rerun the same command to resume the search (finished trials are kept)",
}
