"""Scoring a run: its splits, accuracy (a regressor: MAE and RMSE) per modality subset, and
with modalities missing."""

from __future__ import annotations

from multimodal_tf.choices import USER_DATASET
from multimodal_tf.data.pipeline import OWN_VALIDATION_SPLIT, load_split, prepare
from multimodal_tf.models.heads import is_regressor
from multimodal_tf.runs import user_batches, user_data
from multimodal_tf.runs.config import RunConfig
from multimodal_tf.runs.loading import load_run
from multimodal_tf.runs.models import text_preprocessor_for
from multimodal_tf.validation import check_rate


def run_split(config: RunConfig, split: str, preprocessor, *, missing_seed=None, **kwargs):
    """One split of the run's data as its model takes it (`missing_seed`: which rows lose
    which modality under `missing_rate`; None: the run's seed)."""
    seed = config.seed if missing_seed is None else missing_seed
    if config.dataset == USER_DATASET:
        return user_batches.user_split(config, split, preprocessor, missing_seed=seed, **kwargs)
    return load_split(
        config.dataset,
        split,
        batch_size=config.batch_size,
        text_preprocessor=preprocessor,
        data_dir=config.data_dir,
        modalities=config.modalities,
        presence=config.kind == "multimodal",
        seed=seed,
        **kwargs,
    )


def dataset_splits(config: RunConfig) -> tuple:
    """The prepared dataset's split names, e.g. `("train", "validation", "test")`."""
    if config.dataset == USER_DATASET:
        return user_data.user_splits(config)
    return tuple(prepare(config.dataset, config.data_dir).info.splits)


def has_validation_split(config: RunConfig) -> bool:
    """Whether the dataset holds out its own `validation` split (twemoji_categories does)."""
    return config.dataset in (*OWN_VALIDATION_SPLIT, USER_DATASET)


def training_splits(config: RunConfig) -> tuple:
    """TFDS split names for training and validation (None without validation).

    A dataset with its own `validation` split (held out by emoji, say)
    validates on it (`RunConfig` refuses a `validation_fraction` there);
    otherwise `config.validation_fraction` of the training split's end is
    held out, if any.
    """
    if config.dataset == USER_DATASET:
        return user_data.user_training_splits(config)
    total = prepare(config.dataset, config.data_dir).info.splits["train"].num_examples
    if has_validation_split(config):
        train_count = total if config.limit is None else min(total, config.limit)
        validation = (
            "validation" if config.test_limit is None else f"validation[:{config.test_limit}]"
        )
        return ("train" if train_count == total else f"train[:{train_count}]"), validation
    held_out = round(total * config.validation_fraction)
    if config.validation_fraction and held_out == 0:
        raise ValueError(
            f"`validation_fraction` {config.validation_fraction} holds out no example of {total}."
        )
    train_count = total - held_out
    if config.limit is not None:
        train_count = min(train_count, config.limit)
    train_split = "train" if train_count == total else f"train[:{train_count}]"
    return train_split, (f"train[{total - held_out}:]" if held_out else None)


def test_split(config: RunConfig, split: str = "test") -> str:
    """The TFDS split a run is scored on: `split`, and for `test` its first `test_limit` examples.

    Raises:
        ValueError: the dataset has no split `split` (the message lists those it has).
    """
    splits = dataset_splits(config)
    if split.split("[")[0] not in splits:
        raise ValueError(
            f"`split` {split!r} is not a split of {config.dataset}; it has: {', '.join(splits)}."
        )
    if split != "test" or config.test_limit is None:
        return split
    return f"test[:{config.test_limit}]"


def modality_subsets(modalities) -> dict:
    """`{"all": (), "image only": absent modalities, ...}` for per-subset accuracy."""
    subsets = {"all": ()}
    if len(modalities) > 1:
        for modality in modalities:
            subsets[f"{modality} only"] = tuple(m for m in modalities if m != modality)
    return subsets


def score_on(model, dataset):
    """A classifier's accuracy on `dataset`; a regressor's `{"mae": ..., "rmse": ...}`."""
    scores = model.evaluate(dataset, verbose=0, return_dict=True)
    if is_regressor(model):
        # Six significant digits, not four decimals: targets of 1e-4 would all score 0.
        return {name: float(f"{float(scores[name]):.6g}") for name in ("mae", "rmse")}
    return round(float(scores["accuracy"]), 4)


def score_fields(model) -> tuple:
    """metrics.json's `(test, validation)` fields for `model`'s scores."""
    if is_regressor(model):
        return "test_error", "validation_error"
    return "test_accuracy", "validation_accuracy"


def evaluate_subsets(
    model, config: RunConfig, preprocessor, split: str = "test", artists=None
) -> dict:
    """The score (`score_on`) on `split` with all modalities, then with each one alone.

    `artists`: twemoji_categories only, the rows drawn by these artists.
    """
    split = test_split(config, split)
    options = {"artists": artists} if artists else {}
    return {
        subset: score_on(model, run_split(config, split, preprocessor, absent=absent, **options))
        for subset, absent in modality_subsets(config.modalities).items()
    }


