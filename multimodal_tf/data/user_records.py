"""A user's records as a pipeline: columns of arrays and strings, a pandas frame, or a CSV file."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import tensorflow as tf

from multimodal_tf.data.batches import MODALITY_COLUMNS, finish_batches
from multimodal_tf.data.images import read_image_file
from multimodal_tf.data.records import (
    BadRecordError,
    Unreadable,
    check_image,
    check_label,
    check_sequence,
    check_text,
    is_missing,
)
from multimodal_tf.validation import check_choice, check_positive_int


def records_to_dataset(
    columns,
    labels=None,
    *,
    num_classes: int | None = None,
    image_shape=None,
    num_features: int | None = None,
    text_preprocessor=None,
    mask_value: float = 0.0,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool = True,
    on_bad_record: str = "raise",
    skipped: list | None = None,
):
    """Validates a user's records and builds the model's input pipeline.

    Args:
        columns: a mapping with any of `"image"` (per row an array
            `(h, w, c)` or `(h, w)`, uint8 or float in [0, 1]), `"sequence"`
            (per row a `(time, features)` array) and `"text"` (per row a
            string); a missing value (None, NaN, empty string) marks that
            modality absent for that row.
        labels: integer class ids, one per row, or None (for prediction).
        num_classes: the number of classes, to check labels' range.
        image_shape: the expected `(h, w, c)`; None takes the first image's.
        num_features: the expected sequence width; None takes the first's.
        text_preprocessor: a `build_text_preprocessor` result; without one
            the raw strings are kept under `"text"`.
        mask_value: the padding value of sequences (must not be a real step).
        batch_size: examples per batch.
        shuffle: shuffle with `seed` (training).
        seed: the shuffle seed.
        cache: keep the records in memory after the first epoch (compact:
            images stay uint8 there); `"auto"` does so for datasets under
            `CACHE_LIMIT_BYTES` on disk and streams larger ones from disk,
            so memory stays flat however large the data grows.
        on_bad_record: `"raise"` a `BadRecordError` naming the record index
            and field, or `"skip"` the record (counted, with a warning).
        skipped: a list that receives `(index, message)` for each skipped
            record.

    Returns:
        A `tf.data.Dataset` of `(features, label)` batches (features only
        when `labels` is None).

    Raises:
        BadRecordError: a bad record with `on_bad_record="raise"`.
        ValueError: bad arguments (no modality column, mismatched lengths).

    Example:
    >>> import numpy as np
    >>> dataset = records_to_dataset(
    ...     {"image": [np.zeros((4, 4, 1), np.uint8), None], "text": ["a cat", "a dog"]}, [3, 1],
    ...     num_classes=10)
    >>> features, labels = next(iter(dataset))
    >>> features["image_present"].numpy().tolist(), labels.numpy().tolist()
    ([1.0, 0.0], [3, 1])
    """
    check_choice("on_bad_record", on_bad_record, ("raise", "skip"))
    batch_size = check_positive_int("batch_size", batch_size)
    modalities, rows, count = _check_columns(columns, labels)
    valid = _validate_rows(
        rows, labels, count, num_classes, image_shape, num_features, mask_value, on_bad_record
    )
    if skipped is not None:
        skipped.extend(valid.skipped)
    if valid.skipped:
        warnings.warn(
            f"skipped {len(valid.skipped)} of {count} records; first: {valid.skipped[0][1]}",
            stacklevel=2,
        )
    if not valid.labels:
        raise ValueError("No usable record is left.")
    tensors = _stack_columns(valid, modalities, mask_value)
    elements = tensors if labels is None else (tensors, np.asarray(valid.labels, np.int32))
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(
            min(len(valid.labels), 10000), seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.batch(batch_size)
    return finish_batches(dataset, text_preprocessor, mask_value)


def _check_columns(columns, labels) -> tuple:
    """`(modalities, rows by modality, row count)`, or ValueError for unknown or uneven columns."""
    unknown = sorted(set(columns) - set(MODALITY_COLUMNS))
    if unknown:
        raise ValueError(
            f"`columns` has unknown column(s) {unknown}; expected some of {MODALITY_COLUMNS}."
        )
    modalities = [name for name in MODALITY_COLUMNS if name in columns]
    if not modalities:
        raise ValueError(f"`columns` needs at least one of {MODALITY_COLUMNS}.")
    rows = {name: list(columns[name]) for name in modalities}
    count = len(rows[modalities[0]])
    for name in modalities:
        if len(rows[name]) != count:
            raise ValueError(
                f"column '{name}' has {len(rows[name])} rows, '{modalities[0]}' has {count}."
            )
    if labels is not None and len(labels) != count:
        raise ValueError(f"`labels` has {len(labels)} rows but the columns have {count}.")
    return modalities, rows, count


@dataclasses.dataclass
class _ValidRows:
    """The records that passed, by modality (None where absent), and what was skipped."""

    values: dict
    present: dict
    labels: list
    skipped: list
    image_shape: tuple | None
    num_features: int | None


def _validate_rows(
    rows, labels, count, num_classes, image_shape, num_features, mask_value, on_bad_record
):
    """Checks every record; the first image and sequence fix the shapes the rest must have."""
    valid = _ValidRows(
        {name: [] for name in rows}, {name: [] for name in rows}, [], [], image_shape, num_features
    )
    for index in range(count):
        try:
            values, flags = {}, {}
            for name in rows:
                value = rows[name][index]
                flags[name] = 0.0 if is_missing(value) else 1.0
                if not flags[name]:
                    values[name] = None
                elif name == "image":
                    values[name] = check_image(index, value, valid.image_shape)
                    valid.image_shape = values[name].shape
                elif name == "sequence":
                    values[name] = check_sequence(
                        f"record {index}", value, valid.num_features, mask_value
                    )
                    valid.num_features = values[name].shape[1]
                else:
                    values[name] = check_text(index, value)
            if not any(flags.values()):
                raise BadRecordError(
                    f"record {index}: every modality ({', '.join(rows)}) is missing."
                )
            label = None if labels is None else check_label(index, labels[index], num_classes)
        except BadRecordError as error:
            if on_bad_record == "raise":
                raise
            valid.skipped.append((index, str(error)))
            continue
        for name in rows:
            valid.values[name].append(values[name])
            valid.present[name].append(flags[name])
        valid.labels.append(label)
    return valid


def _stack_columns(valid: _ValidRows, modalities, mask_value) -> dict:
    """The kept records as tensors: absent images blank, absent sequences one masked step,
    absent text ""."""
    if "image" in modalities and valid.image_shape is None:
        raise ValueError("Column 'image' has no present value: pass `image_shape`.")
    if "sequence" in modalities and valid.num_features is None:
        raise ValueError("Column 'sequence' has no present value: pass `num_features`.")
    tensors = {}
    for name in modalities:
        tensors[f"{name}_present"] = np.asarray(valid.present[name], np.float32)
        kept = valid.values[name]
        if name == "image":
            blank = np.zeros(valid.image_shape, np.float32)
            tensors["image"] = np.stack([blank if value is None else value for value in kept])
        elif name == "sequence":
            blank = np.full((1, valid.num_features), mask_value, np.float32)
            sequences = [blank if value is None else value for value in kept]
            tensors["sequence"] = tf.ragged.constant(sequences, dtype=tf.float32, ragged_rank=1)
        else:
            tensors["text"] = np.asarray(
                ["" if value is None else value for value in kept], dtype=object
            )
    return tensors


def dataframe_to_dataset(frame, label_column: str | None = "label", **kwargs):
    """:func:`records_to_dataset` over a pandas DataFrame's columns.

    The frame's `image`, `sequence` and `text` columns (those present) are
    the modalities; NaN / None / "" cells mark a modality absent.
    """
    columns = {name: frame[name].tolist() for name in MODALITY_COLUMNS if name in frame.columns}
    labels = None if label_column is None else frame[label_column].tolist()
    return records_to_dataset(columns, labels, **kwargs)


def csv_to_dataset(
    csv_path: str,
    *,
    image_column: str | None = "image",
    text_column: str | None = "text",
    label_column: str | None = "label",
    image_root: str | None = None,
    channels: int = 3,
    image_size=None,
    delimiter: str | None = None,
    **kwargs,
):
    """:func:`records_to_dataset` over a CSV file and a folder of images.

    Each row names an image file (relative to `image_root`, default the
    CSV's folder) and/or a text, and an integer label. An empty cell marks
    that modality absent. A missing or corrupt image file, or a text that is
    not UTF-8, is a bad record, named by its row index (0 = the first row
    after the header) and field, raised or skipped per `on_bad_record`. The
    file is read as people write it (`tables.read_csv`): a BOM is ignored,
    `;` and tab delimiters are sniffed, column names match case-insensitively.
    For string labels, streaming and splits, use `multimodal_tf.data.from_csv`.

    Args:
        csv_path: the CSV file, with a header row.
        image_column: the column of image file names (None: no images).
        text_column: the column of texts (None: no text).
        label_column: the column of labels (None: no labels).
        image_root: the folder image names are relative to.
        channels: 3 (RGB) or 1 (grey).
        image_size: `(height, width)` every image is resized to, or None
            (then every image must have the first one's size).
        delimiter: `,` `;` or tab; None sniffs it.
        **kwargs: passed to :func:`records_to_dataset` (`on_bad_record`,
            `skipped`, `text_preprocessor`, `batch_size`, ...).

    Returns:
        The :func:`records_to_dataset` pipeline.
    """
    import os

    from multimodal_tf.data.user.tables import read_csv

    if not os.path.isfile(csv_path):
        raise ValueError(f"{csv_path}: the file does not exist.")
    table = read_csv(os.fspath(csv_path), delimiter)
    names = {}
    for argument, column in (
        ("image_column", image_column),
        ("text_column", text_column),
        ("label_column", label_column),
    ):
        if column is not None:
            names[argument] = table.match_column(column, argument)
    frame = table.frame
    image_root = image_root or table.folder

    def image_of(cell):
        if cell is None:
            return None
        try:
            return read_image_file(os.path.join(image_root, cell.strip()), channels, image_size)
        except ValueError as error:
            return Unreadable(str(error))

    def text_of(cell):
        try:
            return "" if cell is None else cell.encode("utf-8").decode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes: check_text names the record
            return cell.encode("utf-8", "surrogateescape")

    columns = {}
    if "image_column" in names:
        columns["image"] = [image_of(cell) for cell in frame[names["image_column"]]]
    if "text_column" in names:
        columns["text"] = [text_of(cell) for cell in frame[names["text_column"]]]
    labels = None
    if "label_column" in names:
        labels = [_csv_label(cell or "") for cell in frame[names["label_column"]]]
    return records_to_dataset(columns, labels, **kwargs)


def _csv_label(text: str):
    """CSV cells are strings: integers become ints, anything else stays for the check."""
    try:
        return int(text)
    except ValueError:
        return text
