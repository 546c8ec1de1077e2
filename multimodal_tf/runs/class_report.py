"""Per-class precision, recall and F1, and the confusion matrix, of a run on a split.

`train` records the test split's report in metrics.json (`class_report`)
and draws its confusion matrix beside it (`confusion_test.png`);
`evaluate` prints the report of the split it scores and records it the
same way, so the run folder keeps the report of every split it was scored on.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np

from multimodal_tf.files import write_atomically, write_json
from multimodal_tf.runs.config import RunConfig
from multimodal_tf.runs.evaluation import (
    evaluate_subsets,
    load_for_evaluation,
    run_split,
    test_split,
)
from multimodal_tf.runs.folder import METRICS_FILE, MODEL_FILE

# Above this many classes the printed confusion matrix would not fit a terminal: the PNG has it.
PRINTED_CONFUSION_LIMIT = 12
AVERAGES = ("macro", "weighted")


def class_report(labels, predicted, class_names) -> dict:
    """Precision, recall, F1 and support per class, their averages and the confusion matrix.

    A class never predicted has precision 0; one absent from `labels` has
    recall 0 and support 0 (scikit-learn's `zero_division=0`).

    Args:
        labels: the true class ids, integers in `[0, len(class_names))`.
        predicted: the predicted class ids, as many as `labels`.
        class_names: the name of each class id.

    Returns:
        `{"accuracy", "classes": [{"name", "precision", "recall", "f1",
        "support"}, ...], "macro": {...}, "weighted": {...},
        "confusion_matrix": rows of true classes, columns of predicted ones}`.

    Example:
        >>> report = class_report([0, 0, 1, 1], [0, 1, 1, 1], ["cat", "dog"])
        >>> report["classes"][1]["precision"], report["confusion_matrix"]
        (0.6667, [[1, 1], [0, 2]])
    """
    class_names = [str(name) for name in class_names]
    labels, predicted = np.asarray(labels).reshape(-1), np.asarray(predicted).reshape(-1)
    if labels.shape != predicted.shape:
        raise ValueError(
            f"`predicted` must hold one class id per label ({labels.size}), got {predicted.size}."
        )
    count = len(class_names)
    for name, ids in (("labels", labels), ("predicted", predicted)):
        outside = ids[(ids < 0) | (ids >= count)]
        if outside.size:
            raise ValueError(
                f"`{name}` must be class ids in [0, {count}) (one per class name), "
                f"got {int(outside[0])}."
            )
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted.astype(np.int64)), 1)
    hits = np.diag(confusion).astype(np.float64)
    support, predicted_counts = confusion.sum(axis=1), confusion.sum(axis=0)
    precision = np.divide(hits, predicted_counts, out=np.zeros(count), where=predicted_counts > 0)
    recall = np.divide(hits, support, out=np.zeros(count), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(count), where=both > 0)
    scores = {"precision": precision, "recall": recall, "f1": f1}
    weights = support / support.sum() if support.sum() else np.zeros(count)
    return {
        "accuracy": _round(hits.sum() / labels.size if labels.size else 0.0),
        "classes": [
            {
                "name": name,
                **{score: _round(values[index]) for score, values in scores.items()},
                "support": int(support[index]),
            }
            for index, name in enumerate(class_names)
        ],
        "macro": {score: _round(values.mean()) for score, values in scores.items()},
        "weighted": {score: _round((values * weights).sum()) for score, values in scores.items()},
        "confusion_matrix": confusion.tolist(),
    }


def format_class_report(report: dict) -> list:
    """The report as printed lines: a table per class, the averages, and the confusion matrix.

    The confusion matrix is printed for up to `PRINTED_CONFUSION_LIMIT`
    classes (rows: true class, columns: predicted class, in the table's
    order); above that, one line says it is too many to print.
    """
    names = [row["name"] for row in report["classes"]]
    width = max(len("weighted avg"), *(len(name) for name in names))
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    total = sum(row["support"] for row in report["classes"])
    averages = [{"name": f"{kind} avg", **report[kind], "support": total} for kind in AVERAGES]
    rows = [*report["classes"], *averages]
    for row in rows:
        lines.append(
            f"{row['name']:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  "
            f"{row['f1']:5.4f}  {row['support']:7d}"
        )
    if len(names) > PRINTED_CONFUSION_LIMIT:
        lines.append(f"confusion matrix: {len(names)} classes, too many to print")
        return lines
    cell = max(5, len(str(max(max(row) for row in report["confusion_matrix"]))) + 1)
    lines.append("confusion matrix (rows: true class; columns: predicted, in the same order):")
    for name, row in zip(names, report["confusion_matrix"]):
        lines.append(f"{name:<{width}}  " + "".join(f"{value:>{cell}d}" for value in row))
    return lines


def save_confusion_matrix(report: dict, path: str, title: str = "") -> None:
    """Draws the report's confusion matrix as a PNG (written atomically).

    Cells are shaded by the fraction of each true class (a row) and carry
    their counts where the classes are few enough to read them.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    confusion = np.asarray(report["confusion_matrix"], dtype=np.float64)
    names = [row["name"] for row in report["classes"]]
    rows = confusion.sum(axis=1, keepdims=True)
    shares = np.divide(confusion, rows, out=np.zeros_like(confusion), where=rows > 0)
    size = min(4 + 0.45 * len(names), 24)
    figure, axis = plt.subplots(figsize=(size + 1.5, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axis, label="share of the true class")
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title(title or f"accuracy {report['accuracy']:.4f}")
    if len(names) <= 20:
        for (row, column), count in np.ndenumerate(confusion):
            colour = "white" if shares[row, column] > 0.5 else "black"
            axis.text(column, row, int(count), ha="center", va="center", color=colour, fontsize=8)
    figure.tight_layout()
    try:
        write_atomically(path, lambda temporary: figure.savefig(temporary, format="png", dpi=100))
    finally:
        plt.close(figure)


def predicted_classes(model, dataset) -> tuple:
    """`(labels, predicted class ids)` of every row of a `(features, label)` dataset."""
    labels, predicted = [], []
    for features, batch_labels in dataset:
        probabilities = np.asarray(model.predict_on_batch(features))
        predicted.append(np.argmax(probabilities, axis=-1))
        labels.append(np.asarray(batch_labels))
    if not labels:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(labels), np.concatenate(predicted)


def split_class_report(
    model, config: RunConfig, preprocessor, class_names, split: str = "test"
) -> dict:
    """The class report of a run's model on one of its splits, all modalities present."""
    dataset = run_split(config, test_split(config, split), preprocessor)
    return class_report(*predicted_classes(model, dataset), class_names)


def confusion_file(split: str) -> str:
    """The PNG of a split: `confusion_test.png`, or `confusion_test_100.png` for test[:100]."""
    return f"confusion_{re.sub(r'[^A-Za-z0-9]+', '_', split).strip('_')}.png"


def record_class_report(folder: str, report: dict, split: str) -> str:
    """Draws the split's confusion matrix in the run folder; returns the PNG's path."""
    path = os.path.join(folder, confusion_file(split))
    save_confusion_matrix(report, path, title=f"{os.path.basename(folder)}, {split}")
    return path


def report_run(path: str, data_dir: str | None = None, split: str = "test", write: bool = True):
    """Scores a saved run on a split: accuracy per modality subset and the class report.

    With `write`, the report joins metrics.json's `class_report` (by split)
    and the confusion matrix is drawn in the run folder; a run folder that
    cannot be written (read-only, say) is still scored, and `"written"`
    says why not.

    Args:
        path: a run folder, or its `model.keras`.
        data_dir: the TFDS data folder (None: the one the run recorded).
        split: the split to score.
        write: record the report in the run folder.

    Returns:
        `{"accuracy": {subset: accuracy}, "class_report": report,
        "written": the PNG's path, or the reason nothing was written}`; a
        regression run's `"accuracy"` holds `{subset: {"mae", "rmse"}}` and
        its `"class_report"` is None.
    """
    model, config, preprocessor = load_for_evaluation(path, data_dir, split)
    folder = os.path.dirname(path) if os.path.basename(path) == MODEL_FILE else path
    folder = folder.rstrip("/") or "."
    metrics_path = os.path.join(folder, METRICS_FILE)
    with open(metrics_path, encoding="utf-8") as metrics_file:
        metrics = json.load(metrics_file)  # checked by load_for_evaluation
    accuracy = evaluate_subsets(model, config, preprocessor, split=split)
    if metrics.get("task") == "regression":
        return {"accuracy": accuracy, "class_report": None, "written": "a regressor has no classes"}
    report = split_class_report(model, config, preprocessor, metrics["class_names"], split)
    written = "not asked to"
    if write:
        try:
            written = record_class_report(folder, report, split)
            reports = metrics.get("class_report")
            reports = reports if isinstance(reports, dict) else {}
            write_json(metrics_path, {**metrics, "class_report": {**reports, split: report}})
        except OSError as error:
            written = f"could not write the report into {folder!r}: {error.strerror or error}"
    return {"accuracy": accuracy, "class_report": report, "written": written}


def _round(value) -> float:
    return round(float(value), 4)
