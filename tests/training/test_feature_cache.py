"""A frozen text encoder computed once: what is learned is unchanged, memory is bounded."""

import gc
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf import build_multimodal_model, build_text_preprocessor
from multimodal_tf.data.pipeline import records_to_dataset
from multimodal_tf.training import TrainingConfig, feature_cache, train
from tests.helpers import IMAGE_SHAPE, TINY_IMAGE, TINY_TEXT
from tests.models.test_bert_tokenizer import TINY_VOCAB

WORDS = [
    "the movie",
    "plot was unbelievable",
    "really hello world",
    "cafe naive resume",
    "don t stop",
]


def frozen_fusion(freeze=True, **overrides):
    text = {**TINY_TEXT, "vocabulary_size": len(TINY_VOCAB), "freeze": freeze, "dropout": 0.2}
    arguments = dict(
        image=TINY_IMAGE, text=text, fusion_dim=8, num_heads=2, modality_dropout=0.3, seed=1
    )
    return build_multimodal_model(2, learning_rate=1e-2, **{**arguments, **overrides})


@pytest.fixture(scope="module")
def preprocessor():
    return build_text_preprocessor(TINY_VOCAB, sequence_length=TINY_TEXT["sequence_length"])


def raw_data(n=48, seed=0, batch_size=8, shuffle=True):
    """Image + raw text, the label in the words; every sixth text missing (the empty string)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = [WORDS[label * 2 + row % 2] if row % 6 else "" for row, label in enumerate(labels)]
    images = rng.uniform(0, 1, (n, *IMAGE_SHAPE)).astype("float32")
    return records_to_dataset(
        {"image": list(images), "text": texts},
        labels,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )


def quiet(**overrides):
    return TrainingConfig(
        **{"epochs": 2, "precision": "float32", "jit_compile": False, "verbose": 0, **overrides}
    )


def test_only_a_frozen_text_encoder_is_cached():
    assert feature_cache.frozen_text_encoder(frozen_fusion()).name == "text_encoder"
    assert feature_cache.frozen_text_encoder(frozen_fusion(freeze=False)) is None
    assert (
        feature_cache.frozen_text_encoder(
            keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        )
        is None
    )


def test_training_on_cached_features_learns_what_the_whole_model_learns(preprocessor):
    # Unshuffled data: the cache's one pass over the texts would otherwise
    # advance the shuffle's seed, and the two runs would see other orders.
    tf.config.experimental.enable_op_determinism()
    try:
        results = {
            cache: train(
                frozen_fusion,
                raw_data(shuffle=False),
                quiet(feature_cache=cache),
                validation_data=raw_data(16, 1, shuffle=False),
                text_preprocessor=preprocessor,
            )
            for cache in (True, False)
        }
    finally:
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()
    assert results[True].feature_cache and not results[False].feature_cache
    assert results[True].feature_seconds > 0
    cached, whole = results[True], results[False]
    for name in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(
            cached.history.history[name], whole.history.history[name], rtol=1e-4, atol=1e-5
        )
    for expected, actual in zip(whole.model.get_weights(), cached.model.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    assert "token_ids" in cached.model.input  # the whole model, raw inputs in


def test_the_best_checkpoint_is_the_whole_model(preprocessor, tmp_path):
    result = train(
        frozen_fusion,
        raw_data(),
        quiet(output_dir=str(tmp_path), backup=False, tensorboard=False),
        validation_data=raw_data(16, 1, shuffle=False),
        text_preprocessor=preprocessor,
    )
    assert result.feature_cache
    best = keras.saving.load_model(os.path.join(tmp_path, "best.keras"))
    assert sorted(best.input) == sorted(result.model.input)
    assert not [
        name for name in os.listdir(tmp_path) if name.startswith("feature_cache-")
    ]  # cleaned up


def test_without_a_frozen_encoder_the_text_is_tokenised_per_batch(preprocessor):
    result = train(
        lambda: frozen_fusion(freeze=False),
        raw_data(),
        quiet(epochs=1),
        text_preprocessor=preprocessor,
    )
    assert not result.feature_cache and result.history.history["loss"]


def test_features_go_to_disk_above_the_memory_limit(preprocessor, tmp_path, monkeypatch):
    encoder = frozen_fusion().get_layer("text_encoder")
    texts = [text.encode() for text in WORDS] + [b"", WORDS[0].encode()]
    in_memory = feature_cache.compute_text_features(encoder, preprocessor, texts)
    assert (
        in_memory.path is None
        and in_memory.texts[0] == ""
        and len(in_memory.texts) == len(WORDS) + 1
    )
    on_disk = feature_cache.compute_text_features(
        encoder, preprocessor, texts, memory_limit_bytes=0, folder=str(tmp_path)
    )
    assert os.path.isfile(on_disk.path) and isinstance(on_disk.values, np.memmap)
    np.testing.assert_array_equal(np.asarray(on_disk.values), in_memory.values)
    with pytest.raises(ValueError, match="--no-feature-cache"):
        feature_cache.compute_text_features(encoder, preprocessor, texts, memory_limit_bytes=0)
    monkeypatch.setattr(
        feature_cache.shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(10, 10, 10)
    )
    with pytest.raises(ValueError, match="MiB free"):
        feature_cache.compute_text_features(
            encoder, preprocessor, texts, memory_limit_bytes=0, folder=str(tmp_path / "x")
        )


def test_cached_batches_read_from_disk_match_memory(preprocessor, tmp_path):
    model = frozen_fusion()
    encoder = feature_cache.frozen_text_encoder(model)
    head, names = feature_cache.head_model(model, encoder)
    texts = [text.encode() for text in WORDS] + [b""]
    batch, _ = next(iter(raw_data(shuffle=False)))
    outputs = []
    for limit, folder in ((feature_cache.MEMORY_LIMIT_BYTES, None), (0, str(tmp_path))):
        features = feature_cache.compute_text_features(
            encoder, preprocessor, texts, memory_limit_bytes=limit, folder=folder
        )
        cached = feature_cache.CachedTraining(model, head, names, features)
        cached.check(batch, preprocessor)  # raises if the head and the whole model disagree
        outputs.append(np.asarray(head(cached.head_inputs(batch), training=False)))
        assert cached.dataset(raw_data(shuffle=False)).options().autotune.enabled is False
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_a_text_missing_from_the_cache_is_refused(preprocessor):
    model = frozen_fusion()
    encoder = feature_cache.frozen_text_encoder(model)
    head, names = feature_cache.head_model(model, encoder)
    features = feature_cache.compute_text_features(encoder, preprocessor, [b"the movie"])
    cached = feature_cache.CachedTraining(model, head, names, features)
    batch, _ = next(iter(raw_data(shuffle=False)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in the feature cache"):
        cached.head_inputs(batch)


@pytest.mark.slow
def test_a_search_reuses_outputs_only_of_an_encoder_that_gives_the_same(preprocessor):
    shared = {}
    data = raw_data(shuffle=False)
    keras.utils.set_random_seed(3)
    first = feature_cache.cache_frozen_text_encoder(
        frozen_fusion(), preprocessor, [data], shared=shared
    )
    keras.utils.set_random_seed(3)  # the same random encoder: its outputs are reused
    again = feature_cache.cache_frozen_text_encoder(
        frozen_fusion(), preprocessor, [data], shared=shared
    )
    assert again.features is first.features
    keras.utils.set_random_seed(4)  # another encoder: computed anew
    other = feature_cache.cache_frozen_text_encoder(
        frozen_fusion(), preprocessor, [data], shared=shared
    )
    assert other.features is not first.features
    assert not np.array_equal(other.features.values, first.features.values)


def shuffled_run(preprocessor, cache):
    keras.utils.set_random_seed(0)  # the shuffle's seed is (global seed, its own): set both alike
    data, texts = raw_data(), [raw_data(shuffle=False)]
    return train(
        frozen_fusion,
        data,
        quiet(feature_cache=cache),
        text_preprocessor=preprocessor,
        text_data=texts,
    )


@pytest.mark.slow
def test_shuffled_data_sees_the_same_order_with_unshuffled_copies_to_read_texts_from(preprocessor):
    tf.config.experimental.enable_op_determinism()
    try:
        results = {cache: shuffled_run(preprocessor, cache) for cache in (True, False)}
    finally:
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()
    assert results[True].feature_cache
    np.testing.assert_allclose(
        results[True].history.history["loss"], results[False].history.history["loss"], rtol=1e-4
    )


class Interrupt(keras.callbacks.Callback):
    """Raises in the second epoch, like a killed job."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (1, 3):
            raise KeyboardInterrupt("interrupted for the test")


