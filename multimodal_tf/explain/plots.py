"""Plots of attributions (matplotlib, imported when called)."""

from __future__ import annotations

import numpy as np


def _axis(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_image_attribution(
    image, heatmap, *, ax=None, alpha: float = 0.7, title: str | None = None
):
    """The image with a heat map over it (Grad-CAM, or |IG| summed over channels).

    The image is drawn in grey, the heat map in colour over it, scaled to its
    99th percentile and more opaque where it is higher, so the image stays
    visible where nothing is attributed.

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
        raise ValueError(
            f"`heatmap` must be {image.shape[:2]} like the image, got {heatmap.shape}."
        )
    shown = image.astype("float32") / (255.0 if image.dtype == np.uint8 else 1.0)
    # In grey, so that every colour on the plot is the heat map's.
    grey = (
        shown[..., 0] if shown.shape[-1] == 1 else shown[..., :3] @ np.array([0.299, 0.587, 0.114])
    )
    ax.imshow(grey, cmap="gray", vmin=0.0, vmax=1.0)
    top = float(np.percentile(heatmap, 99)) or float(heatmap.max()) or 1.0
    scaled = np.clip(heatmap / top, 0.0, 1.0)
    overlay = plt.get_cmap("jet")(scaled)
    overlay[..., 3] = alpha * scaled
    ax.imshow(overlay)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def plot_token_attribution(
    tokens, scores, *, ax=None, title: str | None = None, fontsize: int = 10
):
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
        text = ax.text(
            x,
            y,
            token,
            fontsize=fontsize,
            va="center",
            ha="left",
            transform=ax.transAxes,
            bbox={"facecolor": colours(0.5 + 0.5 * score / scale), "edgecolor": "none", "pad": 1.5},
        )
        width = text.get_window_extent(renderer).width / axis_width
        if x > 0 and x + width > 1.0:  # wrap: move the token to the next line
            x, y = 0.0, y - line_height
            text.set_position((x, y))
        x += width + 0.6 * fontsize / 72 * ax.figure.dpi / axis_width
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def plot_sequence_attribution(
    attribution, *, ax=None, title: str | None = None, feature_names=None
):
    """Time steps × features heat map of sequence attributions.

    Args:
        attribution: `(time, features)`.
        ax: a matplotlib axis (default: a new figure).
        title: the axis title.
        feature_names: labels of the features (default: their indices).

    Returns:
        The axis.
    """
    from matplotlib.ticker import MaxNLocator

    attribution = np.asarray(attribution, dtype="float32")
    if attribution.ndim != 2:
        raise ValueError(f"`attribution` must be (time, features), got shape {attribution.shape}.")
    ax = _axis(ax, (6, 3))
    scale = float(np.abs(attribution).max()) or 1.0
    image = ax.imshow(attribution.T, cmap="bwr", vmin=-scale, vmax=scale, aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="attribution (red: for the class)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
    keep = (
        np.ones(len(ids), bool) if padding_mask is None else np.asarray(padding_mask).astype(bool)
    )
    return [vocabulary[token] for token, kept in zip(ids, keep) if kept]
