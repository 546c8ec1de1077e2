"""Why did the model predict that? Attributions per modality (the document's §5.1.3).

Three tools, for any classifier this library builds (the CNN, the stacked
LSTM, the BERT classifier and the multimodal model):

- :func:`integrated_gradients` (Sundararajan et al., 2017): attributions
  aligned with the inputs, for image pixels, sequence time steps × features
  and text tokens (through the token embeddings, since token ids have no
  gradient). All modalities move from their baseline to the input together,
  so the attributions of all modalities add up to the target logit's change,
  `output(x) - output(baseline)` (*completeness*; the gap is returned as
  `convergence_delta`), and each modality's share is its sum.
- :func:`modality_contributions`: for the multimodal model, how much of the
  target logit each modality carries, from its presence flag: the exact
  Shapley value of switching modalities on, over all subsets (2 or 3
  modalities: 4 or 8 forward passes).
- :func:`grad_cam` (Selvaraju et al., 2017): a heat map over the image from
  the last convolution's activations, for the CNN and the multimodal model.

Plots (matplotlib, imported when called): :func:`plot_image_attribution`,
:func:`plot_token_attribution`, :func:`plot_sequence_attribution` and
:func:`plot_modality_contributions`.

The target is the class's *logit* (the input of the final softmax) by
default, since logits add up the way attributions do; pass
`output="probability"` for the softmax output instead. Gradients use
TensorFlow's `GradientTape`: these functions need the TensorFlow backend.

Example:
>>> result = integrated_gradients(model, features)   # one example, no batch axis
>>> result.totals                                     # {"image": 1.7, "text": 4.2}
>>> plot_image_attribution(features["image"], result.attributions["image"])
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math

import keras
import numpy as np

from multimodal_tf.keras_internals import all_layers
from multimodal_tf.validation import check_choice, check_positive_int

MODALITY_INPUTS = {"image": "image", "sequence": "sequence", "text": "token_ids"}
_FIXED_TEXT_INPUTS = ("padding_mask", "segment_ids")


@dataclasses.dataclass
class Attributions:
    """What :func:`integrated_gradients` found for one example.

    Attributes:
        attributions: per modality, an array aligned with its input: image
            `(height, width, channels)`, sequence `(time, features)`, text
            `(sequence_length,)` (one score per token position).
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


def _check_tensorflow_backend(function: str):
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"`{function}` needs the TensorFlow backend (it uses tf.GradientTape); "
            f"KERAS_BACKEND is {keras.backend.backend()!r}."
        )


def _output_layer(model):
    layer = model.layers[-1]
    if isinstance(layer, keras.layers.Dense) and layer.activation is keras.activations.softmax:
        return layer
    return None


@contextlib.contextmanager
def _output_kind(model, output: str):
    """Within the block, `model` returns logits if `output == "logit"`."""
    check_choice("output", output, ("logit", "probability"))
    layer = _output_layer(model) if output == "logit" else None
    if output == "logit" and layer is None:
        raise ValueError(
            "`output='logit'` needs a model ending in a Dense softmax layer (every builder of "
            "this library makes one); pass output='probability' for other models."
        )
    if layer is None:
        yield
        return
    layer.activation = keras.activations.linear
    try:
        yield
    finally:
        layer.activation = keras.activations.softmax


@contextlib.contextmanager
def _replaced_call(layer, call):
    """Within the block, `layer` runs `call(original_call, *args, **kwargs)`."""
    original = layer.call
    layer.__dict__["call"] = lambda *args, **kwargs: call(original, *args, **kwargs)
    try:
        yield
    finally:
        layer.__dict__.pop("call", None)


def _token_embedding_layer(model):
    import keras_hub

    backbones = [layer for layer in all_layers(model) if isinstance(layer, keras_hub.models.BertBackbone)]
    if len(backbones) != 1:
        raise ValueError(
            f"Text attributions need exactly one BertBackbone in the model; found {len(backbones)}."
        )
    return backbones[0].token_embedding


