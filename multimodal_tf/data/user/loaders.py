"""`from_csv`, `from_dataframe`, `from_directory`: a user's own data as streamed splits.

Example:
>>> import pandas as pd
>>> frame = pd.DataFrame({"review": [f"text number {i}" for i in range(20)],
...                       "stars": ["good", "bad"] * 10})
>>> data = from_dataframe(frame, label="stars", validation_split=0.2, test_split=0.2)
>>> data.class_names, [len(data.rows[name]) for name in ("train", "validation", "test")]
(['bad', 'good'], [12, 4, 4])
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

from multimodal_tf.data.images import IMAGE_EXTENSIONS
from multimodal_tf.data.user.checks import check_rows, fit_labels
from multimodal_tf.data.user.prepared import UserData, encoded_splits
from multimodal_tf.data.user.schema import build_schema
from multimodal_tf.data.user.splits import carve_splits
from multimodal_tf.data.user.streaming import stream, tabular_cells
from multimodal_tf.data.user.tables import Table, read_table
from multimodal_tf.data.user.tabular import TabularEncoding
from multimodal_tf.validation import check_choice, check_positive_int, check_positive_int_tuple


def _roles(
    image_column,
    text_column,
    sequence_column,
    numeric_columns,
    categorical_columns,
    ignore_columns,
    roles,
) -> dict:
    """The per-column role overrides that the keyword arguments name."""
    overrides = dict(roles or {})
    for role, value in (
        ("image", image_column),
        ("text", text_column),
        ("sequence", sequence_column),
        ("numeric", numeric_columns),
        ("categorical", categorical_columns),
        ("ignore", ignore_columns),
    ):
        for column in [value] if isinstance(value, str) else list(value or ()):
            overrides[column] = role
    return overrides


def _conform(table: Table, schema, argument: str) -> Table:
    """A validation or test table with its columns renamed to the training table's."""
    renamed = {}
    for column, role in schema.roles.items():
        if role == "ignore":
            continue
        renamed[table.match_column(column, argument)] = column
    frame = table.frame.rename(columns=renamed)
    for column in schema.roles:
        if column not in frame.columns:
            frame[column] = None
    table.frame = frame
    return table


def _load(
    train_table,
    validation_table,
    test_table,
    *,
    label,
    task=None,
    roles=None,
    image_size=(64, 64),
    channels=3,
    batch_size=32,
    seed=0,
    on_bad_record="raise",
    validation_split=0.1,
    test_split=0.1,
    check_files=True,
    text_preprocessor=None,
    mask_value=0.0,
    include_tabular=False,
    crosses=(),
) -> UserData:
    check_choice("on_bad_record", on_bad_record, ("raise", "skip"))
    batch_size = check_positive_int("batch_size", batch_size)
    image_size = check_positive_int_tuple("image_size", image_size)
    if len(image_size) != 2:
        raise ValueError(f"`image_size` must be (height, width), got {image_size!r}.")
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3, got {channels!r}.")
    if label is None:
        raise ValueError("`label` must name the label column.")
    schema = build_schema(
        train_table, label, task=task, roles=roles, image_size=image_size, channels=channels
    )
    for role in ("image", "sequence", "text"):
        if role in (roles or {}).values():  # a chosen column: other guesses are ignored
            for column in schema.columns(role):
                if column not in roles and column.casefold() not in map(str.casefold, roles):
                    schema.roles[column] = "ignore"
    features = ("image", "sequence", "text", "numeric", "categorical")
    if not [role for role in schema.roles.values() if role in features]:
        raise ValueError(
            f"{train_table.source}: no image, text, .npy sequence, numeric or categorical column "
            f"among {list(schema.roles)}; name one with `image_column=` or `text_column=`."
        )
    good_labels = [
        value
        for row, value in enumerate(train_table.frame[schema.label])
        if row not in train_table.bad_rows
    ]
    fit_labels(schema, good_labels)
    options = {"on_bad_record": on_bad_record, "check_files": check_files}
    checked = {"train": check_rows(train_table, schema, **options)}
    schema.num_features = checked["train"].num_features
    tables = {"train": train_table}
    for name, table, argument in (
        ("validation", validation_table, "validation"),
        ("test", test_table, "test"),
    ):
        if table is not None:
            tables[name] = _conform(table, schema, argument)
            checked[name] = check_rows(tables[name], schema, **options)
    skipped = [item for name in checked for item in checked[name].skipped]
    if skipped:
        warnings.warn(f"skipped {len(skipped)} bad row(s); first: {skipped[0][1]}", stacklevel=3)
    train = checked["train"]
    if not train.rows:
        raise ValueError(f"{train_table.source}: no usable row is left.")
    carved = carve_splits(
        train.rows,
        train.targets,
        validation=0.0 if validation_table is not None else validation_split,
        test=0.0 if test_table is not None else test_split,
        seed=seed,
        stratify=schema.task == "classification",
        where=train_table.source,
        class_names=schema.class_names,
    )
    target_of = dict(zip(train.rows, train.targets))
    rows, datasets, sources = {}, {}, {}
    for name in ("train", "validation", "test"):
        if name in tables and name != "train":
            table, ids, targets = tables[name], checked[name].rows, checked[name].targets
        else:
            table, ids = train_table, carved[name]
            targets = [target_of[row] for row in ids]
        rows[name] = list(ids)
        sources[name] = (table, list(ids), list(targets))
        datasets[name] = (
            None
            if not ids
            else stream(
                table,
                schema,
                ids,
                targets,
                batch_size=batch_size,
                shuffle=name == "train",
                seed=seed,
                text_preprocessor=text_preprocessor,
                mask_value=mask_value,
                include_tabular=include_tabular,
            )
        )
    encoding = None
    if include_tabular and any(schema.columns(role) for role in ("numeric", "categorical")):
        cells = tabular_cells(train_table, schema, rows["train"])
        encoding = TabularEncoding.adapt(schema, cells, crosses=crosses)
        datasets = encoded_splits(datasets, encoding)
    return UserData(
        datasets["train"],
        datasets["validation"],
        datasets["test"],
        schema,
        schema.class_names,
        rows,
        skipped,
        sources,
        encoding,
    )


