"""`UserData`: a user's data as checked, streamed splits, with what a run records of it."""

from __future__ import annotations

import dataclasses

import numpy as np

from multimodal_tf.data.batches import AUTOTUNE
from multimodal_tf.data.user.streaming import stream


@dataclasses.dataclass
class UserData:
    """A user's data, checked and streamed: what training needs, and what a run records.

    Attributes:
        train: batched `(features, target)` `tf.data.Dataset`, shuffled.
        validation: the same for validation, or None.
        test: the same for test, or None.
        schema: the columns' roles, task and class vocabulary (`schema.to_dict()`
            is what a run saves).
        class_names: the class vocabulary (None for regression).
        rows: `{"train": [...], "validation": [...], "test": [...]}`, the row
            ids (0 = the first row after the header) of each split, in its file.
        skipped: `(row, reason)` of every skipped row; the reason names the
            file, row and column.
        tabular_encoding: the `TabularEncoding` (FeatureSpace) of the numeric
            and categorical columns, fitted on the training rows, where
            `include_tabular` was asked for and there are such columns.
    """

    train: object
    validation: object
    test: object
    schema: object
    class_names: list | None
    rows: dict
    skipped: list
    sources: dict = dataclasses.field(default_factory=dict, repr=False)
    tabular_encoding: object = dataclasses.field(default=None, repr=False)

    def split(self, name, *, batch_size=32, shuffle=False, seed=0, limit=None, **options):
        """A fresh stream of one split's rows (for other batch sizes, tokenisers, orders).

        Args:
            name: `"train"`, `"validation"` or `"test"`.
            batch_size: rows per batch.
            shuffle: whether to shuffle each epoch, with `seed`.
            seed: the shuffling seed.
            limit: read only the split's first N rows (None: all).
            **options: `streaming.stream`'s `text_preprocessor`, `mask_value`
                and `include_tabular` (the raw cells by column name; encoded into
                `tabular` as `train` has it where the data was loaded with
                `include_tabular=True`).

        Returns:
            A batched `(features, target)` `tf.data.Dataset`, or None where
            the split has no rows.
        """
        if name not in self.sources:
            raise ValueError(f"`name` must be one of {sorted(self.sources)}, got {name!r}.")
        table, ids, targets = self.sources[name]
        ids, targets = list(ids)[:limit], list(targets)[:limit]
        if not ids:
            return None
        dataset = stream(
            table,
            self.schema,
            ids,
            targets,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            **options,
        )
        if options.get("include_tabular") and self.tabular_encoding is not None:
            return encoded_splits({name: dataset}, self.tabular_encoding)[name]
        return dataset

    @property
    def num_classes(self) -> int | None:
        """The number of classes, or None for regression."""
        return self.schema.num_classes

    def target_statistics(self) -> dict:
        """A regression label's training targets: `{"target_mean", "target_std"}`, as
        `build_multimodal_model` takes them (a model that always predicts the mean
        scores an RMSE of about the std).

        Raises:
            ValueError: the data is labelled with classes, not numbers.
        """
        if self.schema.task != "regression":
            raise ValueError(
                f"column {self.schema.label!r} holds classes; target statistics are a "
                "regression label's."
            )
        targets = np.asarray(self.sources["train"][2], np.float64)
        return {"target_mean": float(targets.mean()), "target_std": float(targets.std())}

    def record(self) -> dict:
        """What a run folder records: the schema, each split's row ids and the skipped rows."""
        return {
            "schema": self.schema.to_dict(),
            "rows": {name: list(ids) for name, ids in self.rows.items()},
            "skipped": [{"row": row, "reason": reason} for row, reason in self.skipped],
        }

    def model_inputs(self) -> dict:
        """`build_multimodal_model` keyword arguments for the image, sequence and tabular inputs."""
        inputs = {}
        if self.schema.columns("image"):
            inputs["image"] = {"input_shape": (*self.schema.image_size, self.schema.channels)}
        if self.schema.columns("sequence"):
            inputs["sequence"] = {"num_features": self.schema.num_features}
        if self.tabular_encoding is not None:
            inputs["tabular"] = {"num_features": self.tabular_encoding.width}
        return inputs


def encoded_splits(datasets: dict, encoding) -> dict:
    """Each split (None stays None) with its tabular columns replaced by `tabular` and
    `tabular_present`, encoded by `encoding` (a `TabularEncoding`)."""

    def encode(features, *target):
        features = dict(features)
        encoded, present = encoding.encode(features)
        features = {name: value for name, value in features.items() if name not in encoding.columns}
        return ({**features, "tabular": encoded, "tabular_present": present}, *target)

    return {
        name: None if dataset is None else dataset.map(encode, num_parallel_calls=AUTOTUNE)
        for name, dataset in datasets.items()
    }