def _target_class(model, batch: dict, single: str | None, target) -> int:
    """`target` checked against the model's classes, or the predicted class."""
    num_classes = int(model.outputs[0].shape[-1])
    if target is None:
        with _output_kind(model, "probability"):
            probabilities = model(batch[single] if single else batch, training=False)
        return int(np.argmax(np.asarray(probabilities)[0]))
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < num_classes:
        raise ValueError(f"`target` must be a class index in [0, {num_classes}), got {target!r}.")
    return int(target)


def _named_inputs(model) -> dict | None:
    """The model's inputs by name, or None for a single-input model."""
    if isinstance(model, keras.Sequential):  # one input, always
        return None
    return model.input if isinstance(model.input, dict) else None


def _as_batch_of_one(model, inputs):
    """Validates one example (no batch axis): (dict of arrays, the single input's name or None)."""
    named = _named_inputs(model)
    if named is None:
        array = _one_example("`inputs`", np.asarray(inputs, dtype="float32"), model.inputs[0].shape)
        name = "image" if array.ndim == 3 else "sequence"
        _check_finite(name, array)
        return {name: array}, name
    if not isinstance(inputs, dict):
        raise ValueError(f"`inputs` must be a dict with the keys {sorted(named)} for this model.")
    missing = sorted(set(named) - set(inputs))
    if missing:
        raise ValueError(f"`inputs` lacks {missing}; this model takes {sorted(named)}.")
    example = {}
    for name, tensor in named.items():
        value = _one_example(f"`inputs['{name}']`", np.asarray(inputs[name]), tensor.shape)
        example[name] = value.astype(tensor.dtype)
        _check_finite(name, example[name])
    return example, None


def _one_example(label: str, value: np.ndarray, input_shape) -> np.ndarray:
    """`value` if it is one example of a model input of `input_shape` (batch axis first)."""
    expected = tuple(input_shape[1:])
    if value.ndim != len(expected) or any(
        want is not None and want != got for want, got in zip(expected, value.shape)
    ):
        raise ValueError(f"{label} must be one example of shape {expected} (no batch axis), got {value.shape}.")
    return value


def _check_finite(name: str, value: np.ndarray):
    if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
        raise ValueError(f"`inputs['{name}']` contains NaN or infinity; explanations of garbage mean nothing.")