_DOC_ARGS = """
    Args (shared by `from_csv`, `from_dataframe` and `from_directory`):
        label: the label column (matched case-insensitively).
        validation, test: a separate validation / test file or DataFrame;
            without one, `validation_split` / `test_split` of the rows are
            carved from the training data (stratified by class, seeded).
        image_size: `(height, width)` every image is resized to.
        batch_size: rows per batch.
        seed: the split and shuffle seed.
        on_bad_record: `"raise"` (one line naming file, row and column) or
            `"skip"` (counted and listed in `UserData.skipped`).
        task: None (inferred), `"classification"` or `"regression"`.
        image_column, text_column, sequence_column, numeric_columns,
            categorical_columns, ignore_columns, roles: override the
            inferred roles of columns.
        delimiter: the CSV delimiter (`,` `;` tab); None sniffs it.
        channels: 3 (RGB) or 1 (grey).
        validation_split, test_split: the fractions carved without files.
        check_files: True sniffs every image's header before streaming;
            `"decode"` decodes each once (catches truncated files); False
            skips the check.
        text_preprocessor: a `build_text_preprocessor` result (token
            inputs), or None (raw strings under `"text"`).
        mask_value: the padding value of `.npy` sequences.
        include_tabular: whether numeric and categorical columns are
            features too: encoded by a `keras.utils.FeatureSpace` fitted on
            the training rows (`UserData.tabular_encoding`) into the
            `tabular` input of `build_multimodal_model(tabular=...)`, with a
            `tabular_present` flag (`UserData.model_inputs()` sizes it).
        crosses: with `include_tabular`, pairs of categorical columns whose
            combinations the encoding adds (`TabularEncoding.adapt`).
        image_root: (`from_dataframe`) the folder relative paths are read
            from; default the file's folder, or the working folder.
"""


def from_dataframe(
    frame,
    label=None,
    *,
    validation=None,
    test=None,
    delimiter=None,
    image_column=None,
    text_column=None,
    sequence_column=None,
    numeric_columns=None,
    categorical_columns=None,
    ignore_columns=None,
    roles=None,
    image_root=None,
    **options,
) -> UserData:
    """A pandas DataFrame (paths relative to `image_root`, default the working folder).

    Returns:
        A :class:`UserData`.
    """
    overrides = _roles(
        image_column,
        text_column,
        sequence_column,
        numeric_columns,
        categorical_columns,
        ignore_columns,
        roles,
    )
    tables = []
    for source in (frame, validation, test):
        table = None if source is None else read_table(source, delimiter)
        if table is not None and isinstance(source, pd.DataFrame):
            table.folder = os.path.abspath(image_root or ".")
        elif table is not None and image_root is not None:
            table.folder = os.path.abspath(image_root)
        tables.append(table)
    return _load(*tables, label=label, roles=overrides, **options)


def from_csv(path, label=None, **options) -> UserData:
    """A `.csv`, `.tsv`, `.parquet` or `.jsonl` file (paths relative to its folder).

    Returns:
        A :class:`UserData`.
    """
    return from_dataframe(path, label, **options)


def from_directory(folder, **options) -> UserData:
    """An image folder with one subfolder per class, as `image_dataset_from_directory` reads it.

    Returns:
        A :class:`UserData` (classes: the subfolders' names, sorted).
    """
    if not os.path.isdir(folder):
        raise ValueError(f"{folder}: the folder does not exist.")
    images, labels = [], []
    for name in sorted(os.listdir(folder)):
        if not os.path.isdir(os.path.join(folder, name)):
            continue
        for file in sorted(os.listdir(os.path.join(folder, name))):
            if file.lower().endswith(IMAGE_EXTENSIONS):
                images.append(os.path.join(name, file))
                labels.append(name)
    if not images:
        raise ValueError(
            f"{folder}: no image files in class subfolders; expected {folder}/<class>/<image>."
        )
    frame = pd.DataFrame({"image": images, "label": labels})
    return from_dataframe(frame, "label", image_root=folder, image_column="image", **options)


for _function in (from_dataframe, from_csv, from_directory):
    _function.__doc__ += _DOC_ARGS
