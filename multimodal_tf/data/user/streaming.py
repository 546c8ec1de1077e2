"""Checked rows as a streamed `tf.data` pipeline named like `build_multimodal_model`'s inputs.

Only paths and cells are held in memory: image files are read, decoded
and resized inside `tf.data`, in parallel: 8-bit and 16-bit grey PNGs and
plain JPEGs in the graph (`images.decode_natively`), other files (JPEGs
with EXIF or CMYK, GIF, BMP, WebP, other PNGs) by the faithful
`decode_image` in Python, each to the same pixels, then
`images.resize_pixels`. `.npy` sequences are loaded there too and padded
per batch with `mask_value`. Features: `image` (float32 in [0, 1]), `sequence`, `text`
(raw strings, or token inputs with a `text_preprocessor`), and
`<modality>_present` flags; with `include_tabular`, every numeric
(float32, NaN where empty) and categorical (string) column by its name.

An image that passed the checks made before streaming (existence and
header; `check_files="decode"` decodes each once) but fails to decode while
streaming is marked absent (`image_present` 0) with a one-line warning
naming the file: never a TensorFlow stack trace in the middle of an epoch.
(A truncated PNG or JPEG lacks its end marker, so it takes the faithful
decoder and gets that warning; a complete file corrupt inside fails
`tf.io.decode_png` or `decode_jpeg`: `check_files="decode"` finds such
files before training. A file deleted
after the checks stops the stream with TensorFlow's `NotFoundError`, which
the CLI prints as one line naming it.)
"""

from __future__ import annotations

import warnings

import numpy as np
import tensorflow as tf

from multimodal_tf.data.batches import AUTOTUNE, finish_batches
from multimodal_tf.data.images import (
    decode_image,
    decode_natively,
    resize_pixels,
)
from multimodal_tf.data.user.checks import resolve


def _columns(schema, role: str, argument: str) -> list:
    columns = schema.columns(role)
    if len(columns) > 1:
        raise ValueError(
            f"columns {columns} all hold {role} data, but the model takes one {role} input; "
            f"pick one with `{argument}=` and mark the others 'ignore' in `roles=`."
        )
    return columns


def _slices(table, schema, rows, targets, include_tabular):
    """The per-row tensors to slice: paths, texts, presence flags, tabular cells, targets."""
    frame = table.frame.iloc[rows] if rows is not None else table.frame
    slices = {}
    for role, argument in (("image", "image_column"), ("sequence", "sequence_column")):
        for column in _columns(schema, role, argument):
            cells = list(frame[column])
            slices[role] = np.asarray(
                ["" if cell is None else resolve(table, str(cell)) for cell in cells], object
            )
            slices[f"{role}_present"] = np.asarray([cell is not None for cell in cells], np.float32)
    texts = schema.columns("text")
    if texts:  # several text columns are joined, in the table's order
        cells = zip(*(list(frame[column]) for column in texts))
        joined = [" ".join(str(cell) for cell in row if cell is not None) for row in cells]
        slices["text"] = np.asarray(joined, object)
        slices["text_present"] = np.asarray([bool(text) for text in joined], np.float32)
    if include_tabular:
        slices.update(tabular_cells(table, schema, rows))
    if targets is None:
        return slices
    dtype = np.float32 if schema.task == "regression" else np.int32
    return slices, np.asarray(targets, dtype)


def tabular_cells(table, schema, rows=None) -> dict:
    """`{column: array}` of the numeric (float32, NaN where empty) and categorical (str, ""
    where empty) columns of `rows` (None: all), in the table's order."""
    frame = table.frame.iloc[rows] if rows is not None else table.frame
    cells = {}
    for column in schema.columns("numeric"):
        cells[column] = np.asarray([numeric_cell(cell) for cell in frame[column]], np.float32)
    for column in schema.columns("categorical"):
        cells[column] = np.asarray([category_cell(cell) for cell in frame[column]], object)
    return cells


