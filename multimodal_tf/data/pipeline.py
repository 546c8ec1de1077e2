"""Records → `tf.data.Dataset`s of `(features, label)` named like the model inputs.

Two entry points, one output format:

- :func:`load_split` reads a prepared TFDS dataset of this library (or
  Fashion-MNIST) and streams it.
- :func:`records_to_dataset` takes a user's columns (numpy arrays, lists, a
  pandas frame via :func:`dataframe_to_dataset`), validates every record and
  derives presence flags from the data.

Features are named `image` (float32 in [0, 1]), `sequence` (float32, padded
after the real steps with `mask_value`), `token_ids` / `padding_mask` /
`segment_ids` (from a text preprocessor) or `text` (raw strings, without
one), and `<modality>_present` (float32 1/0). Missing values (None, NaN, an
empty string) become presence 0 with blank content: never zeros that the
model could mistake for real input.

Every `map` runs with `num_parallel_calls=tf.data.AUTOTUNE`; decoded records
are cached in memory where asked, shuffled with a seed, batched and
prefetched.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import tensorflow as tf

from multimodal_tf.data.images import read_image_file
from multimodal_tf.validation import check_choice, check_positive_int, check_rate

AUTOTUNE = tf.data.AUTOTUNE
MODALITY_COLUMNS = ("image", "sequence", "text")
TFDS_MODALITIES = {
    "fashion_mnist": ("image",),
    "rt_snippets": ("text",),
    "japanese_vowels": ("sequence",),
    "twemoji_categories": ("image", "text"),
}


class BadRecordError(ValueError):
    """A record that cannot be used; the message names its index and field."""


def _scale_image(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


def image_dataset(images, labels, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0):
    """Builds the input pipeline for the single-input CNN from uint8 images.

    Args:
        images: uint8 array `(n, height, width, channels)`.
        labels: integer array `(n,)`.
        batch_size: examples per batch.
        shuffle: whether to shuffle (training).
        seed: shuffle seed.

    Returns:
        A `tf.data.Dataset` of `(image, label)` batches, images float32 in
        [0, 1].

    Example:
    >>> images, labels = load_fashion_mnist_arrays("train")
    >>> model.fit(image_dataset(images, labels, shuffle=True), epochs=1)
    """
    batch_size = check_positive_int("batch_size", batch_size)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have shape (n, height, width, channels), got {images.shape}."
        )
    if images.dtype != np.uint8:
        raise ValueError(f"`images` must be uint8 pixels in [0, 255], got dtype {images.dtype}.")
    if len(labels) != len(images):
        raise ValueError(f"`labels` has {len(labels)} rows but `images` has {len(images)}.")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
    if shuffle:
        dataset = dataset.shuffle(min(len(images), 10000), seed=seed, reshuffle_each_iteration=True)
    # Scaled a batch at a time: one vectorised op instead of one per image.
    return dataset.batch(batch_size).map(_scale_image, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


# ---------------------------------------------------------------- validation


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return False


def _check_image(index, value, image_shape):
    if isinstance(value, _Unreadable):
        raise BadRecordError(f"record {index}, field 'image': {value.message}")
    image = np.asarray(value)
    if image.ndim == 2:
        image = image[..., None]
    if image_shape is not None and image.shape != tuple(image_shape):
        raise BadRecordError(
            f"record {index}, field 'image': shape {image.shape}, expected {tuple(image_shape)}."
        )
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if not np.issubdtype(image.dtype, np.floating):
        raise BadRecordError(
            f"record {index}, field 'image': dtype {image.dtype}, expected uint8 or float in [0, 1]."
        )
    if not np.all(np.isfinite(image)):
        raise BadRecordError(f"record {index}, field 'image': contains NaN or infinity.")
    if image.min() < 0.0 or image.max() > 1.0:
        raise BadRecordError(
            f"record {index}, field 'image': float values in [{image.min():g}, {image.max():g}], "
            "expected [0, 1] (or uint8 pixels)."
        )
    return image.astype(np.float32)


def check_sequence(where: str, value, num_features, mask_value):
    """A sequence as float32 `(time, features)`, or BadRecordError naming `where` ("record 3")."""
    try:
        sequence = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise BadRecordError(f"{where}, field 'sequence': not numeric.") from None
    if sequence.ndim != 2 or sequence.shape[0] == 0:
        raise BadRecordError(
            f"{where}, field 'sequence': shape {sequence.shape}, expected (time >= 1, features)."
        )
    if num_features is not None and sequence.shape[1] != num_features:
        raise BadRecordError(
            f"{where}, field 'sequence': {sequence.shape[1]} features, expected {num_features}."
        )
    if not np.all(np.isfinite(sequence)):
        step = int(np.argwhere(~np.isfinite(sequence))[0][0])
        raise BadRecordError(f"{where}, field 'sequence': NaN or infinity at time step {step}.")
    masked = np.all(sequence == mask_value, axis=1)
    if np.any(masked):
        raise BadRecordError(
            f"{where}, field 'sequence': time step {int(np.argmax(masked))} equals mask_value "
            f"({mask_value}) in every feature and would be skipped as padding; use another mask_value."
        )
    return sequence


def _check_text(index, value):
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRecordError(f"record {index}, field 'text': bytes that are not UTF-8.") from None
    if not isinstance(value, str):
        raise BadRecordError(
            f"record {index}, field 'text': {type(value).__name__}, expected a string."
        )
    return value


def _check_label(index, value, num_classes):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (numbers.Real, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise BadRecordError(
                f"record {index}, field 'label': {value!r} ({type(value).__name__}), "
                "expected an integer class id."
            )
    if value < 0 or (num_classes is not None and value >= num_classes):
        expected = f"0..{num_classes - 1}" if num_classes is not None else ">= 0"
        raise BadRecordError(f"record {index}, field 'label': {value}, expected {expected}.")
    return int(value)


# ------------------------------------------------------------- user records


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
    >>> dataset = records_to_dataset(
    ...     {"image": images, "text": ["a cat", None]}, [3, 1],
    ...     text_preprocessor=preprocessor, num_classes=10)
    """
    check_choice("on_bad_record", on_bad_record, ("raise", "skip"))
    batch_size = check_positive_int("batch_size", batch_size)
    unknown = sorted(set(columns) - set(MODALITY_COLUMNS))
    if unknown:
        raise ValueError(f"`columns` has unknown column(s) {unknown}; expected some of {MODALITY_COLUMNS}.")
    modalities = [name for name in MODALITY_COLUMNS if name in columns]
    if not modalities:
        raise ValueError(f"`columns` needs at least one of {MODALITY_COLUMNS}.")
    rows = {name: list(columns[name]) for name in modalities}
    count = len(rows[modalities[0]])
    for name in modalities:
        if len(rows[name]) != count:
            raise ValueError(f"column '{name}' has {len(rows[name])} rows, '{modalities[0]}' has {count}.")
    if labels is not None and len(labels) != count:
        raise ValueError(f"`labels` has {len(labels)} rows but the columns have {count}.")

    kept = {name: [] for name in modalities}
    present = {name: [] for name in modalities}
    kept_labels = []
    skipped_here = []
    for index in range(count):
        try:
            values, flags = {}, {}
            for name in modalities:
                value = rows[name][index]
                flags[name] = 0.0 if _is_missing(value) else 1.0
                if not flags[name]:
                    values[name] = None
                elif name == "image":
                    values[name] = _check_image(index, value, image_shape)
                    image_shape = values[name].shape
                elif name == "sequence":
                    values[name] = check_sequence(f"record {index}", value, num_features, mask_value)
                    num_features = values[name].shape[1]
                else:
                    values[name] = _check_text(index, value)
            if not any(flags.values()):
                raise BadRecordError(f"record {index}: every modality ({', '.join(modalities)}) is missing.")
            label = None if labels is None else _check_label(index, labels[index], num_classes)
        except BadRecordError as error:
            if on_bad_record == "raise":
                raise
            skipped_here.append((index, str(error)))
            continue
        for name in modalities:
            kept[name].append(values[name])
            present[name].append(flags[name])
        kept_labels.append(label)
    if skipped is not None:
        skipped.extend(skipped_here)
    if skipped_here:
        warnings.warn(
            f"skipped {len(skipped_here)} of {count} records; first: {skipped_here[0][1]}",
            stacklevel=2,
        )
    if not kept_labels:
        raise ValueError("No usable record is left.")

    if "image" in modalities and image_shape is None:
        raise ValueError("Column 'image' has no present value: pass `image_shape`.")
    if "sequence" in modalities and num_features is None:
        raise ValueError("Column 'sequence' has no present value: pass `num_features`.")
    tensors = {}
    for name in modalities:
        tensors[f"{name}_present"] = np.asarray(present[name], np.float32)
        if name == "image":
            blank = np.zeros(image_shape, np.float32)
            tensors["image"] = np.stack([blank if v is None else v for v in kept[name]])
        elif name == "sequence":
            blank = np.full((1, num_features), mask_value, np.float32)
            sequences = [blank if v is None else v for v in kept[name]]
            tensors["sequence"] = tf.ragged.constant(sequences, dtype=tf.float32, ragged_rank=1)
        else:
            tensors["text"] = np.asarray(["" if v is None else v for v in kept[name]], dtype=object)
    elements = tensors if labels is None else (tensors, np.asarray(kept_labels, np.int32))
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(kept_labels), 10000), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    return _finish_batches(dataset, text_preprocessor, mask_value)


