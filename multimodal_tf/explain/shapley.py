"""How much of the target logit each modality carries: exact Shapley values of presence flags."""

from __future__ import annotations

import itertools
import math

import numpy as np

from multimodal_tf.explain.model_access import (
    as_batch_of_one,
    named_inputs,
    output_kind,
    target_class,
)


def modality_contributions(
    model, inputs, *, target: int | None = None, output: str = "logit"
) -> dict:
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
    flags = [name for name in (named_inputs(model) or {}) if name.endswith("_present")]
    if not flags:
        raise ValueError(
            "`modality_contributions` needs a multimodal model with `<modality>_present` inputs; "
            "use `integrated_gradients` for single-modality classifiers."
        )
    example, _ = as_batch_of_one(model, inputs)
    modalities = [flag[: -len("_present")] for flag in flags]
    subsets = [
        subset
        for size in range(len(modalities) + 1)
        for subset in itertools.combinations(modalities, size)
    ]
    batch = {name: np.repeat(value[None], len(subsets), axis=0) for name, value in example.items()}
    for row, subset in enumerate(subsets):
        for modality in modalities:
            batch[f"{modality}_present"][row] = 1.0 if modality in subset else 0.0
    with output_kind(model, output):
        values = np.asarray(model(batch, training=False), dtype="float64")
    # The last subset is all modalities: its argmax is the prediction (logits and probabilities
    # agree).
    target = (
        int(np.argmax(values[-1])) if target is None else target_class(model, None, None, target)
    )
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
