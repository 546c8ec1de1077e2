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
| two runs on the same rows: difference and exact McNemar p | `comparison.py` |
| `predict_run`, `predict_example`, `predict_batch` | `prediction.py` |
"""

from multimodal_tf.runs.comparison import Comparison, compare_runs, mcnemar_exact
from multimodal_tf.runs.config import (
    ARCHITECTURES,
    DATASET_DEFAULTS,
    DEFAULT_DATASET,
    RunConfig,
    config_record,
)
from multimodal_tf.runs.evaluation import (
    evaluate_missing,
    evaluate_run,
    evaluate_subsets,
    modality_subsets,
    test_split,
    training_splits,
)
from multimodal_tf.runs.loading import MODALITY_INPUT, load_run
from multimodal_tf.runs.models import (
    TINY_FUSION,
    TINY_IMAGE,
    TINY_SEQUENCE,
    TINY_TEXT,
    build_run_model,
    dataset_facts,
    encoder_arguments,
    hypermodel_for_run,
    sequence_statistics,
    text_preprocessor_for,
    vocabulary_size,
)
from multimodal_tf.runs.prediction import (
    IMAGE_SUFFIXES,
    predict_batch,
    predict_example,
    predict_run,
)
from multimodal_tf.runs.training_run import train_run
from multimodal_tf.runs.tuning_run import FINISHED_TRIAL_STATES, tune_run

__all__ = [
    "ARCHITECTURES",
    "DATASET_DEFAULTS",
    "DEFAULT_DATASET",
    "FINISHED_TRIAL_STATES",
    "IMAGE_SUFFIXES",
    "MODALITY_INPUT",
    "TINY_FUSION",
    "TINY_IMAGE",
    "TINY_SEQUENCE",
    "TINY_TEXT",
    "Comparison",
    "RunConfig",
    "build_run_model",
    "compare_runs",
    "config_record",
    "dataset_facts",
    "encoder_arguments",
    "evaluate_missing",
    "evaluate_run",
    "evaluate_subsets",
    "hypermodel_for_run",
    "load_run",
    "mcnemar_exact",
    "modality_subsets",
    "predict_batch",
    "predict_example",
    "predict_run",
    "sequence_statistics",
    "test_split",
    "text_preprocessor_for",
    "train_run",
    "training_splits",
    "tune_run",
    "vocabulary_size",
]
