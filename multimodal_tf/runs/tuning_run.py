"""`tune_run`: a keras-tuner search over the model a run trains, saved like a run."""

from __future__ import annotations

import dataclasses
import glob
import json
import multiprocessing
import os
import warnings

from multimodal_tf.console import progress_verbosity, real_stderr
from multimodal_tf.runs.config import RunConfig, config_record
from multimodal_tf.runs.evaluation import has_validation_split
from multimodal_tf.runs.folder import check_search_options, is_finished, lock_run_folder
from multimodal_tf.runs.models import hypermodel_for_run
from multimodal_tf.runs.training_run import RunInputs, prepare_run, run_name, write_run
from multimodal_tf.runs.user_data import checked_user_config
from multimodal_tf.training import build_optimizer, training_config
from multimodal_tf.validation import check_positive_int


def tune_run(
    config: RunConfig,
    tuner: str = "random",
    max_trials: int = 10,
    output: str = "saved_models",
    run: str | None = None,
    verbose: int | str = "auto",
    trials_per_process: int | None = None,
) -> dict:
    """Searches the hyperparameters of the model `config` trains, with keras-tuner.

    Each trial trains `config.epochs` epochs (Hyperband's most) through the
    training engine, scored by validation accuracy: on the dataset's own
    `validation` split where it has one (twemoji_categories), else on the
    last `config.validation_fraction` (0.1 when 0) of the training split. The tuner's state lives in
    `<output>/<run>/tuner`: rerunning the same command resumes the search,
    and trials already done are not repeated. The best model is then saved
    like a trained run (`model.keras`, `metrics.json` with its test accuracy,
    `leaderboard`), so `evaluate` and `predict` work on it.

    Args:
        trials_per_process: run the trials in fresh processes, this many
            each (random and bayesian searches). TensorFlow keeps some memory
            of every model trained in a process even after
            `keras.backend.clear_session()` (tensorflow#61791; the fusion
            model: bench/results.jsonl#tuner-memory-one-process-avx2-2026-11-26); fresh
            processes hand it back, so a long search's memory stays that of
            `trials_per_process` trials.

    Returns:
        The metrics written to `metrics.json` (with `"folder"` added).
    """
    config = checked_user_config(config)
    if config.data is not None and config.data["task"] == "regression":
        raise ValueError(
            f"{config.data['train']}: `tune` searches classifiers (its objective is validation "
            f"accuracy), but {config.data['label']!r} is a regression target; train a regressor "
            "with `train`."
        )
    if not config.validation_fraction and not has_validation_split(config):
        config = dataclasses.replace(config, validation_fraction=0.1)
    name = run_name(config, run)
    folder = os.path.join(output, name)
    check_positive_int("max_trials", max_trials)
    with lock_run_folder(folder):
        if is_finished(folder) and not os.path.isdir(os.path.join(folder, "tuner")):
            raise ValueError(
                f"run folder {folder!r} holds a finished training run; choose another --run for "
                "the search."
            )
        check_search_options(folder, {**config_record(config), "tuner": tuner})
        verbose = progress_verbosity(verbose)  # decided here: the trials' children inherit it
        return _tune_locked(config, tuner, max_trials, folder, verbose, trials_per_process)


def _tune_locked(config, tuner, max_trials, folder, verbose, trials_per_process):
    from multimodal_tf import tuning

    if trials_per_process is not None:
        check_positive_int("trials_per_process", trials_per_process)
        if tuner == "hyperband" or config.strategy == "multiworker":
            raise ValueError(
                "`trials_per_process` works with random and bayesian searches on one machine."
            )
        _search_in_processes(config, tuner, max_trials, folder, verbose, trials_per_process)
    inputs = prepare_run(config, raw_text=True)
    search = _run_tuner(config, inputs, tuner, max_trials, folder, verbose)
    if trials_per_process is None:
        search.search(
            inputs.train_data,
            validation_data=inputs.validation_data,
            epochs=config.epochs,
            verbose=verbose,
        )
    board = tuning.leaderboard(search)
    if not board:
        raise RuntimeError(
            f"no trial of the search in {folder!r} completed; see the trial errors above."
        )
    with warnings.catch_warnings():
        # keras-tuner rebuilds the best trial's model and loads its checkpoint, optimizer
        # state included, into an optimizer not yet built, and Keras warns that it skips
        # that state: the best model is evaluated and saved here, not trained further.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        best = search.get_best_models(1)[0]
    build_optimizer(best)  # so a loaded run's optimizer matches
    return write_run(
        folder,
        best,
        config,
        inputs,
        {
            "tuner": tuner,
            "best_hyperparameters": search.get_best_hyperparameters(1)[0].values,
            "leaderboard": board,
        },
    )


def _run_tuner(
    config: RunConfig, inputs: RunInputs, tuner: str, max_trials: int, folder: str, verbose: int
):
    from multimodal_tf import tuning

    # The tuner distributes the trials itself (`distribution_strategy` below);
    # the frozen-encoder cache works on one device.
    training = training_config(
        config,
        strategy="default",
        verbose=verbose,
        feature_cache=config.feature_cache and config.strategy == "default",
    )
    hypermodel = hypermodel_for_run(config, inputs.facts, inputs.checkpoint, training)
    hypermodel.text_preprocessor = inputs.preprocessor  # the data carries raw text
    hypermodel.text_data = inputs.text_data
    return tuning.make_tuner(
        tuner,
        hypermodel,
        max_trials=max_trials,
        directory=folder,
        project_name="tuner",
        max_epochs=config.epochs,
        seed=config.seed,
        distribution_strategy=None if config.strategy == "default" else inputs.strategy,
    )


def _search_in_child(config: RunConfig, tuner: str, max_trials: int, folder: str, verbose: int):
    inputs = prepare_run(config, raw_text=True)
    search = _run_tuner(config, inputs, tuner, max_trials, folder, verbose)
    search.search(
        inputs.train_data,
        validation_data=inputs.validation_data,
        epochs=config.epochs,
        verbose=verbose,
    )


# Trial states keras-tuner counts against max_trials: a trial whose loss went
# NaN (StopOnNonFiniteLoss) ends FAILED or INVALID, and is finished too.
FINISHED_TRIAL_STATES = ("COMPLETED", "FAILED", "INVALID")


def _finished_trials(folder: str) -> int:
    count = 0
    for path in glob.glob(os.path.join(folder, "tuner", "trial_*", "trial.json")):
        with open(path, encoding="utf-8") as trial_file:
            count += json.load(trial_file).get("status") in FINISHED_TRIAL_STATES
    return count


def _search_in_processes(config, tuner, max_trials, folder, verbose, trials_per_process):
    """Runs the search's remaining trials, `trials_per_process` per fresh process."""
    context = multiprocessing.get_context("spawn")
    while (done := _finished_trials(folder)) < max_trials:
        target = min(done + trials_per_process, max_trials)
        child = context.Process(
            target=_search_in_child, args=(config, tuner, target, folder, verbose)
        )
        with real_stderr():  # the child's errors must reach the user, whatever the command hides
            child.start()
        child.join()
        if child.exitcode != 0 or _finished_trials(folder) <= done:
            raise RuntimeError(
                f"the search process for trials {done + 1}-{target} failed (exit code "
                f"{child.exitcode}); "
                "its error is printed above. Rerun to resume."
            )
