"""Is one run better than another? Paired accuracy on the same rows and the exact McNemar test.

Two models scored on the same test set are not independent samples: the
question is only about the rows where exactly one of them is right. With
`b` rows right only for the first model and `c` only for the second, the
exact McNemar test is a two-sided binomial test of `b` against
`Binomial(b + c, 1/2)`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from multimodal_tf.models.heads import is_regressor
from multimodal_tf.runs import evaluation


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value from the two discordant counts.

    Args:
        only_first: rows the first model gets right and the second wrong.
        only_second: rows the second model gets right and the first wrong.

    Returns:
        The probability, if both models were equally accurate, of a split
        of the discordant rows at least this uneven (1.0 with none).

    Example:
    >>> round(mcnemar_exact(23, 14), 2)
    0.19
    >>> mcnemar_exact(0, 0)
    1.0
    """
    for name, value in (("only_first", only_first), ("only_second", only_second)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{name}` must be a count (an int >= 0), got {value!r}.")
    total, smaller = only_first + only_second, min(only_first, only_second)
    if total == 0:
        return 1.0
    tail = sum(math.comb(total, k) for k in range(smaller + 1)) / 2.0**total
    return min(1.0, 2.0 * tail)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Two runs scored on the same rows.

    Attributes:
        first, second: the runs' names (their folders).
        split: the split scored.
        examples: rows scored.
        first_accuracy, second_accuracy: accuracies on those rows.
        only_first, only_second: rows only that run gets right.
        p_value: the exact McNemar p-value.
    """

    first: str
    second: str
    split: str
    examples: int
    first_accuracy: float
    second_accuracy: float
    only_first: int
    only_second: int
    p_value: float

    def line(self) -> str:
        """`A vs B: +X.XX points (a% vs b%), exact McNemar p = Y`, as docs/results.md writes it."""
        gain = 100 * (self.first_accuracy - self.second_accuracy)
        return (
            f"{self.first} vs {self.second}: {gain:+.2f} points "
            f"({100 * self.first_accuracy:.2f}% vs {100 * self.second_accuracy:.2f}%), "
            f"exact McNemar p = {self.p_value:.3g} "
            f"({self.only_first} rows right only for the first, {self.only_second} only for the "
            f"second, of {self.examples} {self.split} rows)"
        )


def run_predictions(path: str, split: str = "test", data_dir: str | None = None) -> tuple:
    """A saved run's `(predicted classes, labels)` on a split, rows in the split's order."""
    model, config, preprocessor = evaluation.load_for_evaluation(path, data_dir, split)
    if is_regressor(model):
        raise ValueError(
            f"{path!r} is a regression run: `compare` pairs classifiers' right and wrong rows "
            "(exact McNemar); compare regressors by the MAE and RMSE in their metrics.json."
        )
    dataset = evaluation.run_split(config, evaluation.test_split(config, split), preprocessor)
    labels = np.concatenate([label for _, label in dataset.as_numpy_iterator()])
    predicted = np.argmax(model.predict(dataset, verbose=0), axis=-1)
    return predicted, labels


def compare_runs(
    first: str,
    second: str,
    split: str = "test",
    data_dir: str | None = None,
    names: tuple | None = None,
) -> Comparison:
    """Scores two saved runs of the same dataset on the same rows and tests the difference.

    Args:
        first, second: run folders (or their `model.keras`).
        split: the split to score (`test`, `validation`, ...).
        data_dir: the TFDS data folder.
        names: how to call the runs in `Comparison.line` (default: the paths).

    Returns:
        A `Comparison`.

    Raises:
        ValueError: the runs were not scored on the same rows (another
            dataset, or a `test_limit` that differs).
    """
    predicted_first, labels = run_predictions(first, split, data_dir)
    predicted_second, labels_second = run_predictions(second, split, data_dir)
    if labels.shape != labels_second.shape or not np.array_equal(labels, labels_second):
        raise ValueError(
            f"{first!r} and {second!r} were not scored on the same {split} rows "
            f"({labels.size} and {labels_second.size} rows): compare runs of the same dataset "
            "and test limit."
        )
    right_first, right_second = predicted_first == labels, predicted_second == labels
    only_first = int(np.sum(right_first & ~right_second))
    only_second = int(np.sum(right_second & ~right_first))
    first_name, second_name = names or (first, second)
    return Comparison(
        first_name,
        second_name,
        split,
        int(labels.size),
        float(right_first.mean()),
        float(right_second.mean()),
        only_first,
        only_second,
        mcnemar_exact(only_first, only_second),
    )
