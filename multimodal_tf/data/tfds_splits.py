"""The TFDS datasets as pipelines: splits, modality subsets, presence flags, missing modalities."""

from __future__ import annotations

import contextlib
import functools
import sys

import tensorflow as tf

from multimodal_tf.data.batches import AUTOTUNE, finish_batches, prefetched
from multimodal_tf.validation import check_choice, check_positive_int, check_rate

TFDS_MODALITIES = {
    "fashion_mnist": ("image",),
    "rt_snippets": ("text",),
    "japanese_vowels": ("sequence",),
    "twemoji_categories": ("image", "text"),
}


# Datasets that hold out a `validation` split of their own (by emoji), which runs validate on.
OWN_VALIDATION_SPLIT = ("twemoji_categories",)


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
    artists=None,
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
        artists: `twemoji_categories` only: keep the drawings of these
            artists (e.g. `("google", "openmoji")`, see its `ARTISTS`), to
            score each style of `validation` apart; None keeps every row.

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
    artists = _check_artists(name, artists)
    with progress_bars_on_a_terminal_only():
        dataset = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    if cache == "auto":
        cache = tfds.builder(name, data_dir=data_dir).info.dataset_size < CACHE_LIMIT_BYTES
    if artists:
        dataset = dataset.filter(_drawn_by(artists))
        # A filtered dataset's length is unknown, and Keras warns "Your input ran out of data"
        # when one ends: count the rows once (images not decoded) and say how many there are.
        count = _count_drawn_by(name, split, data_dir, artists)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))

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
    if not presence and len(modalities) == 1 and modalities[0] != "text":
        dataset = dataset.map(  # a single-input model's own input (no text to tokenise)
            lambda features, label: (features[modalities[0]], label), num_parallel_calls=AUTOTUNE
        )
        return prefetched(dataset)
    return finish_batches(dataset, text_preprocessor, mask_value)


def _drawn_by(artists: tuple):
    """A `filter` predicate: the record's artist is one of `artists`."""
    wanted = tf.constant(artists)
    return lambda record: tf.reduce_any(tf.equal(record["artist"], wanted))


@functools.lru_cache(maxsize=64)
def _count_drawn_by(name: str, split: str, data_dir, artists: tuple) -> int:
    """Rows of `split` drawn by `artists`, counted once per process (images not decoded).

    A run scores each artist's validation rows once per modality subset.
    """
    import tensorflow_datasets as tfds

    rows = tfds.load(
        name, split=split, data_dir=data_dir, decoders={"image": tfds.decode.SkipDecoding()}
    ).filter(_drawn_by(artists))
    return int(rows.reduce(0, lambda total, _: total + 1))


def _check_artists(name: str, artists) -> tuple:
    if artists is None:
        return ()
    from multimodal_tf.data.datasets.twemoji_categories import ARTISTS

    if name != "twemoji_categories":
        raise ValueError(f"`artists` applies to twemoji_categories, not {name}.")
    artists = (artists,) if isinstance(artists, str) else tuple(artists)
    unknown = [artist for artist in artists if artist not in ARTISTS]
    if unknown or not artists:
        raise ValueError(
            f"`artists` must be a non-empty subset of {list(ARTISTS)}, got {list(artists)}."
        )
    return artists


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
            f"`modalities` must be a non-empty subset of {available} for {name}, "
            f"got {list(modalities)}."
        )
    repeated = sorted({modality for modality in modalities if list(modalities).count(modality) > 1})
    if repeated:
        raise ValueError(
            f"`modalities` names {', '.join(map(repr, repeated))} more than once: "
            f"{list(modalities)}."
        )
    return tuple(modality for modality in available if modality in modalities)


def _padding_values(spec, mask_value):
    return {
        key: tf.constant(mask_value if key == "sequence" else 0, dtype=value.dtype)
        if value.dtype != tf.string
        else tf.constant("")
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
            draw = tf.random.stateless_uniform(
                [2], seed=tf.stack([tf.constant(seed, tf.int64), index])
            )
            drop = tf.cast(draw[0] < missing_rate, tf.float32)
            which = tf.one_hot(tf.cast(draw[1] * modality_count, tf.int32), modality_count)
            flags = flags - drop * which
        for position, modality in enumerate(modalities):
            flag = tf.constant(0.0) if modality in absent else flags[position]
            features[f"{modality}_present"] = flag
            if modality == "image":
                features["image"] = features["image"] * tf.cast(flag, features["image"].dtype)
            elif modality == "sequence":
                blank = tf.fill(
                    tf.shape(features["sequence"][:1]), tf.constant(mask_value, tf.float32)
                )
                features["sequence"] = tf.cond(
                    flag > 0,
                    lambda: features["sequence"],
                    lambda: blank,  # noqa: B023
                )
            else:
                features["text"] = tf.cond(
                    flag > 0, lambda: features["text"], lambda: tf.constant("")
                )
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
    with progress_bars_on_a_terminal_only():
        builder.download_and_prepare()
    return builder


@contextlib.contextmanager
def progress_bars_on_a_terminal_only():
    """TFDS' preparation bars ("Generating splits...") only when stderr is a terminal.

    Off a terminal (a log file, CI, a captured stream) their carriage-return
    updates are noise, and they would precede a command's one-line error.
    """
    from tensorflow_datasets.core.utils import tqdm_utils

    if sys.stderr.isatty():
        yield
        return
    shown = getattr(tqdm_utils, "_active", True)
    tqdm_utils.display_progress_bar(False)
    try:
        yield
    finally:
        tqdm_utils.display_progress_bar(shown)
