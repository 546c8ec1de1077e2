"""The TFDS splits stream as model inputs, with presence flags and reproducible missing
modalities."""

import io
import sys

import numpy as np
import pytest

from multimodal_tf import build_text_preprocessor
from multimodal_tf.data.pipeline import load_split, prepare
from tests.models.test_bert_tokenizer import TINY_VOCAB


def first_batch(dataset):
    return next(iter(dataset))


def test_tfds_splits_stream_as_model_inputs(data_dir):
    prepare("twemoji_categories", data_dir)
    preprocessor = build_text_preprocessor(TINY_VOCAB, sequence_length=12)

    def batch(**options):
        return first_batch(
            load_split(
                "twemoji_categories",
                "test",
                data_dir=data_dir,
                text_preprocessor=preprocessor,
                batch_size=5,
                **options,
            )
        )

    features, labels = batch()
    assert set(features) == {
        "image",
        "image_present",
        "text_present",
        "token_ids",
        "padding_mask",
        "segment_ids",
    }
    assert (
        features["image"].shape == (5, 64, 64, 3) and 0.0 <= float(np.min(features["image"])) <= 1.0
    )
    assert labels.shape == (5,)
    image_only, _ = batch(absent=("text",))
    np.testing.assert_array_equal(image_only["text_present"], 0.0)
    np.testing.assert_array_equal(image_only["padding_mask"][:, 2:], 0)  # [CLS] [SEP] only
    np.testing.assert_array_equal(image_only["image"], features["image"])
    # The single-input classifiers' inputs end in `prefetched` too (autotuning model off).
    single = load_split(
        "twemoji_categories",
        "test",
        data_dir=data_dir,
        modalities=("image",),
        presence=False,
        batch_size=5,
    )
    images, _ = first_batch(single)
    np.testing.assert_array_equal(images, features["image"])
    for dataset in (single, load_split("twemoji_categories", "test", data_dir=data_dir)):
        assert dataset.options().autotune.enabled is False


def test_artists_select_the_drawings_of_a_style(data_dir):
    prepare("twemoji_categories", data_dir)

    def rows(**options):
        dataset = load_split(
            "twemoji_categories", "validation", data_dir=data_dir, batch_size=512, **options
        )
        return sum(int(labels.shape[0]) for _, labels in dataset)

    each = {artist: rows(artists=artist) for artist in ("twitter", "google", "openmoji")}
    assert each == dict.fromkeys(each, 524)  # the same emoji in every style
    assert rows(artists=("google", "openmoji")) == 2 * 524 and rows() == 3 * 524
    # Its length is known, so Keras does not warn "Your input ran out of data" at its end.
    google = load_split(
        "twemoji_categories", "validation", data_dir=data_dir, batch_size=100, artists=("google",)
    )
    assert int(google.cardinality()) == 6  # 524 rows in batches of 100
    with pytest.raises(ValueError, match=r"`artists` must be a non-empty subset of \['twitter'"):
        load_split("twemoji_categories", "validation", data_dir=data_dir, artists=["apple"])
    with pytest.raises(ValueError, match="`artists` applies to twemoji_categories, not rt_snip"):
        load_split("rt_snippets", "test", data_dir=data_dir, artists=["google"])


def test_missing_rate_drops_one_modality_reproducibly(data_dir):
    prepare("twemoji_categories", data_dir)

    def flags(seed):
        dataset = load_split(
            "twemoji_categories",
            "test",
            data_dir=data_dir,
            missing_rate=0.4,
            seed=seed,
            batch_size=1000,
        )
        features, _ = first_batch(dataset)
        return np.stack([features["image_present"], features["text_present"]], axis=1)

    first = flags(0)
    assert np.all(first.sum(axis=1) >= 1)
    assert 0.3 < 1 - first.sum(axis=1).mean() + 1 < 0.5  # fraction of rows missing one modality
    np.testing.assert_array_equal(flags(0), first)
    assert not np.array_equal(flags(1), first)


def test_sequences_pad_with_the_mask_value(data_dir):
    prepare("japanese_vowels", data_dir)
    sequences, labels = first_batch(
        load_split(
            "japanese_vowels",
            "train",
            data_dir=data_dir,
            presence=False,
            batch_size=16,
            mask_value=-9.0,
        )
    )
    lengths = np.sum(np.any(sequences.numpy() != -9.0, axis=2), axis=1)
    assert sequences.shape[1] == lengths.max() and lengths.min() < lengths.max()
    assert labels.shape == (16,)


def test_cached_and_streamed_splits_are_identical(data_dir):
    prepare("fashion_mnist", data_dir)
    batches = {
        cache: first_batch(
            load_split(
                "fashion_mnist",
                "test[:40]",
                data_dir=data_dir,
                presence=False,
                batch_size=40,
                cache=cache,
                shuffle=True,
                seed=3,
            )
        )
        for cache in ("auto", True, False)
    }
    for images, labels in batches.values():
        assert images.dtype == np.float32 and float(np.max(images)) <= 1.0
        np.testing.assert_array_equal(images, batches["auto"][0])
        np.testing.assert_array_equal(labels, batches["auto"][1])
    with pytest.raises(ValueError, match="`cache`"):
        load_split("fashion_mnist", "test", data_dir=data_dir, cache="disk")


def test_preparation_bars_show_on_a_terminal_only(monkeypatch):
    from tensorflow_datasets.core.utils import tqdm_utils

    from multimodal_tf.data.tfds_splits import progress_bars_on_a_terminal_only

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_bars_on_a_terminal_only():
        assert tqdm_utils._active is False
    assert tqdm_utils._active is True  # as it was
    monkeypatch.setattr(sys, "stderr", Terminal())
    with progress_bars_on_a_terminal_only():
        assert tqdm_utils._active is True