def _finish_batches(dataset, text_preprocessor, mask_value):
    """Pads ragged sequences, tokenises text, prefetches."""

    def finish(features):
        features = dict(features)
        if "sequence" in features and isinstance(features["sequence"], tf.RaggedTensor):
            features["sequence"] = features["sequence"].to_tensor(default_value=mask_value)
        if "text" in features and text_preprocessor is not None:
            features.update(text_preprocessor(features.pop("text")))
            features["padding_mask"] = tf.cast(features["padding_mask"], tf.int32)
        return features

    def finish_pair(features, label):
        return finish(features), label

    is_pair = isinstance(dataset.element_spec, tuple)
    dataset = dataset.map(finish_pair if is_pair else finish, num_parallel_calls=AUTOTUNE)
    return dataset.prefetch(AUTOTUNE)


def dataframe_to_dataset(frame, label_column: str | None = "label", **kwargs):
    """:func:`records_to_dataset` over a pandas DataFrame's columns.

    The frame's `image`, `sequence` and `text` columns (those present) are
    the modalities; NaN / None / "" cells mark a modality absent.
    """
    columns = {name: frame[name].tolist() for name in MODALITY_COLUMNS if name in frame.columns}
    labels = None if label_column is None else frame[label_column].tolist()
    return records_to_dataset(columns, labels, **kwargs)


