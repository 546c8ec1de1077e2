"""`evaluate_file`: a run trained on user files, scored on a new labelled file (nothing written)."""

from __future__ import annotations

import os

from multimodal_tf.choices import USER_DATASET
from multimodal_tf.runs.folder import METRICS_FILE, MODEL_FILE


def evaluate_file(run_path: str, path: str) -> dict:
    """Scores per modality subset on a labelled file, read with the run's schema and classes.

    The file's columns are matched to the training file's (case-insensitively);
    its relative image and `.npy` paths are read from its folder; bad rows
    follow the run's `on_bad_record`.

    Args:
        run_path: a run folder trained with `train --data` (`RunConfig.data`).
        path: a `.csv`, `.tsv`, `.parquet` or `.jsonl` file with the label column.

    Returns:
        `{"accuracy": {"all": ..., "image only": ..., ...}, "class_report": ...}`: the
        accuracy per modality subset and `class_report.class_report` (all modalities present);
        a regression run's `{subset: {"mae", "rmse"}}` and None.

    Raises:
        ValueError: not a user-data run (or not a run folder), an unreadable file, a missing column,
            a label that training never saw or a bad row (one line naming the
            file, row and column), or no usable row.
    """
    from multimodal_tf.data.user.checks import check_rows
    from multimodal_tf.data.user.loaders import _conform
    from multimodal_tf.data.user.schema import Schema
    from multimodal_tf.data.user.streaming import stream
    from multimodal_tf.data.user.tables import read_table
    from multimodal_tf.runs.class_report import class_report, predicted_classes
    from multimodal_tf.runs.evaluation import modality_subsets, score_on
    from multimodal_tf.runs.loading import _read_metrics, load_run
    from multimodal_tf.runs.models import text_preprocessor_for
    from multimodal_tf.runs.user_batches import model_batches

    if not os.path.isfile(path):
        raise ValueError(f"{path}: there is no such file (--data).")
    folder = os.path.dirname(run_path) if run_path.endswith(MODEL_FILE) else run_path
    metrics_path = os.path.join(folder, METRICS_FILE)
    if not os.path.isfile(metrics_path):
        raise ValueError(f"{run_path!r} is not a run folder: it has no {METRICS_FILE}.")
    recorded, config = _read_metrics(metrics_path)  # the file is checked before the model loads
    if config.dataset != USER_DATASET or not isinstance(recorded.get("user_data"), dict):
        raise ValueError(
            f"{run_path!r} was trained on {config.dataset}; --data scores runs trained with "
            "`train --data FILE`."
        )
    schema = Schema.from_dict(recorded["user_data"]["schema"])
    table = _conform(read_table(path), schema, "data")
    skip = config.data["on_bad_record"] == "skip"
    checked = check_rows(table, schema, on_bad_record="skip" if skip else "raise")
    if not checked.rows:
        raise ValueError(f"{path}: no usable row ({len(checked.skipped)} skipped).")
    model, metrics, config = load_run(run_path)
    raw = stream(
        table,
        schema,
        checked.rows,
        checked.targets,
        batch_size=config.batch_size,
        seed=config.seed,
        include_tabular="tabular" in config.modalities,
    )
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    accuracy = {
        subset: score_on(model, model_batches(raw, config, preprocessor, absent=absent))
        for subset, absent in modality_subsets(config.modalities).items()
    }
    if schema.task == "regression":
        return {"accuracy": accuracy, "class_report": None}
    labels, predicted = predicted_classes(model, model_batches(raw, config, preprocessor))
    report = class_report(labels, predicted, metrics["class_names"])
    return {"accuracy": accuracy, "class_report": report}
