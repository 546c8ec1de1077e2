"""Runs on a user's own files: `RunConfig(dataset="user", data={...})`, as `train --data` makes.

`RunConfig.data` records where the rows come from and how they are read:

| field | meaning |
|---|---|
| `train` | the training file (csv, tsv, parquet, jsonl) or image folder (one subfolder per class) |
| `validation`, `test` | separate files, or None: carved from `train` (stratified, seeded) |
| `label` | the label column (a folder: its subfolders are the classes) |
| `roles` | `{column: role}` overrides of the inferred roles (`image`, `text`, `sequence`, ...) |
| `image_size` | `[height, width]` images are resized to |
| `on_bad_record` | `"error"` (one line naming file, row and column) or `"skip"` (listed) |
| `test_fraction` | the fraction of `train` carved for test when there is no `test` file |
| `task` | `"auto"`, `"classification"` or `"regression"` (a number per row: MAE and RMSE) |
| `crosses` | `[[column, column], ...]`: categorical pairs the tabular encoding also crosses |

Paths are recorded absolute, so `evaluate`, `compare` and `tune` read the same
files from any working folder; `dataset_version` is a SHA-256 of the files,
and a run whose files changed since training is refused (score it on the new
file with `evaluate RUN --data FILE`). The validation fraction is the run's
`validation_fraction` (0.1 when 0: a user run always validates). The run
folder's `data.json` holds the schema, each split's row ids and the skipped
rows (`UserData.record()`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np

from multimodal_tf.choices import ON_BAD_RECORD, TASKS
from multimodal_tf.validation import check_choice, check_positive_int_tuple, check_rate

USER_DEFAULTS = {"epochs": 10, "batch_size": 32, "text_length": 64}
DATA_DEFAULTS = {
    "train": None,
    "validation": None,
    "test": None,
    "label": None,
    "roles": {},
    "image_size": [64, 64],
    "on_bad_record": "error",
    "test_fraction": 0.1,
    "task": "auto",
    "crosses": [],
}
DATA_FILE = "data.json"
MODALITY_ORDER = ("image", "sequence", "text", "tabular")
TABULAR_ROLES = ("numeric", "categorical")  # the columns the `tabular` modality reads
_CACHE = {}  # the last data read: {key: UserData}
_ENCODINGS = {}  # the tabular encoding of a run's data: {key: TabularEncoding}


def check_data(data) -> dict:
    """`RunConfig.data` with its defaults filled in and its paths absolute.

    Raises:
        ValueError: a field is unknown, missing or has a bad value.
    """
    if not isinstance(data, dict):
        raise ValueError(f"`data` must be a dict of {sorted(DATA_DEFAULTS)}, got {data!r}.")
    unknown = sorted(set(data) - set(DATA_DEFAULTS))
    if unknown:
        raise ValueError(
            f"`data` has unknown field(s) {unknown}; expected some of {sorted(DATA_DEFAULTS)}."
        )
    data = {**DATA_DEFAULTS, **data}
    if not isinstance(data["train"], str) or not data["train"]:
        raise ValueError(f"`data['train']` must be a file or folder path, got {data['train']!r}.")
    is_folder = os.path.isdir(data["train"])
    for name in ("train", "validation", "test"):
        if data[name] is not None:
            if not isinstance(data[name], str):
                raise ValueError(f"`data[{name!r}]` must be a path, got {data[name]!r}.")
            data[name] = os.path.abspath(os.path.expanduser(data[name]))
    if is_folder and (data["validation"] or data["test"]):
        raise ValueError(
            f"{data['train']}: an image folder's validation and test rows are carved from it; "
            "leave out --validation and --test."
        )
    if data["label"] is None and is_folder:
        data["label"] = "label"  # from_directory's column: the subfolders' names
    if data["label"] is None:
        raise ValueError(f"{data['train']}: name the label column (--label COLUMN).")
    if not isinstance(data["roles"], dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data["roles"].items()
    ):
        raise ValueError(f"`data['roles']` must map column names to roles, got {data['roles']!r}.")
    size = check_positive_int_tuple("image_size", data["image_size"])
    if len(size) != 2:
        raise ValueError(f"`image_size` must be [height, width], got {list(size)}.")
    data["image_size"] = list(size)
    check_choice("on_bad_record", data["on_bad_record"], ON_BAD_RECORD)
    check_rate("test_fraction", data["test_fraction"])
    check_choice("task", data["task"], TASKS)
    crosses = data["crosses"]
    if not isinstance(crosses, (list, tuple)) or not all(
        isinstance(pair, (list, tuple))
        and len(pair) == 2
        and all(isinstance(name, str) for name in pair)
        for pair in crosses
    ):
        raise ValueError(f"`crosses` must be a list of column pairs, got {crosses!r}.")
    data["crosses"] = [list(pair) for pair in crosses]
    return data


def checked_user_config(config):
    """`config` ready to train on a user's files: its task resolved, its crosses checked.

    A `data["task"]` "auto" becomes the task the label holds: a regression
    target (numbers with many distinct values) so trains the multimodal
    model's regression head, even on one modality. `data["crosses"]` must
    name categorical columns (one line naming the column, before a run
    folder is made). A config without user data is returned as it is.

    Raises:
        ValueError: a cross names a column that is not categorical.
    """
    if config.data is None:
        return config
    if config.data["crosses"]:
        from multimodal_tf.data.user.tabular import check_crosses

        check_crosses(load_user(config).schema, config.data["crosses"])
    if config.data["task"] != "auto":
        return config
    task = load_user(config).schema.task
    return dataclasses.replace(config, data={**config.data, "task": task})


def load_user(config):
    """The run's `UserData` (read once per process while its files are unchanged)."""
    data = config.data
    key = json.dumps([data, config.seed, config.validation_fraction, _stamps(data)], sort_keys=True)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _read(config)
    return _CACHE[key]


