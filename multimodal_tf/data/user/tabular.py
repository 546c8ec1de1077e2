"""A user's numeric and categorical columns as one encoded vector: `keras.utils.FeatureSpace`.

:class:`TabularEncoding` holds a FeatureSpace adapted on the training rows
(numeric columns `float_normalized`, categorical ones `string_categorical`,
one-hot with an out-of-vocabulary slot) and the value each numeric column's
empty cells take (its training mean, which normalises to 0). It turns the
columns `stream(..., include_tabular=True)` yields into the model's
`tabular` input and a `tabular_present` flag (0 where every tabular cell of
the row is empty), inside `tf.data`, and saves itself beside a run's model.

Example:
>>> data = from_csv("homes.csv", "price", task="regression")  # doctest: +SKIP
>>> table, rows, _ = data.sources["train"]  # doctest: +SKIP
>>> encoding = TabularEncoding.adapt(  # doctest: +SKIP
...     data.schema, tabular_cells(table, data.schema, rows))
>>> vector, present = encoding.encode(features)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from multimodal_tf.data.batches import AUTOTUNE

# An empty categorical cell's category. Not "": Keras drops an empty string
# from a saved vocabulary, so a reloaded FeatureSpace would be one slot short.
MISSING_CATEGORY = "[missing]"
FEATURE_SPACE_FILE = "tabular_feature_space.keras"
CROSSING_DIM = 32  # hashed one-hot slots per crossed pair
FILL_FILE = "tabular_fill.json"


def _cross_names(pair, categorical: list) -> tuple:
    """A cross's two columns as the schema names them (matched case-insensitively)."""
    names = []
    for name in pair:
        found = [column for column in categorical if column.casefold() == str(name).casefold()]
        if not found:
            raise ValueError(
                f"cross {list(pair)}: {name!r} is not a categorical column; the categorical "
                f"columns are {categorical} (crosses combine categories)."
            )
        names.append(found[0])
    return tuple(names)


def check_crosses(schema, crosses) -> list:
    """`crosses` as the schema names their columns.

    Raises:
        ValueError: a cross names a column that is not categorical.
    """
    return [_cross_names(pair, schema.columns("categorical")) for pair in crosses]


def tabular_columns(schema) -> tuple:
    """`(numeric columns, categorical columns)` of a schema, in the table's order."""
    return schema.columns("numeric"), schema.columns("categorical")