def numeric_cell(cell) -> float:
    """A numeric column's cell as the tabular encoding reads it: NaN where empty."""
    return np.nan if cell is None else float(cell)


def category_cell(cell) -> str:
    """A categorical column's cell as the tabular encoding reads it: "" where empty."""
    return "" if cell is None else str(cell)


def _loader(schema, mask_value):
    """The map function that reads each row's files."""
    height, width = schema.image_size
    channels = schema.channels
    features = schema.num_features

    blank = np.zeros((1, 1, channels), np.uint8)

    def read_image(path, present):
        if not present:
            return blank, np.float32(0.0)
        name = path.decode("utf-8", "surrogateescape")
        try:
            return decode_image(name, channels), np.float32(1.0)
        except ValueError as error:  # passed the header check, failed to decode
            warnings.warn(f"while streaming: {error}; the image is marked absent.", stacklevel=1)
            return blank, np.float32(0.0)

    def faithful(path, present):
        image, readable = tf.numpy_function(
            read_image, [path, present], (tf.uint8, tf.float32), stateful=False
        )
        image.set_shape((None, None, channels))
        readable.set_shape(())
        return image, readable

    def image_of(path, present):
        contents = tf.cond(present, lambda: tf.io.read_file(path), lambda: tf.constant(b""))
        pixels, native = decode_natively(contents, channels)
        image, readable = tf.cond(
            native, lambda: (pixels, tf.constant(1.0)), lambda: faithful(path, present)
        )
        image = resize_pixels(image, (height, width))
        image.set_shape((height, width, channels))
        return tf.cast(image, tf.float32) / 255.0, readable

    def read_sequence(path, present):
        if not present:
            return np.full((1, features), mask_value, np.float32)
        return np.load(path.decode("utf-8", "surrogateescape")).astype(np.float32)

    def load(row):
        row = dict(row)
        if "image" in row:
            row["image"], row["image_present"] = image_of(row["image"], row["image_present"] > 0)
        if "sequence" in row:
            sequence = tf.numpy_function(
                read_sequence,
                [row["sequence"], row["sequence_present"] > 0],
                tf.float32,
                stateful=False,
            )
            sequence.set_shape((None, features))
            row["sequence"] = sequence
        return row

    return load


def stream(
    table,
    schema,
    rows=None,
    targets=None,
    *,
    batch_size=32,
    shuffle=False,
    seed=0,
    text_preprocessor=None,
    mask_value=0.0,
    include_tabular=False,
):
    """A batched `tf.data.Dataset` of `(features, target)` (features only without targets).

    Args:
        table: a `tables.Table`.
        schema: its `Schema` (`num_features` set where there are sequences).
        rows: the row ids to read, in order; None: all.
        targets: their targets (class ids or floats), or None.
        batch_size: rows per batch.
        shuffle: whether to shuffle the rows each epoch (training), with `seed`.
        seed: the shuffling seed.
        text_preprocessor: a `build_text_preprocessor` result, or None to
            keep raw strings under `"text"`.
        mask_value: the padding of sequences.
        include_tabular: whether numeric and categorical columns are features.

    Returns:
        The dataset; its file reading runs with `num_parallel_calls=AUTOTUNE`.
    """
    elements = _slices(table, schema, rows, targets, include_tabular)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    count = len(elements[1] if isinstance(elements, tuple) else next(iter(elements.values())))
    if shuffle:
        dataset = dataset.shuffle(min(count, 10000), seed=seed, reshuffle_each_iteration=True)
    load = _loader(schema, mask_value)
    if isinstance(elements, tuple):
        dataset = dataset.map(lambda row, target: (load(row), target), num_parallel_calls=AUTOTUNE)
    else:
        dataset = dataset.map(load, num_parallel_calls=AUTOTUNE)
    if "sequence" in (elements[0] if isinstance(elements, tuple) else elements):
        dataset = dataset.ragged_batch(batch_size)
    else:
        dataset = dataset.batch(batch_size)
    return finish_batches(dataset, text_preprocessor, mask_value)