def _stamps(data) -> list:
    paths = [data[name] for name in ("train", "validation", "test") if data[name]]
    return [os.stat(path).st_mtime_ns if os.path.exists(path) else None for path in paths]


def _read(config):
    from multimodal_tf.data.user import from_csv, from_directory

    data = config.data
    options = {
        "image_size": tuple(data["image_size"]),
        "on_bad_record": "raise" if data["on_bad_record"] == "error" else "skip",
        "seed": config.seed,
        "batch_size": config.batch_size or USER_DEFAULTS["batch_size"],
        "validation_split": 0.0 if data["validation"] else config.validation_fraction,
        "test_split": 0.0 if data["test"] else data["test_fraction"],
        "task": None if data["task"] == "auto" else data["task"],
    }
    if os.path.isdir(data["train"]):
        loaded = from_directory(data["train"], **options)
    elif not os.path.exists(data["train"]):
        raise ValueError(f"{data['train']}: there is no such file or folder.")
    else:
        for name in ("validation", "test"):
            if data[name] and not os.path.isfile(data[name]):
                raise ValueError(f"{data[name]}: there is no such file (--{name}).")
        loaded = from_csv(
            data["train"],
            data["label"],
            validation=data["validation"],
            test=data["test"],
            roles=data["roles"],
            **options,
        )
    schema = loaded.schema
    if schema.task == "classification" and len(loaded.class_names) < 2:
        raise ValueError(
            f"{data['train']}: column {schema.label!r} holds one class "
            f"({loaded.class_names}); a classifier needs two or more."
        )
    return loaded


def data_modalities(data) -> tuple:
    """The modalities the data's schema has: image, sequence and text columns, and `tabular`
    where it has numeric or categorical columns."""
    roles = {"tabular": TABULAR_ROLES}
    return tuple(
        modality
        for modality in MODALITY_ORDER
        if any(data.schema.columns(role) for role in roles.get(modality, (modality,)))
    )


def _encoding_key(config) -> str:
    return json.dumps([config.data, config.seed, config.validation_fraction], sort_keys=True)


def tabular_encoding(config):
    """The run's `TabularEncoding`: the one its folder holds once loaded (`use_saved_encoding`),
    else fitted on its training rows (once per process)."""
    from multimodal_tf.data.user.streaming import tabular_cells
    from multimodal_tf.data.user.tabular import TabularEncoding

    key = _encoding_key(config)
    if key not in _ENCODINGS:
        loaded = load_user(config)
        table, ids, _ = loaded.sources["train"]
        _ENCODINGS.clear()
        _ENCODINGS[key] = TabularEncoding.adapt(
            loaded.schema,
            tabular_cells(table, loaded.schema, list(ids)),
            crosses=config.data["crosses"],
        )
    return _ENCODINGS[key]


