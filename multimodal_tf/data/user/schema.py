"""What each column of a user's table is: inferred, overridable, printable, saved as JSON.

Roles: `image` (image file paths, by extension), `sequence` (`.npy` paths),
`text`, `numeric`, `categorical`, `label` and `ignore`. A
:class:`Schema` is what a run records (`to_dict`) and reads back
(`from_dict`), so prediction reads new files the way training read its own.
"""

from __future__ import annotations

import dataclasses
import numbers

from multimodal_tf.data.images import IMAGE_EXTENSIONS

ROLES = ("image", "sequence", "text", "numeric", "categorical", "label", "ignore")
TASKS = ("classification", "regression")
# A string column with at most this many distinct values (and at most half
# as many as it has cells) is categorical; otherwise it is text.
MAX_CATEGORIES = 50
# An integer label with more distinct values than this is a regression target.
MAX_INTEGER_CLASSES = 20


@dataclasses.dataclass
class Schema:
    """The columns' roles, the label's task and class vocabulary, and the input sizes.

    Attributes:
        roles: `{column: role}` in the table's order.
        label: the label column, or None (prediction).
        task: `"classification"` or `"regression"`.
        class_names: the class vocabulary (sorted), where classifying;
            class id i is `class_names[i]`.
        label_kind: `"string"`, `"integer"` or `"float"`.
        image_size: `(height, width)` images are resized to.
        channels: 3 (RGB) or 1 (grey).
        num_features: the width of `.npy` sequences, once seen.
    """

    roles: dict
    label: str | None = None
    task: str = "classification"
    class_names: list | None = None
    label_kind: str = "string"
    image_size: tuple = (64, 64)
    channels: int = 3
    num_features: int | None = None

    def columns(self, role: str) -> list:
        """The columns that have `role`, in the table's order."""
        return [column for column, each in self.roles.items() if each == role]

    @property
    def num_classes(self) -> int | None:
        """The number of classes, or None for regression."""
        return None if self.class_names is None else len(self.class_names)

    def describe(self) -> str:
        """A printable table of the columns and their roles, then the task."""
        width = max([len("column"), *(len(column) for column in self.roles)])
        lines = [f"{'column':<{width}}  role", f"{'-' * width}  {'-' * 11}"]
        lines += [f"{column:<{width}}  {role}" for column, role in self.roles.items()]
        if self.label is not None:
            if self.task == "regression":
                lines.append(f"task: regression on {self.label!r}")
            else:
                names = ", ".join(map(str, self.class_names or []))
                lines.append(f"task: classification on {self.label!r}, classes: {names}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The schema as JSON-ready values (what a run folder stores)."""
        values = dataclasses.asdict(self)
        values["image_size"] = list(self.image_size)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> Schema:
        """The schema :meth:`to_dict` gave.

        Raises:
            ValueError: a field is unknown or has a bad value.
        """
        if not isinstance(values, dict):
            raise ValueError(f"schema: {type(values).__name__}, expected a dict.")
        fields = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(
                f"schema: unknown field(s) {unknown}; expected some of {sorted(fields)}."
            )
        if not isinstance(values.get("roles"), dict):
            raise ValueError("schema field 'roles': expected a dict of column -> role.")
        for column, role in values["roles"].items():
            if role not in ROLES:
                raise ValueError(
                    f"schema field 'roles': column {column!r} has role {role!r}, "
                    f"expected one of {ROLES}."
                )
        values = dict(values)
        if values.get("task", "classification") not in TASKS:
            raise ValueError(f"schema field 'task': {values['task']!r}, expected one of {TASKS}.")
        if "image_size" in values:
            values["image_size"] = tuple(values["image_size"])
        return cls(**values)


def is_number(value) -> bool:
    """Whether a cell is a number, or a string that reads as one."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Number):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def is_integer(value) -> bool:
    """Whether a number cell holds a whole number (3, 3.0, "3")."""
    number = float(value)
    return number == int(number) if number == number and abs(number) != float("inf") else False


def _path_like(value, extensions) -> bool:
    return isinstance(value, str) and value.strip().lower().endswith(extensions)


def infer_role(values: list) -> str:
    """The role of a column from its present cells (None cells dropped)."""
    if not values:
        return "ignore"
    if all(_path_like(value, (".npy",)) for value in values):
        return "sequence"
    if sum(_path_like(value, IMAGE_EXTENSIONS) for value in values) * 2 >= len(values):
        return "image"
    numeric = sum(is_number(value) for value in values)
    if numeric * 5 >= len(values) * 4:  # 80 %: the rest are mixed types
        return "ignore" if is_row_id(values) else "numeric"
    if any(not isinstance(value, str) for value in values):
        return "text" if all(isinstance(v, (str, numbers.Number)) for v in values) else "ignore"
    distinct = len(set(values))
    if distinct <= MAX_CATEGORIES and distinct * 2 <= len(values):
        return "categorical"
    return "text"


def is_row_id(values: list) -> bool:
    """Whether a numeric column counts its rows: whole numbers, each once, in a gapless range
    (0..n-1, 1..n, an `id` or pandas' `Unnamed: 0`). As a feature it would teach the model the
    row order, and where rows follow their class, the labels."""
    if len(values) < 10 or not all(is_number(value) and is_integer(value) for value in values):
        return False
    whole = {int(float(value)) for value in values}
    return len(whole) == len(values) and max(whole) - min(whole) == len(values) - 1


def infer_task(values: list, task: str | None) -> tuple:
    """`(task, label_kind)` of a label column's present cells; `task` overrides the guess."""
    numbers_only = all(is_number(value) for value in values)
    if task == "regression":
        return "regression", "float"
    if numbers_only:
        whole = all(is_integer(value) for value in values)
        many = len({float(value) for value in values}) > MAX_INTEGER_CLASSES
        if task is None and (not whole or many):
            return "regression", "float"
        if whole:
            return "classification", "integer"
    return "classification", "string"


def build_schema(table, label, *, task=None, roles=None, image_size=(64, 64), channels=3):
    """Infers a :class:`Schema` for `table`; `roles` (`{column: role}`) overrides the guesses.

    Args:
        table: a `tables.Table`.
        label: the label column (matched case-insensitively), or None.
        task: None (inferred), `"classification"` or `"regression"`.
        roles: `{column: role}` overrides; a column not in the table is an error.
        image_size: `(height, width)` images are resized to.
        channels: 3 or 1.

    Returns:
        The schema, with `class_names` unset (see `labels.fit_labels`).

    Raises:
        ValueError: the label column or an overridden column does not exist,
            or a role or task is unknown.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS} or None, got {task!r}.")
    overrides = {}
    for column, role in (roles or {}).items():
        if role not in ROLES:
            raise ValueError(f"column {column!r}: role {role!r}, expected one of {ROLES}.")
        overrides[table.match_column(column, f"{role}_column")] = role
    if label is not None:
        label = table.match_column(label, "label")
        overrides[label] = "label"
    result = {}
    for column in table.frame.columns:
        if column in overrides:
            result[column] = overrides[column]
            continue
        present = [value for value in table.frame[column] if value is not None]
        result[column] = infer_role(present)
    schema = Schema(result, label, image_size=tuple(image_size), channels=channels)
    if label is not None:
        present = [value for value in table.frame[label] if value is not None]
        schema.task, schema.label_kind = infer_task(present, task)
    return schema
