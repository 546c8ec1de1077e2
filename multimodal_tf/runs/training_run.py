"""`train_run`: train one model on one real dataset, evaluate it, save the run folder."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform

import keras

from multimodal_tf.choices import USER_DATASET
from multimodal_tf.pretrained import minilm_checkpoint, portable_checkpoint
from multimodal_tf.runs.class_report import record_class_report, split_class_report
from multimodal_tf.runs.config import RunConfig, config_record
from multimodal_tf.runs.evaluation import (
    dataset_version,
    evaluate_subsets,
    run_split,
    score_fields,
    training_splits,
    validation_by_artist,
)
from multimodal_tf.runs.folder import (
    ProgressRecorder,
    check_run_name,
    find_unfinished_run,
    open_run_folder,
    remove_backup,
    remove_training_state,
    replace_run_files,
)
from multimodal_tf.runs.interrupts import InterruptGuard, naming_the_run_on_interrupt
from multimodal_tf.runs.models import build_run_model, dataset_facts, text_preprocessor_for
from multimodal_tf.runs.user_data import checked_user_config, write_data_record
from multimodal_tf.training import NonFiniteLossError, make_strategy, train, training_config


@dataclasses.dataclass
class RunInputs:
    """What training and tuning a run both need."""

    strategy: object
    facts: dict
    checkpoint: str | None
    preprocessor: object
    train_data: object
    validation_data: object
    validation_split: str | None = None  # the TFDS split validation_data reads
    text_data: list | None = None  # unshuffled raw-text copies, for the feature cache


def prepare_run(config: RunConfig, raw_text: bool = False) -> RunInputs:
    """The run's strategy, dataset facts, tokeniser and training data.

    With `raw_text`, the datasets keep the raw `"text"` strings for
    `train(..., text_preprocessor=...)` to tokenise, or to cache the frozen
    text encoder's outputs (`training.feature_cache`).
    """
    strategy = make_strategy(config.strategy)  # first: a cluster must exist before any op
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    if config.batch_size % replicas:
        raise ValueError(
            f"`batch_size` {config.batch_size} is the global batch and must split evenly over "
            f"{replicas} replicas; use a multiple of {replicas}."
        )
    keras.utils.set_random_seed(config.seed)
    facts = dataset_facts(config)
    checkpoint = minilm_checkpoint() if "text" in config.modalities else None
    preprocessor = text_preprocessor_for(config, checkpoint)
    train_split, validation_split = training_splits(config)
    data_preprocessor = None if raw_text else preprocessor
    validation_data = (
        run_split(config, validation_split, data_preprocessor) if validation_split else None
    )
    text_data = None
    if (
        raw_text and preprocessor is not None
    ):  # read once for the cache: the shuffle stays untouched
        text_data = [run_split(config, train_split, None), validation_data]
    return RunInputs(
        strategy,
        facts,
        checkpoint,
        preprocessor,
        train_data=run_split(config, train_split, data_preprocessor, shuffle=True),
        validation_data=validation_data,
        validation_split=validation_split,
        text_data=text_data,
    )


def write_run(folder: str, model, config: RunConfig, inputs: RunInputs, extra: dict) -> dict:
    """Evaluates per modality subset (validation and test), saves model.keras and metrics.json.

    A classifier's scores are `validation_accuracy`, `test_accuracy` and the
    test `class_report`; a regressor's `validation_error` and `test_error`
    (MAE and RMSE per subset).
    """
    test_field, validation_field = score_fields(model)
    if inputs.validation_split is not None:  # what choices between runs are made on
        extra = {
            **extra,
            validation_field: evaluate_subsets(
                model, config, inputs.preprocessor, split=inputs.validation_split
            ),
        }
        by_artist = validation_by_artist(model, config, inputs.preprocessor)
        if by_artist is not None:
            extra["validation_accuracy_by_artist"] = by_artist
    scores = evaluate_subsets(model, config, inputs.preprocessor)
    report = None
    if inputs.facts.get("class_names") is not None:
        report = split_class_report(model, config, inputs.preprocessor, inputs.facts["class_names"])
    os.makedirs(folder, exist_ok=True)
    if config.dataset == USER_DATASET:  # before metrics.json: a finished run has data.json
        write_data_record(folder, config)
    if report is not None:
        record_class_report(folder, report, "test")
        extra = {**extra, "class_report": {"test": report}}  # all present; confusion_test.png
    metrics = {
        "config": config_record(config),
        **inputs.facts,
        "text_checkpoint": portable_checkpoint(inputs.checkpoint) if inputs.checkpoint else None,
        "dataset_version": dataset_version(config),  # which rows `validation` and `test` hold
        "parameters": model.count_params(),
        **extra,
        test_field: scores,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "keras": keras.__version__,
    }
    replace_run_files(folder, model.save, metrics)
    return {**metrics, "folder": folder}


def run_name(
    config: RunConfig, run: str | None, output: str | None = None, restart: bool = False
) -> str:
    """`run`, checked; by default `<dataset>-<kind>-<timestamp>`, or with `output` (and not
    `restart`) the newest unfinished run of that form started with the same options, to resume."""
    if run is not None:
        return check_run_name(run)
    prefix = f"{config.dataset}-{config.kind}"
    if output is not None and not restart:
        unfinished = find_unfinished_run(output, prefix, config_record(config))
        if unfinished is not None:
            print(
                f"note: resuming the unfinished run {os.path.join(output, unfinished)!r}, started "
                "with the same options (--restart starts a new run instead)",
                flush=True,
            )
            return unfinished
    return f"{prefix}-{datetime.datetime.now():%Y%m%d-%H%M%S}"


def train_run(
    config: RunConfig,
    output: str = "saved_models",
    run: str | None = None,
    verbose: int | str = "auto",
    *,
    overwrite: bool = False,
    restart: bool = False,
) -> dict:
    """Trains with `multimodal_tf.training`, evaluates per modality subset, saves.

    Rerunning with the same `output`, `run` and options after an
    interruption resumes from the last finished epoch (the run folder holds
    the backup until training ends). The folder's rules are those of
    `multimodal_tf.runs.folder`: a finished run is kept unless `overwrite`,
    an interrupted one resumes only with the options it started with unless
    `restart`, and one process at a time writes it.

    Args:
        config: the run's configuration.
        output: the folder that receives the run folder.
        run: the run folder's name (default: dataset, model and a timestamp).
        verbose: Keras' progress display (1: bar, 2: a line per epoch; "auto": a
            bar on a terminal, a line per epoch off one).
        overwrite: replace a finished run of the same name.
        restart: start an interrupted run of the same name over.

    Returns:
        The metrics written to `metrics.json`, with `"folder"` and the
        trained `"model"` added.
    """
    config = checked_user_config(config)  # a regression label: the regression head
    name = run_name(config, run, output, restart)
    worker = _worker_index(config)
    if worker:  # the chief (worker 0) writes NAME; worker i writes NAME-worker<i> beside it
        name = f"{name}-worker{worker}"
    with (
        open_run_folder(
            output, name, config_record(config), overwrite=overwrite, restart=restart
        ) as folder,
        naming_the_run_on_interrupt(folder.path),
        InterruptGuard() as interrupts,
    ):
        if folder.resumed_epochs:
            print(
                f"resuming run {folder.path!r} after epoch {folder.resumed_epochs} of "
                f"{config.epochs} "
                f"({folder.seconds_before:.0f} s trained before)",
                flush=True,
            )
        inputs = prepare_run(config, raw_text=True)
        try:
            result = train(
                lambda: build_run_model(config, inputs.facts, inputs.checkpoint),
                inputs.train_data,
                training_config(
                    config,
                    output_dir=folder.path,
                    verbose=verbose,
                    keep_backup=True,  # removed below, once model.keras and metrics.json exist
                ),
                validation_data=inputs.validation_data,
                callbacks=[ProgressRecorder(folder), interrupts],
                text_preprocessor=inputs.preprocessor,
                text_data=inputs.text_data,
            )
        except NonFiniteLossError:
            remove_training_state(
                folder.path
            )  # a diverged run is not resumed: the next one starts fresh
            raise
        interrupts.check()  # a SIGINT lost in the last steps: the run is not written as finished
        epochs = result.history.epoch
        metrics = write_run(
            folder.path,
            result.model,
            config,
            inputs,
            {
                "epochs_trained": epochs[-1] + 1 if epochs else folder.resumed_epochs,
                "train_seconds": round(folder.seconds_before + result.seconds, 1),
                "precision": result.precision,
                "jit_compile": result.jit_compile,
                "strategy": result.strategy,
                "replicas": result.replicas,
                "feature_cache": result.feature_cache,
                "feature_seconds": result.feature_seconds,
                # per epoch (of this process, when resumed): the curve epochs are chosen on
                "history": {
                    name: [round(float(value), 4) for value in values]
                    for name, values in result.history.history.items()
                },
            },
        )
        remove_backup(folder.path)
    return {**metrics, "model": result.model}


def _worker_index(config: RunConfig) -> int:
    """This worker's index in TF_CONFIG's cluster (0, the chief, without multiworker)."""
    if config.strategy != "multiworker":
        return 0
    try:
        return int(json.loads(os.environ.get("TF_CONFIG", "{}"))["task"]["index"])
    except (ValueError, KeyError, TypeError):
        return 0  # make_strategy reports a bad TF_CONFIG
