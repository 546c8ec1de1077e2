"""Files written whole or not at all.

Every file a run depends on (`model.keras`, `metrics.json`, the backup's
side files, exports) is written to a temporary name beside it and renamed:
a full disk or a killed process leaves the old file, never half a new one.
"""

from __future__ import annotations

import json
import os


def write_atomically(path: str, write) -> None:
    """Calls `write(temporary_path)`, then renames the result to `path`.

    The temporary name keeps `path`'s extension (`.keras`, `.npz`: writers
    that check or add one see it). A failure (a full disk, an interrupted
    process) leaves `path` as it was.

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
    temporary = os.path.join(directory, f".{base}.partial{os.path.splitext(base)[1]}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json(path: str, value) -> None:
    """Writes `value` as JSON to `path` atomically; refuses NaN (not valid JSON)."""

    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as json_file:
            json.dump(value, json_file, indent=2, ensure_ascii=False, allow_nan=False)

    write_atomically(path, write)