class _Unreadable:
    """Stands for an image file that could not be read, so the record is bad."""

    def __init__(self, message: str):
        self.message = message


def csv_to_dataset(
    csv_path: str,
    *,
    image_column: str | None = "image",
    text_column: str | None = "text",
    label_column: str | None = "label",
    image_root: str | None = None,
    channels: int = 3,
    **kwargs,
):
    """:func:`records_to_dataset` over a CSV file and a folder of images.

    Each row names an image file (relative to `image_root`, default the
    CSV's folder) and/or a text, and an integer label. An empty cell marks
    that modality absent. A missing or corrupt image file is a bad record,
    named by its row index (0 = the first row after the header) and field,
    raised or skipped per `on_bad_record`.

    Args:
        csv_path: the CSV file, with a header row.
        image_column: the column of image file names (None: no images).
        text_column: the column of texts (None: no text).
        label_column: the column of labels (None: no labels).
        image_root: the folder image names are relative to.
        channels: 3 (RGB) or 1 (grey).
        **kwargs: passed to :func:`records_to_dataset` (`on_bad_record`,
            `skipped`, `text_preprocessor`, `batch_size`, ...).
    """
    import csv
    import os

    with open(csv_path, newline="", encoding="utf-8") as csv_file:
        rows = list(csv.DictReader(csv_file))
    header = set(rows[0]) if rows else set()
    for column in (image_column, text_column, label_column):
        if column is not None and column not in header:
            raise ValueError(f"{csv_path} has no column {column!r}; its columns are {sorted(header)}.")
    image_root = image_root or os.path.dirname(os.path.abspath(csv_path))

    def image_of(cell: str):
        if not cell.strip():
            return None
        try:
            return read_image_file(os.path.join(image_root, cell), channels)
        except ValueError as error:
            return _Unreadable(str(error))

    columns = {}
    if image_column is not None:
        columns["image"] = [image_of(row[image_column]) for row in rows]
    if text_column is not None:
        columns["text"] = [row[text_column] for row in rows]
    labels = None if label_column is None else [_csv_label(row[label_column]) for row in rows]
    return records_to_dataset(columns, labels, **kwargs)


