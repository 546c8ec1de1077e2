"""Integrated gradients (Sundararajan et al., 2017) for images, sequences, text tokens and the
encoded tabular columns."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from multimodal_tf.console import Progress
from multimodal_tf.explain.model_access import (
    MODALITY_INPUTS,
    as_batch_of_one,
    check_tensorflow_backend,
    output_kind,
    target_class,
    token_embedding_layer,
)
from multimodal_tf.keras_internals import replaced_call
from multimodal_tf.validation import check_choice, check_positive_int


@dataclasses.dataclass
class Attributions:
    """What :func:`integrated_gradients` found for one example.

    Attributes:
        attributions: per modality, an array aligned with its input: image
            `(height, width, channels)`, sequence `(time, features)`, text
            `(sequence_length,)` (one score per token position), tabular
            `(num_features,)` (one per slot of the FeatureSpace's encoding).
        totals: per modality, the sum of its attributions.
        target: the class explained.
        output: the target's logit (or probability) at the input.
        baseline_output: the same at the baseline.
        convergence_delta: `sum(totals) - (output - baseline_output)`: how far
            the integral's approximation is from completeness; raise `steps`
            if it is large beside `output - baseline_output`.
    """

    attributions: dict
    totals: dict
    target: int
    output: float
    baseline_output: float
    convergence_delta: float


def default_baseline(example: dict) -> dict:
    """The baselines :func:`integrated_gradients` uses when none is given.

    - image: black (zeros);
    - sequence: the example's own mean frame at every real time step (no
      change over time; padding stays padding, so the model's masking is
      the same on the whole path);
    - text: a zero embedding at every real token but the first and the
      last ([CLS] and [SEP] keep theirs); padding keeps its embedding.
      Given here as a `(sequence_length,)` 0/1 array: 1 where the token's
      embedding moves to zero;
    - tabular: zeros (every number at its training mean, no category).

    Args:
        example: one example's inputs by name (no batch axis).

    Returns:
        A dict with a baseline for each modality in `example`.
    """
    baseline = {}
    if "image" in example:
        baseline["image"] = np.zeros_like(example["image"], dtype="float32")
    if "sequence" in example:
        sequence = np.asarray(example["sequence"], dtype="float32")
        real = np.any(sequence != 0.0, axis=-1)
        mean = (
            sequence[real].mean(axis=0) if real.any() else np.zeros(sequence.shape[-1], "float32")
        )
        baseline["sequence"] = np.where(real[:, None], mean[None, :], sequence).astype("float32")
    if "tabular" in example:  # 0: each number at its training mean, no category one-hot
        baseline["tabular"] = np.zeros_like(example["tabular"], dtype="float32")
    if "token_ids" in example:
        mask = np.asarray(example.get("padding_mask", np.ones_like(example["token_ids"]))).astype(
            bool
        )
        moved = mask.copy()
        real = np.flatnonzero(mask)
        if len(real):
            moved[real[0]] = moved[real[-1]] = False
        baseline["text"] = moved.astype("float32")
    return baseline


def integrated_gradients(
    model,
    inputs,
    *,
    target: int | None = None,
    baseline: dict | None = None,
    steps: int = 64,
    output: str = "logit",
    batch_size: int = 32,
    verbose=1,
) -> Attributions:
    """Integrated gradients for one example, for every modality at once.

    Args:
        model: a classifier of this library (or any Keras model whose inputs
            are named like theirs: `image`, `sequence`, `token_ids` +
            `padding_mask` + `segment_ids`, `<modality>_present`).
        inputs: one example without the batch axis: an array for the
            single-input CNN and LSTM, a dict of arrays by input name
            otherwise. Presence flags, padding masks and segment ids are held
            fixed.
        target: the class to explain (default: the predicted class).
        baseline: per modality (`"image"`, `"sequence"`, `"text"`), the
            reference input; missing ones come from :func:`default_baseline`.
            For text it is a `(sequence_length,)` array of 0/1: 1 where the
            token's embedding moves to zero.
        steps: points of the Riemann sum (midpoint rule) along the path.
        output: `"logit"` (default) or `"probability"`.
        batch_size: path points per forward pass.
        verbose: 0 hides the progress over the steps (`console.Progress`).

    Returns:
        An :class:`Attributions`.
    """
    import tensorflow as tf

    check_tensorflow_backend("integrated_gradients")
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    example, single = as_batch_of_one(model, inputs)
    baselines = default_baseline(example)
    for modality, value in (baseline or {}).items():
        check_choice("baseline modality", modality, tuple(MODALITY_INPUTS))
        baselines[modality] = np.asarray(value, dtype="float32")
    modalities = [m for m in MODALITY_INPUTS if MODALITY_INPUTS[m] in example]
    for modality in modalities:
        expected = example[MODALITY_INPUTS[modality]].shape
        if baselines[modality].shape != expected:
            raise ValueError(
                f"`baseline['{modality}']` must have shape {expected}, got "
                f"{baselines[modality].shape}."
            )

    embedding_layer = token_embedding_layer(model) if "text" in modalities else None
    if embedding_layer is not None:
        token_ids = example["token_ids"][None]
        text_input = np.asarray(embedding_layer(token_ids), dtype="float32")[0]
        text_baseline = text_input * (1.0 - baselines["text"][:, None])
    starts = {m: baselines[m] for m in modalities if m != "text"}
    ends = {m: example[MODALITY_INPUTS[m]].astype("float32") for m in modalities if m != "text"}
    if embedding_layer is not None:
        starts["text"], ends["text"] = text_baseline, text_input

    chosen = target_class(
        model, {name: value[None] for name, value in example.items()}, single, target
    )

    def forward(points: dict, watch: bool):
        """Target outputs at path points (`points`: modality → batch), with gradients."""
        count = len(next(iter(points.values())))
        batch = {
            name: tf.convert_to_tensor(np.repeat(value[None], count, axis=0))
            for name, value in example.items()
        }
        tensors = {m: tf.convert_to_tensor(points[m]) for m in points}
        with tf.GradientTape() as tape:
            for tensor in tensors.values():
                tape.watch(tensor)
            for m in points:
                if m != "text":
                    batch[MODALITY_INPUTS[m]] = tensors[m]
            model_inputs = batch[single] if single else batch
            text = tensors.get("text")
            replace = (
                replaced_call(
                    embedding_layer,
                    lambda original, *a, **k: tf.cast(text, embedding_layer.compute_dtype),
                )
                if text is not None
                else contextlib.nullcontext()
            )
            with replace, output_kind(model, output):
                outputs = tf.cast(model(model_inputs, training=False), tf.float32)
            selected = outputs[:, chosen]
        gradients = tape.gradient(selected, tensors) if watch else None
        return selected.numpy(), gradients

    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps
    summed = {m: np.zeros_like(ends[m]) for m in modalities}
    with Progress("integrated gradients", steps, "steps", verbose=verbose) as progress:
        for first in range(0, steps, batch_size):
            chunk = alphas[first : first + batch_size]
            points = {
                m: starts[m][None]
                + chunk.reshape((-1,) + (1,) * ends[m].ndim) * (ends[m] - starts[m])[None]
                for m in modalities
            }
            _, gradients = forward(points, watch=True)
            for m in modalities:
                summed[m] += np.asarray(gradients[m]).sum(axis=0)
            progress.update(len(chunk))

    attributions, totals = {}, {}
    for m in modalities:
        attribution = (ends[m] - starts[m]) * summed[m] / steps
        if m == "text":
            attribution = attribution.sum(axis=-1)
        attributions[m] = attribution
        totals[m] = float(attribution.sum())
    end_output = float(forward({m: ends[m][None] for m in modalities}, watch=False)[0][0])
    start_output = float(forward({m: starts[m][None] for m in modalities}, watch=False)[0][0])
    delta = sum(totals.values()) - (end_output - start_output)
    return Attributions(attributions, totals, chosen, end_output, start_output, float(delta))
