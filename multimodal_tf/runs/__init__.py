"""A run: train one model on one real dataset, evaluate it, save it.

This is what `multimodal-tf train`, `tune`, `evaluate` and `predict` do. A
run folder holds `model.keras` and `metrics.json`, which records everything
needed to evaluate or predict again (dataset, modalities, class names, text
settings) and the test accuracy for every modality subset.

| concern | module |
|---|---|
| `RunConfig`, dataset defaults, the recorded options | `config.py` |
| dataset facts, which model a run builds, its tokeniser | `models.py` |
| `train_run`: train, evaluate, write the folder | `training_run.py` |
| `tune_run`: keras-tuner search, trials in child processes | `tuning_run.py` |
| `load_run`: metrics.json checked against model.keras | `loading.py` |
| splits, accuracy per modality subset, missing modalities | `evaluation.py` |
| per-class precision, recall, F1 and the confusion matrix | `class_report.py` |
| two runs on the same rows: difference and exact McNemar p | `comparison.py` |
| `predict_run`, `predict_example`, `predict_batch` | `prediction.py` |
| the run folder on disk: atomic writes, locks, resuming | `folder.py` |
| SavedModel and TFLite exports of a run | `export.py` |
| runs on the user's own files (`train --data`): `RunConfig.data`, `data.json` | `user_data.py` |
| a user-data run scored on a new labelled file (`evaluate --data`) | `user_scoring.py` |
"""

from multimodal_tf.runs.comparison import compare_runs
from multimodal_tf.runs.config import RunConfig
from multimodal_tf.runs.evaluation import evaluate_missing, evaluate_run
from multimodal_tf.runs.export import export_savedmodel, export_tflite
from multimodal_tf.runs.loading import load_run
from multimodal_tf.runs.prediction import predict_batch, predict_example, predict_run
from multimodal_tf.runs.quantization import quantize_run
from multimodal_tf.runs.training_run import train_run
from multimodal_tf.runs.tuning_run import tune_run

__all__ = [
    "RunConfig",
    "compare_runs",
    "evaluate_missing",
    "evaluate_run",
    "export_savedmodel",
    "export_tflite",
    "load_run",
    "predict_batch",
    "predict_example",
    "predict_run",
    "quantize_run",
    "train_run",
    "tune_run",
]