class TabularEncoding:
    """A fitted FeatureSpace and the numeric columns' fill values.

    Args:
        feature_space: an adapted `keras.utils.FeatureSpace` (`output_mode="concat"`).
        fill: `{numeric column: value}` for its empty (NaN) cells.
        categorical: the categorical columns.
    """

    def __init__(self, feature_space, fill: dict, categorical: list):
        self.feature_space = feature_space
        self.fill = {name: float(value) for name, value in fill.items()}
        self.categorical = list(categorical)

    @property
    def columns(self) -> list:
        """Every column the encoding reads: the numeric ones, then the categorical ones."""
        return [*self.fill, *self.categorical]

    @property
    def width(self) -> int:
        """The encoded vector's width (the model's `num_features`)."""
        cells = {name: tf.constant([0.0]) for name in self.fill}
        cells.update({name: tf.constant([MISSING_CATEGORY]) for name in self.categorical})
        return int(self.feature_space(cells).shape[-1])

    @classmethod
    def adapt(cls, schema, cells: dict, crosses=()) -> TabularEncoding:
        """Fits the encoding on the training rows' cells.

        Args:
            schema: the data's `Schema` (which columns are numeric, categorical).
            cells: `{column: array}` of the training rows, as
                `streaming.tabular_cells` gives them (NaN or "" where empty).
            crosses: pairs of categorical columns whose combinations are fed
                too (`FeatureSpace.cross`, hashed into `CROSSING_DIM` one-hot
                slots): where two columns matter together, as district and
                house type do for a price.

        Raises:
            ValueError: the schema has no numeric or categorical column, or a
                cross names a column that is not categorical.
        """
        numeric, categorical = tabular_columns(schema)
        if not numeric and not categorical:
            raise ValueError(
                f"no numeric or categorical column among {list(schema.roles)}: nothing is tabular."
            )
        crossed = check_crosses(schema, crosses)
        fill = {}
        for name in numeric:
            values = np.asarray(cells[name], np.float64)
            values = values[~np.isnan(values)]
            fill[name] = float(values.mean()) if values.size else 0.0
        features = {name: keras.utils.FeatureSpace.float_normalized() for name in numeric}
        features.update(
            {
                name: keras.utils.FeatureSpace.string_categorical(num_oov_indices=1)
                for name in categorical
            }
        )
        feature_space = keras.utils.FeatureSpace(
            features,
            crosses=[
                keras.utils.FeatureSpace.cross(pair, crossing_dim=CROSSING_DIM) for pair in crossed
            ],
            output_mode="concat",
        )
        encoding = cls(feature_space, fill, categorical)
        columns = {name: np.asarray(cells[name], np.float32) for name in numeric}
        columns.update({name: np.asarray(cells[name], object).astype(str) for name in categorical})
        dataset = tf.data.Dataset.from_tensor_slices(columns).batch(1024)
        feature_space.adapt(dataset.map(encoding._filled, num_parallel_calls=AUTOTUNE))
        return encoding

    def _filled(self, cells: dict) -> dict:
        """Empty numeric cells set to their fill value, empty categories to `MISSING_CATEGORY`."""
        filled = {}
        for name, value in self.fill.items():
            cell = tf.cast(cells[name], tf.float32)
            filled[name] = tf.where(tf.math.is_nan(cell), tf.constant(value, tf.float32), cell)
        for name in self.categorical:
            cell = cells[name]
            filled[name] = tf.where(cell == "", tf.constant(MISSING_CATEGORY), cell)
        return filled

    def present(self, cells: dict):
        """Float `(batch,)`: 1 where any tabular cell of the row is filled in, else 0."""
        flags = [~tf.math.is_nan(tf.cast(cells[name], tf.float32)) for name in self.fill]
        flags += [cells[name] != "" for name in self.categorical]
        return tf.cast(tf.reduce_any(tf.stack(flags, axis=-1), axis=-1), tf.float32)

    def encode(self, cells: dict) -> tuple:
        """`(encoded float (batch, width), present (batch,))` of a batch of columns' cells."""
        missing = [name for name in self.columns if name not in cells]
        if missing:
            raise ValueError(f"the tabular columns {missing} are missing; expected {self.columns}.")
        encoded = self.feature_space(self._filled(cells))
        return tf.cast(encoded, tf.float32), self.present(cells)

    def save(self, folder: str) -> None:
        """Writes the FeatureSpace and the fill values into `folder` (a run folder)."""
        self.feature_space.save(os.path.join(folder, FEATURE_SPACE_FILE))
        with open(os.path.join(folder, FILL_FILE), "w", encoding="utf-8") as stream:
            json.dump({"fill": self.fill, "categorical": self.categorical}, stream, indent=1)

    @classmethod
    def load(cls, folder: str) -> TabularEncoding:
        """The encoding :meth:`save` wrote into `folder`.

        Raises:
            ValueError: `folder` holds no saved encoding.
        """
        space, fill = (os.path.join(folder, name) for name in (FEATURE_SPACE_FILE, FILL_FILE))
        if not (os.path.isfile(space) and os.path.isfile(fill)):
            raise ValueError(
                f"{folder!r} has no {FEATURE_SPACE_FILE} and {FILL_FILE}: the run's tabular "
                "columns cannot be encoded (was the folder copied without them?)."
            )
        with open(fill, encoding="utf-8") as stream:
            saved = json.load(stream)
        encoding = cls(keras.saving.load_model(space), saved["fill"], saved["categorical"])
        # Built now, eagerly: first built in tf.data's graph, a reloaded vocabulary's size is a
        # symbolic tensor and Keras' CategoryEncoding fails.
        encoding.feature_space.get_encoded_features()
        return encoding