def default_baseline(example: dict) -> dict:
    """The baselines :func:`integrated_gradients` uses when none is given.

    - image: black (zeros);
    - sequence: the example's own mean frame at every real time step (no
      change over time; padding stays padding, so the model's masking is
      the same on the whole path);
    - text: a zero embedding at every real token but the first and the
      last ([CLS] and [SEP] keep theirs); padding keeps its embedding.
      Given here as a `(sequence_length,)` 0/1 array: 1 where the token's
      embedding moves to zero.

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
        mean = sequence[real].mean(axis=0) if real.any() else np.zeros(sequence.shape[-1], "float32")
        baseline["sequence"] = np.where(real[:, None], mean[None, :], sequence).astype("float32")
    if "token_ids" in example:
        mask = np.asarray(example.get("padding_mask", np.ones_like(example["token_ids"]))).astype(bool)
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

    Returns:
        An :class:`Attributions`.
    """
    import tensorflow as tf

    _check_tensorflow_backend("integrated_gradients")
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    example, single = _as_batch_of_one(model, inputs)
    baselines = default_baseline(example)
    for modality, value in (baseline or {}).items():
        check_choice("baseline modality", modality, tuple(MODALITY_INPUTS))
        baselines[modality] = np.asarray(value, dtype="float32")
    modalities = [m for m in MODALITY_INPUTS if MODALITY_INPUTS[m] in example]
    for modality in modalities:
        expected = example[MODALITY_INPUTS[modality]].shape
        if baselines[modality].shape != expected:
            raise ValueError(
                f"`baseline['{modality}']` must have shape {expected}, got {baselines[modality].shape}."
            )

    embedding_layer = _token_embedding_layer(model) if "text" in modalities else None
    if embedding_layer is not None:
        token_ids = example["token_ids"][None]
        text_input = np.asarray(embedding_layer(token_ids), dtype="float32")[0]
        text_baseline = text_input * (1.0 - baselines["text"][:, None])
    starts = {m: baselines[m] for m in modalities if m != "text"}
    ends = {m: example[MODALITY_INPUTS[m]].astype("float32") for m in modalities if m != "text"}
    if embedding_layer is not None:
        starts["text"], ends["text"] = text_baseline, text_input

    chosen = _target_class(model, {name: value[None] for name, value in example.items()}, single, target)

    def forward(points: dict, watch: bool):
        """Target outputs at path points (`points`: modality → batch), with gradients."""
        count = len(next(iter(points.values())))
        batch = {name: tf.convert_to_tensor(np.repeat(value[None], count, axis=0)) for name, value in example.items()}
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
                _replaced_call(embedding_layer, lambda original, *a, **k: tf.cast(text, embedding_layer.compute_dtype))
                if text is not None else contextlib.nullcontext()
            )
            with replace, _output_kind(model, output):
                outputs = tf.cast(model(model_inputs, training=False), tf.float32)
            selected = outputs[:, chosen]
        gradients = tape.gradient(selected, tensors) if watch else None
        return selected.numpy(), gradients

    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps
    summed = {m: np.zeros_like(ends[m]) for m in modalities}
    for first in range(0, steps, batch_size):
        chunk = alphas[first: first + batch_size]
        points = {m: starts[m][None] + chunk.reshape((-1,) + (1,) * ends[m].ndim) * (ends[m] - starts[m])[None]
                  for m in modalities}
        _, gradients = forward(points, watch=True)
        for m in modalities:
            summed[m] += np.asarray(gradients[m]).sum(axis=0)

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


def modality_contributions(model, inputs, *, target: int | None = None, output: str = "logit") -> dict:
    """How much of the target's logit each modality carries (Shapley values of presence).

    Every subset of modalities is evaluated by setting the others' presence
    flags to 0 (the fusion layer then ignores their content); each
    modality's value is its exact Shapley value, so the values add up to
    `output(all present) - output(none present)`.

    Args:
        model: a multimodal model of this library (with `<modality>_present`
            inputs).
        inputs: one example without the batch axis, a dict by input name.
        target: the class (default: the predicted class with all present).
        output: `"logit"` (default) or `"probability"`.

    Returns:
        `{"target": class, "contributions": {modality: value}, "outputs":
        {"image+text": value, ..., "none": value}}`.
    """
    flags = [name for name in (_named_inputs(model) or {}) if name.endswith("_present")]
    if not flags:
        raise ValueError(
            "`modality_contributions` needs a multimodal model with `<modality>_present` inputs; "
            "use `integrated_gradients` for single-modality classifiers."
        )
    example, _ = _as_batch_of_one(model, inputs)
    modalities = [flag[: -len("_present")] for flag in flags]
    subsets = [subset for size in range(len(modalities) + 1) for subset in itertools.combinations(modalities, size)]
    batch = {name: np.repeat(value[None], len(subsets), axis=0) for name, value in example.items()}
    for row, subset in enumerate(subsets):
        for modality in modalities:
            batch[f"{modality}_present"][row] = 1.0 if modality in subset else 0.0
    with _output_kind(model, output):
        values = np.asarray(model(batch, training=False), dtype="float64")
    # The last subset is all modalities: its argmax is the prediction (logits and probabilities agree).
    target = int(np.argmax(values[-1])) if target is None else _target_class(model, None, None, target)
    value = {frozenset(subset): values[row, target] for row, subset in enumerate(subsets)}
    count = len(modalities)
    contributions = {}
    for modality in modalities:
        others = [m for m in modalities if m != modality]
        total = 0.0
        for size in range(count):
            weight = math.factorial(size) * math.factorial(count - size - 1) / math.factorial(count)
            for subset in itertools.combinations(others, size):
                total += weight * (value[frozenset(subset) | {modality}] - value[frozenset(subset)])
        contributions[modality] = float(total)
    named = {"+".join(subset) or "none": float(value[frozenset(subset)]) for subset in subsets}
    return {"target": target, "contributions": contributions, "outputs": named}


