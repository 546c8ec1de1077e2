"""Frozen encoders computed once: the classic feature-extraction fast path.

When a model's text encoder is frozen (its backbone a `FrozenInference`,
nothing stochastic in it: `models.frozen.is_frozen_feature_extractor`), its
output depends on the text alone. Running it on every batch of every epoch
repeats the same work; about 80% of the main job's training step was that
forward pass. Here it runs once per distinct text, and the rest of the model
(the same layers, so the same weights) trains on the stored outputs
(Chollet, *Deep Learning with Python*, ch. 8, "feature extraction").

What is learned is unchanged: an absent text is the empty string, as the
pipelines make it, so its row is the encoder's output for `""`, the input
the full model would have seen; modality dropout and presence flags act
inside the model, after the encoder. The model that is saved, evaluated and
exported is still the whole model, raw inputs in.

Memory is bounded: the outputs take `texts x width x 4` bytes (3,076 texts x
384 = 4.7 MB for the main job). Above `memory_limit_bytes` they go to a
`.npy` file on disk (`text_features.py` computes them) and are read a batch
at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import weakref

import keras
import numpy as np
import tensorflow as tf

from multimodal_tf.data.batches import prefetched, tokenise, tokenise_batches
from multimodal_tf.keras_internals import distribute_strategy_of, replaced_call
from multimodal_tf.models.dtypes import model_policy
from multimodal_tf.training.config import FEATURE_CACHE_FOLDER
from multimodal_tf.training.text_features import (
    MEMORY_LIMIT_BYTES,
    TEXT_INPUTS,
    TextFeatures,
    compute_text_features,
    frozen_text_encoder,
)


@dataclasses.dataclass
class CachedTraining:
    """The part of a model that trains on cached features, and its data.

    Attributes:
        model: the whole model (what is saved).
        head: the same layers from the encoder's output on: `head(inputs)` is
            `model(raw inputs)` with the encoder's output given.
        input_names: `head`'s inputs in order (the encoder's output last, as
            `"text_features"`).
        features: the cached encoder outputs.
    """

    model: keras.Model
    head: keras.Model
    input_names: list
    features: TextFeatures

    def __post_init__(self):
        self._table = self.features.lookup_table()
        if self.features.path is None:
            self._stored = tf.constant(self.features.values)

    def _gather(self, rows):
        if self.features.path is None:
            return tf.gather(self._stored, rows)
        values = tf.numpy_function(
            lambda r: np.asarray(self.features.values[r]), [rows], tf.float32
        )
        return tf.ensure_shape(
            values, [None, self.features.values.shape[1]]
        )  # a batch read from the file

    def head_inputs(self, features: dict) -> dict:
        """One batch's raw features (with `"text"` strings) as `head`'s inputs."""
        rows = self._table.lookup(features["text"])
        check = tf.debugging.assert_non_negative(rows, message="a text is not in the feature cache")
        with tf.control_dependencies([check]):
            rows = tf.identity(rows)
        dtype = self.head.encoder.compute_dtype  # what the encoder hands the next layer
        text_features = tf.cast(self._gather(rows), dtype)
        return {
            **{name: features[name] for name in self.input_names[:-1]},
            "text_features": text_features,
        }

    def dataset(self, raw):
        """`raw` batches of `(features with raw "text", label)` as `head`'s inputs."""
        if raw is None:
            return None
        return prefetched(
            raw.map(
                lambda features, label: (self.head_inputs(features), label),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        )

    def check(self, raw_batch: dict, text_preprocessor):
        """Raises unless `head` on cached features predicts what the whole model predicts."""
        whole = self.model(tokenise(raw_batch, text_preprocessor), training=False)
        part = self.head(self.head_inputs(raw_batch), training=False)
        gap = float(
            np.max(np.abs(keras.ops.convert_to_numpy(whole) - keras.ops.convert_to_numpy(part)))
        )
        tolerance = 1e-4 if model_policy(self.model) == "float32" else 3e-2
        if gap > tolerance:
            raise RuntimeError(
                f"the model on cached text features differs from the whole model by {gap:.2g} "
                f"(tolerance {tolerance:g}); train with --no-feature-cache and report this."
            )

    def remove_files(self):
        """Removes the outputs' file, if they went to disk (and its folder, if then empty)."""
        if self.features.path is not None:
            folder = os.path.dirname(self.features.path)
            with contextlib.suppress(OSError):
                os.remove(self.features.path)
                os.rmdir(folder)


@dataclasses.dataclass
class FitInputs:
    """What `train` fits: the model (or its head) and its data."""

    fit_model: keras.Model
    train_data: object
    validation_data: object
    cached: bool


def cache_frozen_text_encoder(
    model,
    text_preprocessor,
    text_data,
    *,
    folder=None,
    memory_limit_bytes=MEMORY_LIMIT_BYTES,
    shared=None,
    verbose=1,
):
    """The model's frozen text encoder run once over the texts of `text_data`.

    Args:
        model: the whole model.
        text_preprocessor: its tokeniser.
        text_data: finite raw-text datasets of `(features, label)` batches
            (None entries skipped) holding every text training will see; the
            first batch of the first is the one the result is checked on.
        folder: where a file goes when the outputs exceed `memory_limit_bytes`
            (created then; default: a new folder in the system's temporary
            one, removed with the outputs: when nothing holds them any more,
            or when Python exits).
        memory_limit_bytes: the most kept in memory.
        shared: a dict kept across calls (a search's trials): outputs
            computed for one model are reused by the next when they hold all
            its texts and its encoder gives the same outputs (checked on 8).
        verbose: 0 hides the progress of the computation (`console.Progress`).

    Returns:
        A checked `CachedTraining`, or None when the model has no frozen text
        encoder read only by itself (then nothing can be cached).
    """
    encoder = frozen_text_encoder(model)
    if encoder is None:
        return None
    head, names = head_model(model, encoder)
    datasets = [dataset for dataset in text_data if dataset is not None]
    texts = set()
    for dataset in datasets:
        for batch in dataset.map(lambda features, label: features["text"]):
            texts.update(text.decode("utf-8") for text in batch.numpy().tolist())
    features = _reusable(shared, encoder, text_preprocessor, texts)
    if features is None:
        features = _computed(encoder, text_preprocessor, texts, folder, memory_limit_bytes, verbose)
        if shared is not None:
            shared["features"] = features
    cached = CachedTraining(model, head, names, features)
    first, _ = next(iter(datasets[0]))
    cached.check(first, text_preprocessor)
    return cached


def _computed(encoder, text_preprocessor, texts, folder, memory_limit_bytes, verbose):
    """`compute_text_features` into `folder`, or into a temporary folder that
    lives as long as the result (a search keeps it across trials)."""
    temporary = folder is None
    if temporary:
        folder = tempfile.mkdtemp(prefix="multimodal_tf-feature-cache-")
    try:
        features = compute_text_features(
            encoder,
            text_preprocessor,
            texts,
            folder=folder,
            memory_limit_bytes=memory_limit_bytes,
            verbose=verbose,
        )
    except BaseException:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if temporary and features.path is None:  # kept in memory: nothing in the folder
        os.rmdir(folder)
    elif temporary:
        weakref.finalize(features, shutil.rmtree, folder, True)
    return features


def _reusable(shared, encoder, text_preprocessor, texts, probe_rows: int = 8):
    """The shared outputs if they hold every one of `texts` and `encoder` gives the same ones
    (to float tolerance) on their first texts; else None."""
    features = (shared or {}).get("features")
    if features is None or int(encoder.outputs[0].shape[-1]) != features.values.shape[1]:
        return None
    stored = {text: row for row, text in enumerate(features.texts)}
    if not texts <= stored.keys():
        return None
    probe = compute_text_features(
        encoder, text_preprocessor, features.texts[:probe_rows], verbose=0
    )
    expected = np.stack([features.values[stored[text]] for text in probe.texts])
    return features if np.allclose(probe.values, expected, rtol=1e-3, atol=1e-4) else None


def _finite(dataset) -> bool:
    return dataset is None or int(dataset.cardinality()) != tf.data.INFINITE_CARDINALITY


@contextlib.contextmanager
def text_inputs_for(
    model, train_data, validation_data, text_preprocessor, config, shared=None, text_data=None
):
    """The model and data `train` fits when the datasets carry raw text.

    Without a preprocessor the data is the model's own input. With one, the
    frozen text encoder's outputs are cached where `config.feature_cache` is
    on, on one device, the texts are finite, and the model has such an
    encoder; otherwise the text is tokenised batch by batch.

    Args:
        model: the whole model.
        train_data: raw-text training batches.
        validation_data: raw-text validation batches, or None.
        text_preprocessor: the tokeniser, or None.
        config: the `TrainingConfig` (`feature_cache`, `strategy`, `output_dir`).
        shared: a dict kept across a search's trials (their outputs shared).
        text_data: unshuffled copies of the data to read the texts from
            (default: `train_data` and `validation_data`; reading those
            advances a shuffled dataset's seed, so training would then see
            other orders than without the cache).

    Yields:
        `FitInputs`. A file the cache wrote (outputs over the memory limit) is
        removed at the end, unless `shared` keeps it for the next trial.
    """
    if text_preprocessor is None:
        yield FitInputs(model, train_data, validation_data, False)
        return
    sources = list(text_data) if text_data is not None else [train_data, validation_data]
    cached = None
    if (
        config.feature_cache
        and config.strategy == "default"
        and distribute_strategy_of(model) is None
        and all(_finite(source) for source in sources)
    ):
        folder = (
            os.path.join(config.output_dir, FEATURE_CACHE_FOLDER) if config.output_dir else None
        )
        cached = cache_frozen_text_encoder(
            model, text_preprocessor, sources, folder=folder, shared=shared, verbose=config.verbose
        )
    if cached is None:
        validation = (
            tokenise_batches(validation_data, text_preprocessor)
            if validation_data is not None
            else None
        )
        yield FitInputs(model, tokenise_batches(train_data, text_preprocessor), validation, False)
        return
    try:
        yield FitInputs(
            cached.head, cached.dataset(train_data), cached.dataset(validation_data), True
        )
    finally:
        if shared is None:
            cached.remove_files()


class HeadModel(keras.Model):
    """`model` with its frozen text encoder's output given instead of computed.

    The same layers (so the same weights): `HeadModel(model, encoder)` on
    `{other inputs..., "text_features": encoder(tokens)}` is `model` on the
    raw inputs. Each call runs `model` with the encoder's call replaced by
    the given features, so no layer gains a node in another graph and
    `model` saves as before. Only trained, never saved.

    Args:
        model: the whole functional model.
        encoder: its frozen text encoder (`frozen_text_encoder(model)`).
    """

    def __init__(self, model, encoder, **kwargs):
        super().__init__(name=f"{model.name}_head", **kwargs)
        self.whole = model
        self.encoder = encoder
        self.sequence_length = int(model.input["token_ids"].shape[1])

    def call(self, inputs, training=None):
        inputs = dict(inputs)
        text_features = inputs.pop("text_features")
        batch = keras.ops.shape(text_features)[0]
        blank = keras.ops.zeros(
            (batch, self.sequence_length), "int32"
        )  # never read: the encoder is replaced
        tokens = {name: blank for name in TEXT_INPUTS}
        with replaced_call(self.encoder, lambda original, *args, **kwargs: text_features):
            return self.whole({**inputs, **tokens}, training=training)

    # Weight files are the whole model's, so that it (or a search's rebuilt
    # model) loads them: backups, keras-tuner's best-epoch checkpoints.
    @property
    def weights_model(self):
        """The model whose weights this one's weight files hold (`training.backup` reads it)."""
        return self.whole

    def save_weights(self, filepath, *args, **kwargs):
        return self.whole.save_weights(filepath, *args, **kwargs)

    def load_weights(self, filepath, *args, **kwargs):
        return self.whole.load_weights(filepath, *args, **kwargs)


def head_model(model, encoder):
    """`(HeadModel, its input names)`: `model` from `encoder`'s output on."""
    names = [name for name in model.input if name not in TEXT_INPUTS]
    return HeadModel(model, encoder), [*names, "text_features"]