@pytest.mark.slow
def test_a_cached_run_resumes_with_its_optimizer_into_a_folder_made_for_it(preprocessor, tmp_path):
    output = str(tmp_path / "new" / "run")  # does not exist yet
    config = quiet(
        epochs=3, output_dir=output, tensorboard=False, optimizer="adamw", warmup_fraction=0.3
    )
    uninterrupted = train(
        frozen_fusion,
        raw_data(shuffle=False),
        quiet(epochs=3, optimizer="adamw", warmup_fraction=0.3),
        text_preprocessor=preprocessor,
    )
    with pytest.raises(KeyboardInterrupt):
        train(
            frozen_fusion,
            raw_data(shuffle=False),
            config,
            text_preprocessor=preprocessor,
            callbacks=[Interrupt()],
        )
    resumed = train(frozen_fusion, raw_data(shuffle=False), config, text_preprocessor=preprocessor)
    assert resumed.feature_cache and resumed.history.epoch == [
        1,
        2,
    ]  # resumed after the first epoch
    # The whole model carries the optimizer that trained (AdamW with its schedule), its steps
    # counted.
    assert (
        int(resumed.model.optimizer.iterations)
        == int(uninterrupted.model.optimizer.iterations)
        == 3 * 6
    )
    for expected, actual in zip(uninterrupted.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    assert os.path.isfile(os.path.join(output, "best.keras"))


def test_infinite_data_is_tokenised_per_batch_not_read_to_the_end(preprocessor):
    result = train(
        frozen_fusion,
        raw_data().repeat(),
        quiet(epochs=1),
        steps_per_epoch=3,
        text_preprocessor=preprocessor,
    )
    assert not result.feature_cache and len(result.history.history["loss"]) == 1


def spilled_search_features(preprocessor):
    """A search's features written to a file in the temporary folder; that file's folder."""
    cached = feature_cache.cache_frozen_text_encoder(
        frozen_fusion(), preprocessor, [raw_data(shuffle=False)], memory_limit_bytes=0, shared={}
    )
    path = cached.features.path
    if not os.path.isfile(path):
        raise AssertionError(f"no features file at {path}")
    return os.path.dirname(path)


def test_a_search_s_features_file_is_removed_with_the_features(preprocessor, tmp_path, monkeypatch):
    monkeypatch.setattr(feature_cache.tempfile, "tempdir", str(tmp_path))
    folder = spilled_search_features(preprocessor)
    assert os.path.basename(folder).startswith("multimodal_tf-feature-cache-")
    assert os.path.dirname(folder) == str(tmp_path)
    gc.collect()
    assert not os.path.exists(folder)
    in_memory = feature_cache.cache_frozen_text_encoder(
        frozen_fusion(), preprocessor, [raw_data(shuffle=False)], shared={}
    )
    assert in_memory.features.path is None
    assert list(tmp_path.glob("multimodal_tf-feature-cache-*")) == []
