"""A run's `tabular` modality at its edges: CSV rows for `predict --batch`, and the SavedModel.

The model takes the FeatureSpace's encoding (`data.user.tabular`); these
helpers read a row's numeric and categorical cells as the encoding takes
them, and give the serving signature one raw input per column (a number
or a string, empty where unknown) that the graph encodes itself.
"""

from __future__ import annotations

import re

import numpy as np

from multimodal_tf.data.user.streaming import category_cell, numeric_cell
from multimodal_tf.runs.user_data import TABULAR_ROLES, tabular_encoding


def tabular_columns_of(table, columns: list, csv_path) -> dict:
    """`{run's column: the table's column}` for the tabular columns; {} where the table has
    none of them (the modality absent), a ValueError where it has only some."""
    found, missing = {}, []
    for name in columns:
        try:
            found[name] = table.match_column(name, "tabular")
        except ValueError:
            missing.append(name)
    if found and missing:
        raise ValueError(
            f"{csv_path!r} has the tabular columns {sorted(found)} but not {missing}; give all "
            "of them (empty cells where unknown), or none to mark the tabular modality absent."
        )
    return found


def empty_cell(cell) -> bool:
    """Whether a table's cell is empty (the table's missing marker, NaN or blank)."""
    return cell is None or (isinstance(cell, float) and np.isnan(cell)) or str(cell).strip() == ""


def read_tabular(cells: dict, metrics) -> dict:
    """A row's tabular cells as `{column: array (1,)}`, read as training read them
    (`streaming.numeric_cell`, `category_cell`); a ValueError names a column holding no
    finite number."""
    roles = metrics.get("user_data", {}).get("schema", {}).get("roles", {})
    values = {}
    for name in metrics["tabular_columns"]:
        cell = None if empty_cell(cells.get(name)) else cells.get(name)
        if roles.get(name) == TABULAR_ROLES[0]:  # numeric
            try:
                number = numeric_cell(cell)
            except (TypeError, ValueError):
                raise ValueError(f"column {name!r}: {cell!r} is not a number.") from None
            if cell is not None and not np.isfinite(number):
                raise ValueError(f"column {name!r}: {cell!r} is not a finite number.")
            values[name] = np.array([number], np.float32)
        else:
            values[name] = np.array([category_cell(cell)], object)
    return values


def encode_tabular(config, metrics, examples: list) -> np.ndarray:
    """The examples' tabular cells through the run's FeatureSpace (absent ones: zeros)."""
    blank = read_tabular({}, metrics)
    rows = [values.get("tabular", blank) for values in examples]
    cells = {name: np.concatenate([row[name] for row in rows]) for name in blank}
    encoded, _ = tabular_encoding(config).encode(cells)
    present = np.array([["tabular" in values] for values in examples], np.float32)
    return np.asarray(encoded) * present


def serving_names(columns: list) -> dict:
    """`{column: its input name in the SavedModel's signature}`: the name itself where
    TensorFlow accepts it, else with each other character as `_` (`"unit price"` →
    `"unit_price"`); a ValueError where two columns would share a name."""
    names = {}
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_.\-]", "_", column)
        name = name if re.match(r"[A-Za-z0-9.]", name) else f"column_{name}"
        if name in names.values() or name in ("image", "sequence", "text"):
            raise ValueError(
                f"the tabular column {column!r} would be the serving input {name!r}, which "
                "another input has already; rename the column and retrain to export."
            )
        names[column] = name
    return names


def tabular_specs(metrics) -> dict:
    """The signature's raw tabular inputs: a float32 per numeric column, a string per
    categorical one, each `(batch,)`."""
    import tensorflow as tf

    roles = metrics.get("user_data", {}).get("schema", {}).get("roles", {})
    specs = {}
    for column, name in serving_names(metrics["tabular_columns"]).items():
        numeric = roles.get(column) == TABULAR_ROLES[0]
        specs[name] = tf.TensorSpec([None], tf.float32 if numeric else tf.string, name=name)
    return specs


def encode_served(raw: dict, config, metrics):
    """The raw tabular inputs of a served batch, encoded in the graph: float `(batch, width)`."""
    names = serving_names(metrics["tabular_columns"])
    encoded, _ = tabular_encoding(config).encode(
        {column: raw[name] for column, name in names.items()}
    )
    return encoded
