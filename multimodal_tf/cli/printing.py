"""How the commands print what they found: scores per modality subset, and predictions.

A classifier's scores are accuracies; a regressor's (`train --task
regression`) MAE and RMSE. A prediction is a class and its probability, or a
regressor's value; `--json` prints each as one JSON line.
"""

from __future__ import annotations

import json
import sys


def score_value(value) -> str:
    """An accuracy, `0.9123`, or a regressor's errors, `0.1234, RMSE: 0.2345`."""
    if isinstance(value, dict):
        return f"{value['mae']:.4f}, RMSE: {value['rmse']:.4f}"
    return f"{value:.4f}"


def score_line(split: str, subset: str, value) -> str:
    """`test accuracy (all): 0.9123`, or `test MAE (all): 0.1234, RMSE: 0.2345`."""
    return f"{split} {'MAE' if isinstance(value, dict) else 'accuracy'} ({subset}): " + (
        score_value(value)
    )


def print_scores(scores: dict, split: str = "test"):
    """A line per modality subset: its accuracy, or a regressor's MAE and RMSE."""
    for subset, value in scores.items():
        print(score_line(split, subset, value))


def print_run_scores(metrics: dict):
    """A finished run's validation and test scores; a regressor's targets' spread."""
    for split in ("validation", "test"):
        for field in (f"{split}_accuracy", f"{split}_error"):
            if field in metrics:
                print_scores(metrics[field], split)
    if metrics.get("task") == "regression":
        print(
            f"training targets: mean {metrics['target_mean']:.4g}, std {metrics['target_std']:.4g} "
            "(always predicting the mean scores an RMSE of about the std)"
        )


def print_predictions(predictions, as_json: bool) -> int:
    """Prints each row's prediction as it comes, or its error; exit 1 if any row was bad."""
    rows = bad = 0
    for prediction in predictions:
        rows += 1
        row = prediction.pop("row")
        if "error" in prediction:
            bad += 1
            line = {"row": row, "error": prediction["error"]}
            print(
                json.dumps(line, ensure_ascii=False)
                if as_json
                else f"row {row}: error: {prediction['error']}",
                flush=True,
            )
            continue
        say(rounded(prediction), f"row {row}", as_json)
        sys.stdout.flush()
    if bad:
        print(f"multimodal-tf predict: {bad} of {rows} rows were bad", file=sys.stderr)
        return 1
    return 0


def say(prediction: dict, subject: str, as_json: bool):
    """One prediction: a line for people, or a JSON line with `--json`."""
    if as_json:
        print(
            json.dumps(
                {**({"input": subject} if subject else {}), **prediction}, ensure_ascii=False
            )
        )
        return
    absent = f"  [absent: {', '.join(prediction['absent'])}]" if prediction.get("absent") else ""
    said = (
        f"{prediction['value']:.6g}"
        if "value" in prediction
        else f"{prediction['class']} ({prediction['probability']:.1%})"
    )
    print(f"{subject + ': ' if subject else ''}{said}{absent}")


def rounded(prediction: dict) -> dict:
    """A prediction with its probability (or regressed value) rounded for printing."""
    if "value" in prediction:
        return {**prediction, "value": round(prediction["value"], 6)}
    return {**prediction, "probability": round(prediction["probability"], 4)}
