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

| concern | module |
|---|---|
| `image_dataset` (uint8 arrays, the document's CNN) | `image_arrays.py` |
| one record's checks, `BadRecordError` | `records.py` |
| `records_to_dataset`, `dataframe_to_dataset`, `csv_to_dataset` | `user_records.py` |
| `load_split`, `prepare`, presence flags, `TFDS_MODALITIES` | `tfds_splits.py` |
| padding, tokenising, prefetching | `batches.py` |
| a user's own files, streamed: `from_csv`, `from_dataframe`, `from_directory` | `user/` |

This module re-exports them all. Every `map` runs with
`num_parallel_calls=tf.data.AUTOTUNE`; decoded records are cached in memory
where asked, shuffled with a seed, batched and prefetched. Every pipeline ends
in `prefetched`, which turns tf.data's autotuning model off (so `AUTOTUNE`
means one call per core): with it on, Keras' per-epoch iterators made epochs
start up to 1.8 s late. End a pipeline of your own for `train()` in it too.
"""

from multimodal_tf.data.batches import AUTOTUNE, MODALITY_COLUMNS, prefetched
from multimodal_tf.data.image_arrays import image_dataset
from multimodal_tf.data.records import BadRecordError, check_sequence
from multimodal_tf.data.tfds_splits import (
    CACHE_LIMIT_BYTES,
    OWN_VALIDATION_SPLIT,
    TFDS_MODALITIES,
    check_modalities,
    load_split,
    prepare,
)
from multimodal_tf.data.user_records import csv_to_dataset, dataframe_to_dataset, records_to_dataset

__all__ = [
    "AUTOTUNE",
    "CACHE_LIMIT_BYTES",
    "MODALITY_COLUMNS",
    "OWN_VALIDATION_SPLIT",
    "TFDS_MODALITIES",
    "BadRecordError",
    "check_modalities",
    "check_sequence",
    "csv_to_dataset",
    "dataframe_to_dataset",
    "image_dataset",
    "load_split",
    "prefetched",
    "prepare",
    "records_to_dataset",
]
