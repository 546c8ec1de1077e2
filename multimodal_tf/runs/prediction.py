"""Predicting with a saved run: from files and texts, one paired example, or a CSV batch."""

from __future__ import annotations

import os
import re

import numpy as np

from multimodal_tf.data.images import read_image_file
from multimodal_tf.data.pipeline import check_sequence
from multimodal_tf.runs.loading import check_run, load_run
from multimodal_tf.runs.models import text_preprocessor_for
from multimodal_tf.runs.tabular_inputs import (
    empty_cell,
    encode_tabular,
    read_tabular,
    tabular_columns_of,
)
from multimodal_tf.validation import check_utf8

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")


def _read_image(path: str, shape) -> np.ndarray:
    height, width, channels = shape
    return read_image_file(path, channels, size=(height, width)).astype(np.float32) / 255.0


def _read_sequence(path: str, num_features) -> np.ndarray:
    """A `.npy` sequence `(time, features)`, checked like a pipeline record."""
    with open(path, "rb") as sequence_file:
        if sequence_file.read(6) != b"\x93NUMPY":
            raise ValueError(
                f"input {path!r} is not a .npy file (it lacks the .npy header); save one with "
                "numpy.save."
            )
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:  # pickled objects are refused, not executed
        raise ValueError(f"input {path!r} is not a readable numeric .npy array: {error}") from None
    return check_sequence(
        f"input {path!r}", value, num_features, 0.0
    )  # a ValueError naming the file


def _classify_input(item: str) -> str:
    """Which modality a positional `predict` input is; refuses what it cannot tell."""
    lower = item.lower()
    if lower.endswith((*IMAGE_SUFFIXES, ".npy")):
        if not os.path.isfile(item):
            raise ValueError(f"input {item!r} looks like a file name, but there is no such file.")
        return "sequence" if lower.endswith(".npy") else "image"
    if os.path.exists(item):
        kind = "folder" if os.path.isdir(item) else "file"
        raise ValueError(
            f"input {item!r} is an existing {kind}, but not an image ({', '.join(IMAGE_SUFFIXES)}) "
            "or a .npy "
            "sequence; to classify the words themselves, pass them with --text."
        )
    if LOOKS_LIKE_A_FILE_NAME.fullmatch(item):
        raise ValueError(
            f"input {item!r} looks like a file name, but there is no such file (images end in "
            f"{', '.join(IMAGE_SUFFIXES)}, sequences in .npy); to classify it as text, pass it "
            "with --text."
        )
    check_utf8("input", item)
    if not item.strip():
        raise ValueError(f"input {item!r} is blank text: there is nothing to classify.")
    return "text"


# One word with a dot and a short suffix, such as "pic.pngg" or "data/x.csv".
LOOKS_LIKE_A_FILE_NAME = re.compile(r"[\w./\\~-]*\w\.[A-Za-z][A-Za-z0-9]{0,4}")


def _read_modality(modality: str, value, metrics):
    if modality == "image":
        if not os.path.isfile(value):
            raise ValueError(f"--image {value!r}: there is no such file.")
        return _read_image(value, metrics["image_shape"])[None]
    if modality == "sequence":
        if not os.path.isfile(value):
            raise ValueError(f"--sequence {value!r}: there is no such file.")
        return _read_sequence(value, metrics.get("num_features"))[None]
    if modality == "tabular":
        return read_tabular(value, metrics)
    return value


def _predict_one(model, metrics, config, preprocessor, values: dict) -> dict:
    result = _predict_many(model, metrics, config, preprocessor, [values])[0]
    if isinstance(result, ValueError):
        raise result
    return result


def _predict_many(model, metrics, config, preprocessor, examples: list) -> list:
    """`{"class", "probability"}` (a regressor: `{"value"}`) per example (values by
    modality), predicted as one batch.

    A row whose output is not finite gets a `ValueError` in its place.
    """
    features = _batch_features(config, metrics, examples, preprocessor)
    if config.kind == "classifier" and config.modalities[0] != "text":
        features = features[config.modalities[0]]
    # Traced once, then one step per call: `predict` builds an iterator per call (~0.1 s a row).
    probabilities = np.asarray(model.predict_on_batch(features))
    results = []
    for row in probabilities:
        if not np.all(np.isfinite(row)):
            results.append(
                ValueError(
                    "the model's output is NaN or infinite: its weights are not finite (was it "
                    "trained with a diverging learning rate?). Retrain it."
                )
            )
            continue
        results.append(_outcome(row, metrics))
    return results


def _outcome(row, metrics) -> dict:
    """One row of the model's output as a class and its probability, or a regressor's value."""
    if metrics.get("task") == "regression":
        return {"value": float(row[0])}
    best = int(np.argmax(row))
    return {"class": metrics["class_names"][best], "probability": float(row[best])}


def _stack(arrays: list) -> np.ndarray:
    """Batch-of-one arrays as one batch; sequences padded at the end with 0, the mask value."""
    longest = max(array.shape[1] for array in arrays) if arrays[0].ndim == 3 else None
    if longest is not None:
        arrays = [
            np.pad(array, ((0, 0), (0, longest - array.shape[1]), (0, 0))) for array in arrays
        ]
    return np.concatenate(arrays, axis=0)


