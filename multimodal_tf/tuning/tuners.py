"""Tuners by name (`make_tuner`) and a search's completed trials (`leaderboard`)."""

from __future__ import annotations

import keras_tuner

from multimodal_tf.choices import TUNERS
from multimodal_tf.validation import check_positive_int


def make_tuner(
    kind: str,
    hypermodel,
    *,
    max_trials: int,
    directory: str,
    project_name: str,
    objective: str = "val_accuracy",
    max_epochs: int = 10,
    seed: int = 0,
    distribution_strategy=None,
    overwrite: bool = False,
):
    """A keras-tuner tuner by name.

    Args:
        kind: `"random"`, `"bayesian"` or `"hyperband"`.
        hypermodel: one of this module's hypermodels.
        max_trials: trials to run (random, bayesian); Hyperband's budget is
            `max_epochs` and its brackets instead.
        directory, project_name: where the tuner keeps its state; rerunning
            with the same ones (and `overwrite=False`) resumes the search.
        objective: the metric to maximise (`val_*` needs validation data).
        max_epochs: Hyperband's largest number of epochs per trial.
        seed: the tuner's random seed.
        distribution_strategy: a `tf.distribute` strategy for every trial.
        overwrite: start afresh instead of resuming.

    Returns:
        A `keras_tuner.Tuner`.
    """
    if kind not in TUNERS:
        raise ValueError(f"`tuner` must be one of {', '.join(TUNERS)}, got {kind!r}.")
    max_trials = check_positive_int("max_trials", max_trials)
    common = dict(
        objective=keras_tuner.Objective(objective, "min" if objective.endswith("loss") else "max"),
        directory=directory,
        project_name=project_name,
        seed=seed,
        overwrite=overwrite,
        distribution_strategy=distribution_strategy,
    )
    if kind == "random":
        return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if kind == "bayesian":
        return keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    return keras_tuner.Hyperband(
        hypermodel,
        max_epochs=check_positive_int("max_epochs", max_epochs),
        factor=3,
        hyperband_iterations=1,
        **common,
    )


def leaderboard(tuner, count: int | None = None) -> list:
    """Completed trials, best first: dicts of trial id, score and hyperparameters."""
    trials = [
        trial
        for trial in tuner.oracle.trials.values()
        if trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
        and trial.score is not None
    ]
    reverse = tuner.oracle.objective.direction == "max"
    trials.sort(key=lambda trial: trial.score, reverse=reverse)
    return [
        {"trial": trial.trial_id, "score": float(trial.score), **trial.hyperparameters.values}
        for trial in trials[:count]
    ]