def _csv_label(text: str):
    """CSV cells are strings: integers become ints, anything else stays for the check."""
    try:
        return int(text)
    except ValueError:
        return text


# ------------------------------------------------------------- TFDS sources


CACHE_LIMIT_BYTES = 1 << 30  # `cache="auto"` keeps datasets under 1 GiB (on disk) in memory


def load_split(
    name: str,
    split: str,
    *,
    batch_size: int = 32,
    text_preprocessor=None,
    data_dir: str | None = None,
    modalities=None,
    presence: bool = True,
    absent=(),
    missing_rate: float = 0.0,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool | str = "auto",
    mask_value: float = 0.0,
):
    """Streams one split of a prepared dataset as model inputs.

    Args:
        name: one of `fashion_mnist`, `rt_snippets`, `japanese_vowels`,
            `twemoji_categories`.
        split: `"train"`, `"test"`, or a TFDS slice such as `"train[:80%]"`.
        batch_size: examples per batch.
        text_preprocessor: turns text into token inputs (needed for text
            datasets unless raw strings are wanted).
        data_dir: the TFDS data folder (prepared by :func:`prepare`).
        modalities: the modalities to keep (default: all the dataset has).
        presence: add `<modality>_present` flags (the multimodal model's
            inputs); False gives the single-input classifiers' inputs.
        absent: modalities to mark absent in every row (presence 0, content
            blanked), e.g. `("text",)` to measure image-only accuracy.
        missing_rate: probability that each row loses one of its modalities
            at random (seeded; never all of them), for robustness curves.
        shuffle: shuffle with `seed`.
        seed: seed of the shuffle and of `missing_rate`.
        cache: keep the records in memory after the first epoch (compact:
            images stay uint8 there); `"auto"` does so for datasets under
            `CACHE_LIMIT_BYTES` on disk and streams larger ones from disk,
            so memory stays flat however large the data grows.
        mask_value: the padding value of sequences.

    Returns:
        A `tf.data.Dataset` of `(features, label)` batches.
    """
    import tensorflow_datasets as tfds

    import multimodal_tf.data.datasets  # noqa: F401  (registers the builders)

    check_choice("name", name, tuple(TFDS_MODALITIES))
    batch_size = check_positive_int("batch_size", batch_size)
    missing_rate = check_rate("missing_rate", missing_rate)
    modalities = check_modalities(name, modalities)
    unknown = sorted(set(absent) - set(modalities))
    if unknown:
        raise ValueError(f"`absent` names {unknown}, but {name} has only {modalities}.")
    if not presence and (absent or missing_rate):
        raise ValueError("`absent` and `missing_rate` need `presence=True`.")
    if cache not in ("auto", True, False):
        raise ValueError(f"`cache` must be 'auto', True or False, got {cache!r}.")
    dataset = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    if cache == "auto":
        cache = tfds.builder(name, data_dir=data_dir).info.dataset_size < CACHE_LIMIT_BYTES

    def select(record):
        features = {modality: record[modality] for modality in modalities}
        return features, tf.cast(record["label"], tf.int32)

    dataset = dataset.map(select, num_parallel_calls=AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(10000, seed=seed, reshuffle_each_iteration=True)
    if presence:
        dataset = dataset.enumerate().map(
            _presence_mapper(modalities, set(absent), missing_rate, seed, mask_value),
            num_parallel_calls=AUTOTUNE,
        )
    if "sequence" in modalities:
        dataset = dataset.padded_batch(
            batch_size, padding_values=(_padding_values(dataset.element_spec[0], mask_value), 0)
        )
    else:
        dataset = dataset.batch(batch_size)
    if "image" in modalities:  # uint8 up to here: scaled a batch at a time
        dataset = dataset.map(_scale_image_feature, num_parallel_calls=AUTOTUNE)
    dataset = _finish_batches(dataset, text_preprocessor, mask_value)
    if not presence and len(modalities) == 1 and modalities[0] != "text":
        dataset = dataset.map(
            lambda features, label: (features[modalities[0]], label), num_parallel_calls=AUTOTUNE
        )
    return dataset


def _scale_image_feature(features, label):
    return {**features, "image": tf.cast(features["image"], tf.float32) / 255.0}, label


def check_modalities(name: str, modalities=None) -> tuple:
    """Returns the dataset's modalities, or the valid non-empty subset asked for."""
    available = TFDS_MODALITIES[name]
    if modalities is None:
        return available
    if isinstance(modalities, str):
        modalities = [part.strip() for part in modalities.split(",") if part.strip()]
    wrong = [modality for modality in modalities if modality not in available]
    if wrong or not modalities:
        raise ValueError(
            f"`modalities` must be a non-empty subset of {available} for {name}, got {list(modalities)}."
        )
    repeated = sorted({modality for modality in modalities if list(modalities).count(modality) > 1})
    if repeated:
        raise ValueError(f"`modalities` names {', '.join(map(repr, repeated))} more than once: {list(modalities)}.")
    return tuple(modality for modality in available if modality in modalities)


def _padding_values(spec, mask_value):
    return {
        key: tf.constant(mask_value if key == "sequence" else 0, dtype=value.dtype)
        if value.dtype != tf.string else tf.constant("")
        for key, value in spec.items()
    }


def _presence_mapper(modalities, absent, missing_rate, seed, mask_value):
    """Adds presence flags, blanking absent modalities."""
    modality_count = len(modalities)

    def add_presence(index, element):
        features, label = element
        features = dict(features)
        flags = tf.ones([modality_count], tf.float32)
        if missing_rate and modality_count > 1:
            # Stateless draws keyed by (seed, record position): reproducible.
            draw = tf.random.stateless_uniform([2], seed=tf.stack([tf.constant(seed, tf.int64), index]))
            drop = tf.cast(draw[0] < missing_rate, tf.float32)
            which = tf.one_hot(tf.cast(draw[1] * modality_count, tf.int32), modality_count)
            flags = flags - drop * which
        for position, modality in enumerate(modalities):
            flag = tf.constant(0.0) if modality in absent else flags[position]
            features[f"{modality}_present"] = flag
            if modality == "image":
                features["image"] = features["image"] * tf.cast(flag, features["image"].dtype)
            elif modality == "sequence":
                blank = tf.fill(tf.shape(features["sequence"][:1]), tf.constant(mask_value, tf.float32))
                features["sequence"] = tf.cond(flag > 0, lambda: features["sequence"], lambda: blank)
            else:
                features["text"] = tf.cond(flag > 0, lambda: features["text"], lambda: tf.constant(""))
        return features, label

    return add_presence


def prepare(name: str, data_dir: str | None = None):
    """Prepares a dataset for :func:`load_split` (once; later calls reuse it).

    `tfds.load` prepares on first use too; this is the explicit step.
    """
    import tensorflow_datasets as tfds

    import multimodal_tf.data.datasets  # noqa: F401  (registers the builders)

    check_choice("name", name, tuple(TFDS_MODALITIES))
    builder = tfds.builder(name, data_dir=data_dir)
    builder.download_and_prepare()
    return builder