def validation_by_artist(model, config: RunConfig, preprocessor) -> dict | None:
    """`{artist: {subset: accuracy}}` on validation, for datasets drawn by several artists.

    twemoji_categories (3.0.0 on) draws its train and validation emoji in
    three styles: how far each style is recognised, image only, is what
    carries to artwork never trained on (`test_facebook`). None for other
    datasets, and for runs without images.
    """
    if config.dataset != "twemoji_categories" or "image" not in config.modalities:
        return None
    from multimodal_tf.data.datasets.twemoji_categories import TRAINING_ARTISTS

    if "artist" not in prepare(config.dataset, config.data_dir).info.features:
        return None  # a version before 3.0.0
    return {
        artist: evaluate_subsets(model, config, preprocessor, "validation", artists=(artist,))
        for artist in TRAINING_ARTISTS
    }


def dataset_version(config: RunConfig) -> str:
    """The version of the prepared dataset a run reads, e.g. `"2.0.0"` (user files: a hash)."""
    if config.dataset == USER_DATASET:
        return user_data.data_version(config)
    return str(prepare(config.dataset, config.data_dir).info.version)


def validation_is_held_out(config: RunConfig, recorded: str | None, current: str) -> bool:
    """Whether a run recorded on dataset version `recorded` never trained on the validation rows.

    True for the `current` version, and for a built-in dataset's versions since
    its builder's `VALIDATION_HELD_OUT_SINCE` (twemoji_categories 2.0.0 on).
    """
    if recorded is None:
        return False
    if recorded == current:
        return True
    if config.dataset == USER_DATASET:
        return False
    import tensorflow_datasets as tfds

    since = getattr(tfds.builder_cls(config.dataset), "VALIDATION_HELD_OUT_SINCE", None)
    try:
        return since is not None and tfds.core.Version(recorded) >= tfds.core.Version(since)
    except ValueError:  # not a version string
        return False


def load_for_evaluation(path: str, data_dir: str | None, split: str = "test") -> tuple:
    """A saved run's `(model, config, text preprocessor)`, its dataset prepared.

    Raises:
        ValueError: `split` is a `validation` split the run may have trained
            on: one recorded with an older dataset version whose training split
            may hold today's validation rows (twemoji_categories before 2.0.0).
    """
    model, metrics, config = load_run(path, data_dir)
    current = dataset_version(config)
    if config.dataset == USER_DATASET and metrics.get("dataset_version") != current:
        raise ValueError(
            f"{path!r}: its files ({config.data['train']}, ...) changed or moved since training, "
            "so its splits would hold other rows; score a labelled file with "
            "`evaluate RUN --data FILE`."
        )
    if split.split("[")[0] == "validation" and not validation_is_held_out(
        config, metrics.get("dataset_version"), current
    ):
        raise ValueError(
            f"{path!r} was trained on {config.dataset} "
            f"{metrics.get('dataset_version') or 'before its version was recorded'}, not "
            f"{current}: its training split may hold the `validation` rows. Score it on test."
        )
    return model, config, text_preprocessor_for(config, metrics.get("text_checkpoint"))


def evaluate_run(path: str, data_dir: str | None = None, split: str = "test") -> dict:
    """Re-evaluates a saved run on a split (default: test), per modality subset."""
    return evaluate_subsets(*load_for_evaluation(path, data_dir, split), split=split)


def evaluate_missing(
    path: str, rates, data_dir: str | None = None, seed: int = 0, split: str = "test"
) -> dict:
    """The score on a split (default: test; `score_on`: accuracy, or a regressor's errors) as
    a growing fraction of rows loses one modality.

    Each test row loses one of its modalities, picked at random, with
    probability `rate` (seeded, so every model sees the same rows missing
    the same modality); the rest stay whole.

    Args:
        path: a run folder of a multimodal model.
        rates: fractions in [0, 1), e.g. `(0, 0.1, 0.2, 0.3, 0.4, 0.5)`.
        data_dir: the TFDS data folder.
        seed: which rows lose which modality.
        split: the split scored.

    Returns:
        `{rate: score}`.
    """
    rates = [check_rate("missing rate", rate) for rate in rates]
    model, config, preprocessor = load_for_evaluation(path, data_dir, split)
    if config.kind != "multimodal" or len(config.modalities) < 2:
        raise ValueError(f"{path!r} is not a multimodal run: missing modalities need two or more.")
    split = test_split(config, split)  # the run's own seed keeps its carved splits
    return {
        rate: score_on(
            model, run_split(config, split, preprocessor, missing_rate=rate, missing_seed=seed)
        )
        for rate in rates
    }