def use_saved_encoding(config, folder: str):
    """Makes the encoding saved in a run folder the one `tabular_encoding(config)` gives."""
    from multimodal_tf.data.user.tabular import TabularEncoding

    _ENCODINGS.clear()
    _ENCODINGS[_encoding_key(config)] = TabularEncoding.load(folder)


def user_facts(config) -> dict:
    """Class names, image shape, sequence width and statistics, and a summary of the data."""
    loaded = load_user(config)
    schema = loaded.schema
    missing = [name for name in config.modalities if name not in data_modalities(loaded)]
    if missing:
        raise ValueError(
            f"{config.data['train']}: no {' or '.join(missing)} column for `modalities` "
            f"{list(config.modalities)}; its columns' roles: {schema.roles}."
        )
    if schema.task == "regression" and config.kind != "multimodal":
        raise ValueError(
            f"{config.data['train']}: column {schema.label!r} holds numbers with many distinct "
            "values, a regression target: pass --task regression to train a regressor (the "
            "multimodal model's head), or --task classification to make each value a class."
        )
    if schema.task == "regression":
        facts = {"task": "regression", "class_names": None, **loaded.target_statistics()}
    else:
        facts = {"class_names": [str(name) for name in loaded.class_names]}
    if "image" in config.modalities:
        facts["image_shape"] = [*schema.image_size, schema.channels]
    if "sequence" in config.modalities:
        facts["num_features"] = int(schema.num_features)
        facts.update(_sequence_statistics(loaded))
    if "tabular" in config.modalities:
        encoding = tabular_encoding(config)
        facts["tabular_columns"] = encoding.columns
        facts["tabular_features"] = encoding.width
    facts["user_data"] = {
        "schema": schema.to_dict(),
        "rows": {name: len(ids) for name, ids in loaded.rows.items()},
        "skipped": len(loaded.skipped),
    }
    return facts


def _sequence_statistics(loaded) -> dict:
    """Per-feature mean and variance over the training rows' `.npy` steps, a file at a time."""
    from multimodal_tf.data.user.checks import resolve

    table, ids, _ = loaded.sources["train"]
    column = loaded.schema.columns("sequence")[0]
    count, total, squares = 0, 0.0, 0.0
    for row in ids:
        cell = table.frame.at[row, column]
        if cell is None:
            continue
        steps = np.load(resolve(table, str(cell))).astype(np.float64)
        count, total = count + len(steps), total + steps.sum(0)
        squares = squares + (steps**2).sum(0)
    mean = total / max(count, 1)
    variance = np.maximum(squares / max(count, 1) - mean**2, 1e-12)
    return {"feature_mean": mean.tolist(), "feature_variance": variance.tolist()}


def user_splits(config) -> tuple:
    """The splits that hold rows, e.g. `("train", "validation", "test")`."""
    return tuple(name for name, ids in load_user(config).rows.items() if ids)


def user_training_splits(config) -> tuple:
    """`("train", "validation")`, or `("train", None)` without validation rows."""
    return "train", ("validation" if load_user(config).rows["validation"] else None)


def data_version(config) -> str:
    """`sha256:<hex>` of the files the run reads (an image folder: its files' names and sizes)."""
    digest = hashlib.sha256()
    for name in ("train", "validation", "test"):
        path = config.data[name]
        if path is None or not os.path.exists(path):
            digest.update(f"{name}:missing".encode())
        elif os.path.isdir(path):
            for folder, folders, files in sorted(os.walk(path)):
                folders.sort()
                for file in sorted(files):
                    size = os.path.getsize(os.path.join(folder, file))
                    digest.update(f"{os.path.relpath(folder, path)}/{file}:{size}".encode())
        else:
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
    return "sha256:" + digest.hexdigest()


def write_data_record(folder: str, config) -> None:
    """Writes `data.json`: the files, the schema, each split's row ids and the skipped rows."""
    from multimodal_tf.runs.folder import write_json

    record = {"files": {name: config.data[name] for name in ("train", "validation", "test")}}
    write_json(os.path.join(folder, DATA_FILE), {**record, **load_user(config).record()})
    if "tabular" in config.modalities:  # the FeatureSpace, for evaluate, predict and export
        tabular_encoding(config).save(folder)