def grad_cam(model, inputs, *, target: int | None = None, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat map over the image input.

    Args:
        model: a model with a `Conv2D` layer (the CNN, or the multimodal
            model with an image encoder).
        inputs: one example without the batch axis (an image array for the
            CNN, a dict by input name for the multimodal model).
        target: the class (default: the predicted class).
        layer_name: the convolution to use (default: the last `Conv2D`).

    Returns:
        `(height, width)` float32 in [0, 1], at the input image's size. All
        zeros means no location's activations raise the class's logit
        (Grad-CAM keeps only positive evidence); integrated gradients then
        still show what moved it.
    """
    import tensorflow as tf

    _check_tensorflow_backend("grad_cam")
    example, single = _as_batch_of_one(model, inputs)
    if "image" not in example:
        raise ValueError("`grad_cam` needs a model with an `image` input.")
    convolutions = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    if layer_name is not None:
        convolutions = [layer for layer in convolutions if layer.name == layer_name]
    if not convolutions:
        raise ValueError(
            f"`grad_cam` found no Conv2D layer{f' named {layer_name!r}' if layer_name else ''} in the model."
        )
    convolution = convolutions[-1]
    captured = {}

    def capture(original, *args, **kwargs):
        result = original(*args, **kwargs)
        tape.watch(result)
        captured["activations"] = result
        return result

    batch = {name: value[None] for name, value in example.items()}
    with tf.GradientTape() as tape, _replaced_call(convolution, capture), _output_kind(model, "logit"):
        logits = tf.cast(model(batch[single] if single else batch, training=False), tf.float32)
        chosen = int(tf.argmax(logits[0])) if target is None else _target_class(model, batch, single, target)
        selected = logits[:, chosen]
    activations = captured["activations"]
    gradients = tf.cast(tape.gradient(selected, activations), tf.float32)
    weights = tf.reduce_mean(gradients, axis=(1, 2))
    cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", tf.cast(activations, tf.float32), weights))
    height, width = example["image"].shape[:2]
    cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[0, ..., 0].numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else cam).astype("float32")


def _axis(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_image_attribution(image, heatmap, *, ax=None, alpha: float = 0.7, title: str | None = None):
    """The image with a heat map over it (Grad-CAM, or |IG| summed over channels).

    The heat map is scaled to its 99th percentile and drawn more opaque where
    it is higher, so the image stays visible where nothing is attributed.

    Args:
        image: `(height, width, channels)` in [0, 1] or uint8.
        heatmap: `(height, width)`, or `(height, width, channels)`
            attributions (their absolute values are summed over channels).
        ax: a matplotlib axis (default: a new figure).
        alpha: opacity of the heat map at its highest.
        title: the axis title.

    Returns:
        The axis.
    """
    import matplotlib.pyplot as plt

    ax = _axis(ax, (3, 3))
    image = np.asarray(image)
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.ndim == 3:
        heatmap = np.abs(heatmap).sum(axis=-1)
    if heatmap.shape != image.shape[:2]:
        raise ValueError(f"`heatmap` must be {image.shape[:2]} like the image, got {heatmap.shape}.")
    shown = image.astype("float32") / (255.0 if image.dtype == np.uint8 else 1.0)
    ax.imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray" if shown.shape[-1] == 1 else None)
    top = float(np.percentile(heatmap, 99)) or float(heatmap.max()) or 1.0
    scaled = np.clip(heatmap / top, 0.0, 1.0)
    overlay = plt.get_cmap("jet")(scaled)
    overlay[..., 3] = alpha * scaled
    ax.imshow(overlay)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def plot_token_attribution(tokens, scores, *, ax=None, title: str | None = None, fontsize: int = 10):
    """Tokens highlighted by attribution: red for the target, blue against.

    Tokens flow left to right and wrap at the axis' width.

    Args:
        tokens: the token strings (padding left out).
        scores: one attribution per token.
        ax: a matplotlib axis (default: a new figure).
        title: the axis title.
        fontsize: the tokens' font size.

    Returns:
        The axis.
    """
    import matplotlib.pyplot as plt

    scores = np.asarray(scores, dtype="float32")[: len(tokens)]
    if len(scores) != len(tokens):
        raise ValueError(f"`scores` has {len(scores)} values for {len(tokens)} tokens.")
    ax = _axis(ax, (6, 1.2))
    ax.axis("off")
    renderer = ax.figure.canvas.get_renderer()
    axis_width = ax.get_window_extent(renderer).width
    line_height = 1.8 * fontsize / 72 * ax.figure.dpi / ax.get_window_extent(renderer).height
    scale = float(np.abs(scores).max()) or 1.0
    colours = plt.get_cmap("bwr")
    x, y = 0.0, 1.0 - line_height / 2
    for token, score in zip(tokens, scores):
        text = ax.text(x, y, token, fontsize=fontsize, va="center", ha="left", transform=ax.transAxes,
                       bbox={"facecolor": colours(0.5 + 0.5 * score / scale), "edgecolor": "none", "pad": 1.5})
        width = text.get_window_extent(renderer).width / axis_width
        if x > 0 and x + width > 1.0:  # wrap: move the token to the next line
            x, y = 0.0, y - line_height
            text.set_position((x, y))
        x += width + 0.6 * fontsize / 72 * ax.figure.dpi / axis_width
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def plot_sequence_attribution(attribution, *, ax=None, title: str | None = None, feature_names=None):
    """Time steps × features heat map of sequence attributions.

    Args:
        attribution: `(time, features)`.
        ax: a matplotlib axis (default: a new figure).
        title: the axis title.
        feature_names: labels of the features (default: their indices).

    Returns:
        The axis.
    """
    attribution = np.asarray(attribution, dtype="float32")
    if attribution.ndim != 2:
        raise ValueError(f"`attribution` must be (time, features), got shape {attribution.shape}.")
    ax = _axis(ax, (6, 3))
    scale = float(np.abs(attribution).max()) or 1.0
    ax.imshow(attribution.T, cmap="bwr", vmin=-scale, vmax=scale, aspect="auto")
    ax.set_xlabel("time step")
    ax.set_ylabel("feature")
    if feature_names is not None:
        ax.set_yticks(range(len(feature_names)), feature_names, fontsize=6)
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def plot_modality_contributions(contributions: dict, *, ax=None, title: str | None = None):
    """Bar chart of per-modality contributions (from either explainer's totals).

    Args:
        contributions: `{modality: value}`.
        ax: a matplotlib axis (default: a new figure).
        title: the axis title.

    Returns:
        The axis.
    """
    ax = _axis(ax, (3, 2.5))
    names = list(contributions)
    values = [contributions[name] for name in names]
    ax.bar(names, values, color=["tab:red" if value >= 0 else "tab:blue" for value in values])
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("contribution to the logit")
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def token_strings(token_ids, vocabulary, padding_mask=None) -> list:
    """The WordPiece strings of one example's token ids.

    Args:
        token_ids: `(sequence_length,)` ids.
        vocabulary: a `vocab.txt` path, a checkpoint folder holding one, or a
            list of tokens.
        padding_mask: drop the positions where it is 0.

    Returns:
        The tokens, padding left out.
    """
    import os

    if isinstance(vocabulary, str):
        path = os.path.join(vocabulary, "vocab.txt") if os.path.isdir(vocabulary) else vocabulary
        with open(path, encoding="utf-8") as vocabulary_file:
            vocabulary = [line.rstrip("\n") for line in vocabulary_file]
    ids = np.asarray(token_ids).tolist()
    keep = np.ones(len(ids), bool) if padding_mask is None else np.asarray(padding_mask).astype(bool)
    return [vocabulary[token] for token, kept in zip(ids, keep) if kept]
