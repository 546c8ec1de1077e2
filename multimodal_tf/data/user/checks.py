"""Every row checked before streaming starts, cheaply; each problem names file, row and column.

Image files are checked by existence and a header sniff (no decoding),
`.npy` sequences by their header (memory-mapped), labels against the class
vocabulary, cells against their column's type. A bad row raises one
`BadRecordError` line, or is skipped and listed with its reason.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from multimodal_tf.data.images import IMAGE_EXTENSIONS, decode_image, sniff_image
from multimodal_tf.data.records import BadRecordError
from multimodal_tf.data.user.schema import is_integer, is_number

MODALITY_ROLES = ("image", "sequence", "text")


@dataclasses.dataclass
class CheckedRows:
    """The rows that passed and their targets; the skipped rows as `(row, reason)`."""

    rows: list
    targets: list
    skipped: list
    num_features: int | None


def fit_labels(schema, values) -> None:
    """Sets `schema.class_names` from a training table's label cells (sorted vocabulary)."""
    present = [value for value in values if value is not None]
    if schema.task == "regression":
        schema.class_names = None
    elif schema.label_kind == "integer":
        ids = sorted({int(float(value)) for value in present if is_number(value)})
        if ids and ids[0] < 0:
            raise ValueError(
                f"column {schema.label!r}: integer label {ids[0]} is negative; expected class "
                "ids 0, 1, ... (or string labels)."
            )
        schema.class_names = [str(index) for index in range(ids[-1] + 1 if ids else 0)]
    else:
        schema.class_names = sorted({str(value).strip() for value in present})


def encode_label(schema, value, where: str):
    """A label cell as its target: the class id, or a float for regression."""
    if value is None:
        raise BadRecordError(f"{where}: the label is missing.")
    if schema.task == "regression":
        if not is_number(value):
            raise BadRecordError(f"{where}: mixed types: {value!r} is not a number.")
        if not math.isfinite(float(value)):
            raise BadRecordError(f"{where}: {value!r} is not a finite number, expected a target.")
        return float(value)
    if schema.label_kind == "integer":
        if not (is_number(value) and is_integer(value)):
            raise BadRecordError(f"{where}: mixed types: {value!r} is not an integer class id.")
        index = int(float(value))
        if not 0 <= index < len(schema.class_names):
            raise UnseenLabelError(f"{where}: label {index} is not one of the training classes.")
        return index
    name = str(value).strip()
    try:
        return schema.class_names.index(name)
    except ValueError:
        raise UnseenLabelError(
            f"{where}: label {name!r} was never seen in training; the classes are "
            f"{schema.class_names}."
        ) from None


class UnseenLabelError(ValueError):
    """A label that training never saw: always an error, never a skipped row."""


def resolve(table, cell: str) -> str:
    """A path cell as a path: relative ones are read from the table's folder."""
    path = os.path.expanduser(cell.strip())
    return path if os.path.isabs(path) else os.path.join(table.folder, path)


def _check_cell(table, schema, row, column, role, value, state) -> None:
    where = table.where(row, column)
    if role == "numeric" and not is_number(value):
        raise BadRecordError(f"{where}: mixed types: {value!r} in a numeric column.")
    if role == "numeric" and not math.isfinite(float(value)):
        raise BadRecordError(
            f"{where}: {value!r} is not a finite number; leave the cell empty where it is unknown."
        )
    if role == "text" and not isinstance(value, str):
        raise BadRecordError(f"{where}: mixed types: {type(value).__name__}, expected text.")
    if role == "image":
        if not (isinstance(value, str) and value.strip().lower().endswith(IMAGE_EXTENSIONS)):
            raise BadRecordError(f"{where}: mixed types: {value!r} is not an image file name.")
        path = resolve(table, value)
        problem = sniff_image(path) if state["check_files"] else None
        if problem is None and state["check_files"] == "decode":
            try:
                decode_image(path)
            except ValueError as error:
                problem = f"not a readable image ({error})"
        if problem:
            raise BadRecordError(f"{where}: {value!r}: {problem}.")
    if role == "sequence":
        path = resolve(table, str(value))
        if not os.path.isfile(path):
            raise BadRecordError(f"{where}: {value!r}: the file does not exist.")
        try:
            shape = np.load(path, mmap_mode="r").shape
        except (OSError, ValueError) as error:
            raise BadRecordError(
                f"{where}: {value!r}: not a readable .npy file ({error})."
            ) from None
        if len(shape) != 2 or shape[0] == 0:
            raise BadRecordError(f"{where}: {value!r}: shape {shape}, expected (time, features).")
        if state["num_features"] not in (None, shape[1]):
            raise BadRecordError(
                f"{where}: {value!r}: {shape[1]} features, expected {state['num_features']}."
            )
        state["num_features"] = shape[1]


def check_rows(table, schema, *, on_bad_record="raise", check_files=True, labelled=True):
    """Checks every row of `table` against `schema`.

    Args:
        table: a `tables.Table`.
        schema: its `Schema` (with `class_names` fitted when labelled).
        on_bad_record: `"raise"` the first bad row, or `"skip"` bad rows.
        check_files: True checks that image files exist and have an image
            header (cheap); `"decode"` decodes each one too (slower, and
            catches truncated files before streaming); False checks nothing.
        labelled: whether rows need a label.

    Returns:
        A :class:`CheckedRows`.

    Raises:
        BadRecordError: a bad row, with `on_bad_record="raise"`.
        UnseenLabelError: a label the training classes do not include.
    """
    state = {"num_features": schema.num_features, "check_files": check_files}
    modal = [column for column, role in schema.roles.items() if role in MODALITY_ROLES]
    checked = CheckedRows([], [], [], None)
    frame = table.frame
    for row in range(len(frame)):
        try:
            if row in table.bad_rows:
                raise BadRecordError(table.bad_rows[row])
            for column, role in schema.roles.items():
                value = frame.at[row, column]
                if value is not None and role not in ("label", "ignore"):
                    _check_cell(table, schema, row, column, role, value, state)
            if modal and all(frame.at[row, column] is None for column in modal):
                raise BadRecordError(
                    f"{table.where(row)}: every input column ({', '.join(modal)}) is empty."
                )
            target = None
            if labelled and schema.label is not None:
                where = table.where(row, schema.label)
                target = encode_label(schema, frame.at[row, schema.label], where)
        except BadRecordError as error:
            if on_bad_record == "raise":
                raise
            checked.skipped.append((row, str(error)))
            continue
        checked.rows.append(row)
        checked.targets.append(target)
    checked.num_features = state["num_features"]
    return checked