def predict_run(path: str, inputs) -> list:
    """Predicts one example per input with a saved run.

    Each input is an image file (`.png`, `.jpg`, ...; resized to the model's
    size, transparency over white), a `.npy` sequence `(time, features)`,
    or otherwise a text. A multimodal model gets the other modalities marked
    absent. Anything ambiguous is refused: an existing file or folder that is
    neither an image nor a `.npy` file, a word that looks like a file name
    but names none, blank text (use :func:`predict_example` to say which
    modality an input is).

    Returns:
        A list of `(input, class name, probability)`; a regression run's
        `(input, predicted value, None)`.
    """
    _, _, config = check_run(path)  # the inputs are checked before the model loads
    modalities = [_classify_input(item) for item in inputs]
    for item, modality in zip(inputs, modalities):
        if modality not in config.modalities:
            raise ValueError(
                f"input {item!r} is {modality}, but this model takes "
                f"{', '.join(config.modalities)}."
            )
    model, metrics, config = load_run(path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    results = []
    for item, modality in zip(inputs, modalities):
        values = {modality: _read_modality(modality, item, metrics)}
        outcome = _predict_one(model, metrics, config, preprocessor, values)
        results.append(
            (item, *(outcome.get("class", outcome.get("value")), outcome.get("probability")))
        )
    return results


def predict_example(
    path: str, *, image: str | None = None, text: str | None = None, sequence: str | None = None
) -> dict:
    """Predicts one example from all the modalities given, the others marked absent.

    Args:
        path: a run folder.
        image: an image file.
        text: a text; blank text is marked absent, as the data pipelines do.
        sequence: a `.npy` file `(time, features)`.

    Returns:
        `{"class", "probability", "present": [...], "absent": [...]}` (a regression
        run: `"value"` in place of the class and probability).
    """
    _, _, config = check_run(path)  # the files are checked before the model loads
    for modality, value in (("image", image), ("sequence", sequence)):
        if value is not None and modality in config.modalities and not os.path.isfile(value):
            raise ValueError(f"--{modality} {value!r}: there is no such file.")
    model, metrics, config = load_run(path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    given = {
        name: value
        for name, value in (("image", image), ("text", text), ("sequence", sequence))
        if value is not None
    }
    return _predict_given(model, metrics, config, preprocessor, given, where="")


def _predict_given(model, metrics, config, preprocessor, given: dict, where: str) -> dict:
    """One example from the modalities in `given` (option values or CSV cells).

    `where` prefixes the errors.
    """
    values = _read_given(metrics, config, given, where)
    return _prediction(config, values, _predict_one(model, metrics, config, preprocessor, values))


def _prediction(config, values: dict, outcome: dict) -> dict:
    return {
        **outcome,
        "present": sorted(values),
        "absent": [modality for modality in config.modalities if modality not in values],
    }


def _read_given(metrics, config, given: dict, where: str) -> dict:
    """The model inputs of the modalities in `given`, checked; `where` prefixes the errors."""
    if not given:
        if where:  # a CSV row
            raise ValueError(
                f"{where}every cell of the model's modalities ({', '.join(config.modalities)}) is "
                "empty: there is nothing to predict from."
            )
        raise ValueError("give at least one of --image, --text, --sequence.")
    for modality in given:
        if modality not in config.modalities:
            raise ValueError(
                f"{where}--{modality} was given, but this model takes "
                f"{', '.join(config.modalities)}."
            )
    if "text" in given:
        check_utf8(f"{where}--text", given["text"])
    if "text" in given and not given["text"].strip():
        given = {
            name: value for name, value in given.items() if name != "text"
        }  # blank text is missing text
        if not given:
            raise ValueError(
                f"{where}--text is blank and nothing else was given: there is nothing to classify."
            )
    if len(given) > 1 and config.kind != "multimodal":
        raise ValueError(
            f"{where}this {config.kind} takes one modality; give only --{config.modalities[0]}."
        )
    try:
        return {
            modality: _read_modality(modality, value, metrics) for modality, value in given.items()
        }
    except ValueError as error:
        raise ValueError(f"{where}{error}") from None


def predict_batch(path: str, csv_path: str):
    """Predicts one example per row of a CSV file, from every modality the row gives, as it reads.

    The CSV is `csv_to_dataset`'s format: a header, then per row an image file
    name (relative to the CSV's folder) in `image`, a `.npy` file in
    `sequence`, a text in `text` (a run trained with `--data`: its training
    file's column names work too); an empty cell marks that modality absent.
    Other columns (such as `label`) are ignored. The file is checked before
    the model loads; each row is predicted and yielded in turn, so the first
    results come at once, and a bad row does not stop the others.

    Yields:
        Per row, `{"row", "class", "probability", "present", "absent"}` (a
        regression run: `"value"` in place of the class and probability), or
        `{"row", "error"}` for a bad row (its message names the file, the
        row, 0 the first after the header, and the field).

    Raises:
        ValueError: the file cannot be read, or has none of the model's
            modality columns (before anything is yielded).
    """
    from multimodal_tf.data.user.tables import TABLE_EXTENSIONS, read_csv, read_table

    reader = read_table if str(csv_path).lower().endswith(TABLE_EXTENSIONS) else read_csv
    try:
        table = reader(csv_path)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {csv_path!r} as a CSV file: {error}") from None
    check_run(path)
    model, metrics, config = load_run(path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    columns = {}
    roles = metrics.get("user_data", {}).get("schema", {}).get("roles", {})  # a --data run's
    for modality in config.modalities:
        if modality == "tabular":
            found = tabular_columns_of(table, metrics["tabular_columns"], csv_path)
            if found:
                columns["tabular"] = found
            continue
        for name in [*(column for column, role in roles.items() if role == modality), modality]:
            try:
                columns[modality] = table.match_column(name, modality)
                break
            except ValueError:
                continue
    if not columns:
        raise ValueError(
            f"{csv_path!r} needs a column named after one of the model's modalities "
            f"({', '.join(config.modalities)}); its columns are {list(table.frame.columns)}."
        )
    return _predict_rows(model, metrics, config, preprocessor, table, columns, csv_path)


# Rows predicted together by `predict --batch`: the first results come within a second or so.
BATCH_ROWS = 32


def _predict_rows(model, metrics, config, preprocessor, table, columns: dict, csv_path):
    """`predict_batch`'s rows in order, one result or error each, predicted `BATCH_ROWS` at a
    time (a generator, so the checks above run when `predict_batch` is called)."""
    pending = []  # (row, values read) or (row, error message), in row order
    for index in range(len(table.frame)):
        pending.append(_read_row(metrics, config, table, columns, csv_path, index))
        if sum(isinstance(item, dict) for _, item in pending) == BATCH_ROWS:
            yield from _flush(model, metrics, config, preprocessor, pending)
            pending = []
    yield from _flush(model, metrics, config, preprocessor, pending)


def _read_row(metrics, config, table, columns: dict, csv_path, index: int) -> tuple:
    """`(row, values by modality)`, or `(row, error message)` for a bad row."""
    if index in table.bad_rows:
        return index, table.bad_rows[index]
    given = {}
    for modality, column in columns.items():
        if modality == "tabular":
            cells = {name: table.frame.at[index, found] for name, found in column.items()}
            if any(not empty_cell(cell) for cell in cells.values()):  # else the modality is absent
                given["tabular"] = cells
            continue
        cell = table.frame.at[index, column] or ""
        if modality == "text" and cell:
            given["text"] = cell
        elif str(cell).strip():
            given[modality] = os.path.join(table.folder, str(cell).strip())
    try:
        return index, _read_given(metrics, config, given, where=f"{csv_path}: row {index}: ")
    except ValueError as error:
        return index, str(error)


def _flush(model, metrics, config, preprocessor, pending: list):
    """Predicts the read rows of `pending` as one batch; yields every row's result in order."""
    good = [values for _, values in pending if isinstance(values, dict)]
    results = iter(_predict_many(model, metrics, config, preprocessor, good) if good else [])
    for index, values in pending:
        if not isinstance(values, dict):
            yield {"row": index, "error": values}
            continue
        result = next(results)
        if isinstance(result, ValueError):
            yield {"row": index, "error": str(result)}
        else:
            yield {"row": index, **_prediction(config, values, result)}


def _batch_features(config, metrics, examples: list, preprocessor) -> dict:
    """The model inputs of `examples` (values by modality): a missing one blank and absent."""
    features = {}
    for name in config.modalities:
        if name == "image":
            blank = np.zeros((1, *metrics["image_shape"]), np.float32)
            features["image"] = np.concatenate([values.get("image", blank) for values in examples])
        elif name == "sequence":
            blank = np.zeros((1, 1, metrics["num_features"]), np.float32)
            features["sequence"] = _stack([values.get("sequence", blank) for values in examples])
        elif name == "tabular":
            features["tabular"] = encode_tabular(config, metrics, examples)
        else:
            tokens = _tokenise(preprocessor, [values.get("text", "") for values in examples])
            features.update({key: np.asarray(tensor, np.int32) for key, tensor in tokens.items()})
        if config.kind == "multimodal":
            present = [name in values for values in examples]
            features[f"{name}_present"] = np.array(present, np.float32)
    return features


def _tokenise(preprocessor, texts: list) -> dict:
    """The preprocessor over a batch of texts, traced once per preprocessor (eagerly, its
    ragged ops cost about 0.07 s a call on a 2-core CPU; traced, a few milliseconds)."""
    import tensorflow as tf

    traced = getattr(preprocessor, "_multimodal_tf_traced", None)
    if traced is None:
        traced = tf.function(preprocessor, input_signature=[tf.TensorSpec([None], tf.string)])
        preprocessor._multimodal_tf_traced = traced
    return traced(tf.constant(texts, tf.string))
