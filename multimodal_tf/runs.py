"""A run: train one model on one real dataset, evaluate it, save it.

This is what `multimodal-tf train`, `evaluate` and `predict` do. A run folder
holds `model.keras` and `metrics.json`, which records everything needed to
evaluate or predict again (dataset, modalities, class names, text settings)
and the test accuracy for every modality subset.
"""

from __future__ import annotations

import dataclasses
import datetime
import glob
import json
import multiprocessing
import os
import platform
import re

import keras
import numpy as np

from multimodal_tf.data.pipeline import (
    TFDS_MODALITIES,
    check_modalities,
    check_sequence,
    load_split,
    prepare,
)
from multimodal_tf.data.images import read_image_file
from multimodal_tf.models import (
    build_bert_classifier,
    build_cnn_classifier,
    build_lstm_classifier,
    build_multimodal_model,
    build_text_preprocessor,
)
from multimodal_tf.pretrained import PACKAGED_MINILM, minilm_checkpoint, portable_checkpoint, resolve_checkpoint
from multimodal_tf_cli import real_stderr
from multimodal_tf.run_folder import (
    METRICS_FILE,
    MODEL_FILE,
    ProgressRecorder,
    check_run_name,
    is_finished,
    lock_run_folder,
    open_run_folder,
    remove_backup,
    remove_training_state,
    replace_run_files,
)
from multimodal_tf.training import PRECISIONS, STRATEGIES, NonFiniteLossError, TrainingConfig, make_strategy, train
from multimodal_tf.validation import check_choice, check_positive_int, check_positive_number, check_rate, check_seed

DEFAULT_DATASET = "twemoji_categories"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What to train, on what, and how.

    Args:
        dataset: a dataset of `multimodal_tf.data.pipeline.TFDS_MODALITIES`.
        modalities: the modalities to use (default: all the dataset has).
        model: `"auto"` (the multimodal model for two or more modalities,
            the document's classifier for one), `"multimodal"` or
            `"classifier"`.
        epochs: training epochs (None: the dataset's default).
        batch_size: examples per batch (None: the dataset's default).
        precision: `"auto"` (the best for this machine, see
            `multimodal_tf.training`) or a dtype policy.
        jit_compile: `"auto"`, True or False (XLA).
        strategy: `"default"`, `"mirrored"` or `"multiworker"`; the batch
            size is the global batch, split over the replicas.
        validation_fraction: the last fraction of the training split held
            out for validation (early stopping and the best checkpoint watch
            it); 0 trains on the whole split.
        early_stopping_patience: epochs without improvement before stopping.
        learning_rate: None: the builder's default.
        fusion: fusion of the multimodal model.
        modality_dropout: modality dropout of the multimodal model.
        text_length: tokens per text (None: the dataset's default).
        fine_tune_text: train the pretrained text encoder too (default for
            the text classifier; the multimodal model keeps it frozen unless
            asked, which is faster on CPUs).
        limit: use only the first N training examples (quick runs).
        test_limit: evaluate on the first N test examples only (quick runs;
            `metrics.json` and `evaluate` then score those N).
        architecture: `"default"` (the document's models, the pretrained
            MiniLM for text) or `"tiny"` (a few units per layer and a small
            random BERT over the MiniLM vocabulary: a pipeline check in
            seconds, for tests and smoke runs, not for accuracy).
        seed: seed of weights, shuffling and modality dropout.
        data_dir: the TFDS data folder.
    """

    dataset: str = DEFAULT_DATASET
    modalities: tuple | None = None
    model: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    precision: str = "auto"
    jit_compile: bool | str = "auto"
    strategy: str = "default"
    validation_fraction: float = 0.0
    early_stopping_patience: int | None = None
    learning_rate: float | None = None
    fusion: str = "attention"
    modality_dropout: float = 0.2
    text_length: int | None = None
    fine_tune_text: bool | None = None
    limit: int | None = None
    test_limit: int | None = None
    architecture: str = "default"
    seed: int = 0
    data_dir: str | None = None

    def __post_init__(self):
        set_field = object.__setattr__
        check_choice("dataset", self.dataset, tuple(TFDS_MODALITIES))
        set_field(self, "modalities", check_modalities(self.dataset, self.modalities))
        check_choice("model", self.model, ("auto", "multimodal", "classifier"))
        if self.model == "classifier" and len(self.modalities) != 1:
            raise ValueError("`model` 'classifier' needs exactly one modality; use 'multimodal'.")
        defaults = DATASET_DEFAULTS[self.dataset]
        for name in ("epochs", "batch_size", "text_length"):
            value = getattr(self, name)
            set_field(self, name, check_positive_int(name, defaults[name] if value is None else value))
        check_choice("precision", self.precision, ("auto", *PRECISIONS))
        check_choice("strategy", self.strategy, STRATEGIES)
        check_rate("validation_fraction", self.validation_fraction)
        if self.jit_compile not in ("auto", True, False):
            raise ValueError(f"`jit_compile` must be 'auto', True or False, got {self.jit_compile!r}.")
        check_positive_int("early_stopping_patience", self.early_stopping_patience, allow_none=True)
        check_rate("modality_dropout", self.modality_dropout)
        check_positive_int("limit", self.limit, allow_none=True)
        check_positive_number("learning_rate", self.learning_rate, allow_none=True)
        if self.learning_rate is not None and self.learning_rate > 1:
            raise ValueError(
                f"`learning_rate` must be at most 1 (Adam's useful rates are about 1e-5 to 1e-2), got {self.learning_rate!r}."
            )
        check_seed(self.seed)
        check_positive_int("test_limit", self.test_limit, allow_none=True)
        check_choice("architecture", self.architecture, ARCHITECTURES)

    @property
    def kind(self) -> str:
        if self.model != "auto":
            return self.model
        return "multimodal" if len(self.modalities) > 1 else "classifier"


ARCHITECTURES = ("default", "tiny")
# The "tiny" architecture's overrides of each builder's defaults.
TINY_IMAGE = {"filters": (4, 8), "dense_units": 8}
TINY_SEQUENCE = {"units": (8, 8)}
TINY_TEXT = {"num_layers": 1, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}
TINY_FUSION = {"fusion_dim": 8, "num_heads": 2}

DATASET_DEFAULTS = {
    "twemoji_categories": {"epochs": 12, "batch_size": 32, "text_length": 32},
    "fashion_mnist": {"epochs": 10, "batch_size": 64, "text_length": 32},
    "rt_snippets": {"epochs": 3, "batch_size": 32, "text_length": 64},
    "japanese_vowels": {"epochs": 60, "batch_size": 16, "text_length": 32},
}


def dataset_facts(config: RunConfig) -> dict:
    """Class names, image shape and sequence width of the prepared dataset."""
    builder = prepare(config.dataset, config.data_dir)
    features = builder.info.features
    facts = {"class_names": list(features["label"].names)}
    if "image" in config.modalities:
        facts["image_shape"] = list(features["image"].shape)
    if "sequence" in config.modalities:
        facts["num_features"] = int(features["sequence"].shape[-1])
        facts.update(sequence_statistics(builder))
    return facts


def sequence_statistics(builder) -> dict:
    """Per-feature mean and variance over every time step of the training split."""
    import tensorflow_datasets as tfds

    steps = np.concatenate(
        [record["sequence"] for record in tfds.as_numpy(builder.as_dataset(split="train"))]
    )
    return {
        "feature_mean": steps.mean(axis=0).astype(float).tolist(),
        "feature_variance": np.maximum(steps.var(axis=0), 1e-12).astype(float).tolist(),
    }


def build_run_model(config: RunConfig, facts: dict, text_checkpoint: str | None):
    """Builds the model a run trains, from the builders of `multimodal_tf.models`."""
    num_classes = len(facts["class_names"])
    encoders = encoder_arguments(config, facts, text_checkpoint)
    if config.kind == "classifier":
        modality = config.modalities[0]
        if modality == "image":
            image = encoders["image"]
            return build_cnn_classifier(
                image.pop("input_shape"), num_classes, learning_rate=config.learning_rate, **image
            )
        if modality == "sequence":
            sequence = encoders["sequence"]
            return build_lstm_classifier(
                None, sequence.pop("num_features"), num_classes, learning_rate=config.learning_rate,
                **{key: value for key, value in sequence.items() if key != "sequence_length"},
            )
        text = encoders["text"]
        del text["freeze"]  # the text classifier fine-tunes unless told not to
        return build_bert_classifier(
            num_classes, text.pop("checkpoint"), text.pop("sequence_length"),
            freeze_encoder=config.fine_tune_text is False, learning_rate=config.learning_rate, **text,
        )
    fusion = TINY_FUSION if config.architecture == "tiny" else {}
    return build_multimodal_model(
        num_classes, fusion=config.fusion, modality_dropout=config.modality_dropout,
        seed=config.seed, learning_rate=config.learning_rate, **fusion, **encoders,
    )


def encoder_arguments(config: RunConfig, facts: dict, text_checkpoint: str | None) -> dict:
    """The `image=` / `sequence=` / `text=` arguments of the multimodal model."""
    tiny = config.architecture == "tiny"
    arguments = {}
    if "image" in config.modalities:
        arguments["image"] = {"input_shape": tuple(facts["image_shape"]), **(TINY_IMAGE if tiny else {})}
    if "sequence" in config.modalities:
        arguments["sequence"] = {
            "sequence_length": None, "num_features": facts["num_features"],
            "feature_mean": facts["feature_mean"], "feature_variance": facts["feature_variance"],
            **(TINY_SEQUENCE if tiny else {}),
        }
    if "text" in config.modalities:
        text = {"checkpoint": text_checkpoint, "sequence_length": config.text_length, "pooling": "mean"}
        if tiny:  # a random BERT that reads the checkpoint's vocabulary
            text.update(checkpoint=None, vocabulary_size=vocabulary_size(text_checkpoint), **TINY_TEXT)
        arguments["text"] = {**text, "freeze": not config.fine_tune_text and not tiny}
    return arguments


def vocabulary_size(checkpoint: str) -> int:
    """Tokens in a checkpoint's `vocab.txt` (a folder, or a name a run recorded)."""
    with open(os.path.join(resolve_checkpoint(checkpoint), "vocab.txt"), encoding="utf-8") as vocabulary:
        return sum(1 for _ in vocabulary)


def _split(config: RunConfig, split: str, preprocessor, **kwargs):
    return load_split(
        config.dataset, split, batch_size=config.batch_size, text_preprocessor=preprocessor,
        data_dir=config.data_dir, modalities=config.modalities,
        presence=config.kind == "multimodal", seed=config.seed, **kwargs,
    )


def modality_subsets(modalities) -> dict:
    """`{"all": (), "image only": absent modalities, ...}` for per-subset accuracy."""
    subsets = {"all": ()}
    if len(modalities) > 1:
        for modality in modalities:
            subsets[f"{modality} only"] = tuple(m for m in modalities if m != modality)
    return subsets


def _accuracy(model, dataset) -> float:
    return round(float(model.evaluate(dataset, verbose=0, return_dict=True)["accuracy"]), 4)


def test_split(config: RunConfig) -> str:
    """The TFDS split a run is scored on: `test`, or its first `test_limit` examples."""
    return "test" if config.test_limit is None else f"test[:{config.test_limit}]"


def evaluate_subsets(model, config: RunConfig, preprocessor) -> dict:
    """Test accuracy with all modalities, then with each one alone."""
    return {
        subset: _accuracy(model, _split(config, test_split(config), preprocessor, absent=absent))
        for subset, absent in modality_subsets(config.modalities).items()
    }


def text_preprocessor_for(config: RunConfig, checkpoint: str | None):
    """The run's in-graph tokeniser (None without text); `checkpoint` as a run records it, or a folder."""
    if "text" not in config.modalities:
        return None
    return build_text_preprocessor(resolve_checkpoint(checkpoint), sequence_length=config.text_length)


@dataclasses.dataclass
class _RunInputs:
    """What training and tuning a run both need."""

    strategy: object
    facts: dict
    checkpoint: str | None
    preprocessor: object
    train_data: object
    validation_data: object


def _prepare_run(config: RunConfig) -> _RunInputs:
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
    return _RunInputs(
        strategy, facts, checkpoint, preprocessor,
        train_data=_split(config, train_split, preprocessor, shuffle=True),
        validation_data=_split(config, validation_split, preprocessor) if validation_split else None,
    )


def _write_run(folder: str, model, config: RunConfig, inputs: _RunInputs, extra: dict) -> dict:
    """Evaluates per modality subset, saves model.keras and metrics.json."""
    accuracy = evaluate_subsets(model, config, inputs.preprocessor)
    os.makedirs(folder, exist_ok=True)
    metrics = {
        "config": _config_record(config),
        **inputs.facts,
        "text_checkpoint": portable_checkpoint(inputs.checkpoint) if inputs.checkpoint else None,
        "parameters": model.count_params(),
        **extra,
        "test_accuracy": accuracy,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "keras": keras.__version__,
    }
    replace_run_files(folder, model.save, metrics)
    return {**metrics, "folder": folder}


def _run_name(config: RunConfig, run: str | None) -> str:
    return check_run_name(run) if run is not None else f"{config.dataset}-{config.kind}-{datetime.datetime.now():%Y%m%d-%H%M%S}"


def train_run(config: RunConfig, output: str = "saved_models", run: str | None = None, verbose: int = 1,
              *, overwrite: bool = False, restart: bool = False) -> dict:
    """Trains with `multimodal_tf.training`, evaluates per modality subset, saves.

    Rerunning with the same `output`, `run` and options after an
    interruption resumes from the last finished epoch (the run folder holds
    the backup until training ends). The folder's rules are those of
    `multimodal_tf.run_folder`: a finished run is kept unless `overwrite`,
    an interrupted one resumes only with the options it started with unless
    `restart`, and one process at a time writes it.

    Args:
        config: the run's configuration.
        output: the folder that receives the run folder.
        run: the run folder's name (default: dataset, model and a timestamp).
        verbose: Keras' progress display (1: bar, 2: a line per epoch).
        overwrite: replace a finished run of the same name.
        restart: start an interrupted run of the same name over.

    Returns:
        The metrics written to `metrics.json`, with `"folder"` and the
        trained `"model"` added.
    """
    name = _run_name(config, run)
    worker = _worker_index(config)
    if worker:  # the chief (worker 0) writes NAME; worker i writes NAME-worker<i> beside it
        name = f"{name}-worker{worker}"
    with open_run_folder(output, name, _config_record(config), overwrite=overwrite, restart=restart) as folder:
        if folder.resumed_epochs:
            print(f"resuming run {folder.path!r} after epoch {folder.resumed_epochs} of {config.epochs} "
                  f"({folder.seconds_before:.0f} s trained before)", flush=True)
        inputs = _prepare_run(config)
        try:
            result = train(
                lambda: build_run_model(config, inputs.facts, inputs.checkpoint),
                inputs.train_data,
                TrainingConfig(
                    epochs=config.epochs, precision=config.precision, jit_compile=config.jit_compile,
                    strategy=config.strategy, output_dir=folder.path,
                    early_stopping_patience=config.early_stopping_patience, verbose=verbose, seed=config.seed,
                    keep_backup=True,  # removed below, once model.keras and metrics.json are written
                ),
                validation_data=inputs.validation_data,
                callbacks=[ProgressRecorder(folder)],
            )
        except NonFiniteLossError:
            remove_training_state(folder.path)  # a diverged run is not resumed: the next one starts fresh
            raise
        epochs = result.history.epoch
        metrics = _write_run(folder.path, result.model, config, inputs, {
            "epochs_trained": epochs[-1] + 1 if epochs else folder.resumed_epochs,
            "train_seconds": round(folder.seconds_before + result.seconds, 1),
            "precision": result.precision,
            "jit_compile": result.jit_compile,
            "strategy": result.strategy,
            "replicas": result.replicas,
        })
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


def _config_record(config: RunConfig) -> dict:
    """The run's options as JSON values (tuples as lists), as metrics.json records them."""
    return json.loads(json.dumps({**dataclasses.asdict(config), "kind": config.kind}))


def hypermodel_for_run(config: RunConfig, facts: dict, text_checkpoint: str | None, training: TrainingConfig):
    """The `multimodal_tf.tuning` hypermodel over the model `config` trains."""
    from multimodal_tf import tuning

    num_classes = len(facts["class_names"])
    if config.kind == "multimodal":
        return tuning.MultimodalHyperModel(
            num_classes, seed=config.seed, training=training, **encoder_arguments(config, facts, text_checkpoint)
        )
    modality = config.modalities[0]
    if modality == "image":
        return tuning.CNNHyperModel(tuple(facts["image_shape"]), num_classes, training=training)
    if modality == "sequence":
        return tuning.LSTMHyperModel(
            facts["num_features"], num_classes, feature_mean=facts["feature_mean"],
            feature_variance=facts["feature_variance"], training=training,
        )
    return tuning.BertHyperModel(
        num_classes, text_checkpoint, config.text_length, encoder={"pooling": "mean"}, training=training
    )


def tune_run(config: RunConfig, tuner: str = "random", max_trials: int = 10, output: str = "saved_models",
             run: str | None = None, verbose: int = 1, trials_per_process: int | None = None) -> dict:
    """Searches the hyperparameters of the model `config` trains, with keras-tuner.

    Each trial trains `config.epochs` epochs (Hyperband's most) through the
    training engine on the training split less `config.validation_fraction`
    (0.1 when 0), scored by validation accuracy. The tuner's state lives in
    `<output>/<run>/tuner`: rerunning the same command resumes the search,
    and trials already done are not repeated. The best model is then saved
    like a trained run (`model.keras`, `metrics.json` with its test accuracy,
    `leaderboard`), so `evaluate` and `predict` work on it.

    Args:
        trials_per_process: run the trials in fresh processes, this many
            each (random and bayesian searches). TensorFlow keeps some memory
            of every model trained in a process even after
            `keras.backend.clear_session()` (tensorflow#61791), about 15-20
            MiB a trial for the fusion model (bench/RESULTS.md); fresh
            processes hand it back, so a long search's memory stays that of
            `trials_per_process` trials.

    Returns:
        The metrics written to `metrics.json` (with `"folder"` added).
    """
    if not config.validation_fraction:
        config = dataclasses.replace(config, validation_fraction=0.1)
    name = _run_name(config, run)
    folder = os.path.join(output, name)
    check_positive_int("max_trials", max_trials)
    with lock_run_folder(folder):
        if is_finished(folder) and not os.path.isdir(os.path.join(folder, "tuner")):
            raise ValueError(
                f"run folder {folder!r} holds a finished training run; choose another --run for the search."
            )
        return _tune_locked(config, tuner, max_trials, folder, verbose, trials_per_process)


def _tune_locked(config, tuner, max_trials, folder, verbose, trials_per_process):
    from multimodal_tf import tuning

    if trials_per_process is not None:
        check_positive_int("trials_per_process", trials_per_process)
        if tuner == "hyperband" or config.strategy == "multiworker":
            raise ValueError("`trials_per_process` works with random and bayesian searches on one machine.")
        _search_in_processes(config, tuner, max_trials, folder, verbose, trials_per_process)
    inputs = _prepare_run(config)
    search = _run_tuner(config, inputs, tuner, max_trials, folder, verbose)
    if trials_per_process is None:
        search.search(inputs.train_data, validation_data=inputs.validation_data, epochs=config.epochs, verbose=verbose)
    board = tuning.leaderboard(search)
    if not board:
        raise RuntimeError(f"no trial of the search in {folder!r} completed; see the trial errors above.")
    best = search.get_best_models(1)[0]
    return _write_run(folder, best, config, inputs, {
        "tuner": tuner,
        "best_hyperparameters": search.get_best_hyperparameters(1)[0].values,
        "leaderboard": board,
    })


def _run_tuner(config: RunConfig, inputs: _RunInputs, tuner: str, max_trials: int, folder: str, verbose: int):
    from multimodal_tf import tuning

    training = TrainingConfig(
        epochs=config.epochs, precision=config.precision, jit_compile=config.jit_compile,
        early_stopping_patience=config.early_stopping_patience, verbose=verbose, seed=config.seed,
    )
    return tuning.make_tuner(
        tuner, hypermodel_for_run(config, inputs.facts, inputs.checkpoint, training), max_trials=max_trials,
        directory=folder, project_name="tuner", max_epochs=config.epochs, seed=config.seed,
        distribution_strategy=None if config.strategy == "default" else inputs.strategy,
    )


def _search_in_child(config: RunConfig, tuner: str, max_trials: int, folder: str, verbose: int):
    inputs = _prepare_run(config)
    search = _run_tuner(config, inputs, tuner, max_trials, folder, verbose)
    search.search(inputs.train_data, validation_data=inputs.validation_data, epochs=config.epochs, verbose=verbose)


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
        child = context.Process(target=_search_in_child, args=(config, tuner, target, folder, verbose))
        with real_stderr():  # the child's errors must reach the user, whatever the command hides
            child.start()
        child.join()
        if child.exitcode != 0 or _finished_trials(folder) <= done:
            raise RuntimeError(
                f"the search process for trials {done + 1}-{target} failed (exit code {child.exitcode}); "
                "its error is printed above. Rerun to resume."
            )


def training_splits(config: RunConfig) -> tuple:
    """TFDS split names for training and validation (None without validation)."""
    total = prepare(config.dataset, config.data_dir).info.splits["train"].num_examples
    held_out = int(round(total * config.validation_fraction))
    if config.validation_fraction and held_out == 0:
        raise ValueError(f"`validation_fraction` {config.validation_fraction} holds out no example of {total}.")
    train_count = total - held_out
    if config.limit is not None:
        train_count = min(train_count, config.limit)
    train_split = "train" if train_count == total else f"train[:{train_count}]"
    return train_split, (f"train[{total - held_out}:]" if held_out else None)


def load_run(path: str) -> tuple:
    """Loads a run folder (or its model.keras): `(model, metrics, config)`.

    `metrics.json` and `model.keras` are checked against each other: the
    classes against the model's outputs, the image shape, sequence width
    and text length against its inputs.

    Raises:
        ValueError: not a run folder, or a file that is unreadable or does
            not match the other; the message names the file and the field.
    """
    folder = os.path.dirname(path) if os.path.basename(path) == MODEL_FILE else path
    folder = folder.rstrip("/") or "."
    model_path, metrics_path = os.path.join(folder, MODEL_FILE), os.path.join(folder, METRICS_FILE)
    if not (os.path.isfile(model_path) and os.path.isfile(metrics_path)):
        raise ValueError(
            f"{path!r} is not a run folder: expected {MODEL_FILE} and {METRICS_FILE} in {folder!r}."
        )
    from multimodal_tf.saving import load_model

    metrics, config = _read_metrics(metrics_path)
    model = load_model(model_path)
    _check_model_matches(model, metrics, config, metrics_path)
    return model, metrics, config


def _read_metrics(metrics_path: str) -> tuple:
    """`(metrics, RunConfig)` from a metrics.json, each field checked."""
    def bad(field, expected):
        return ValueError(f"{metrics_path}: field {field!r} must be {expected}.")

    try:
        with open(metrics_path, encoding="utf-8") as metrics_file:
            metrics = json.load(metrics_file)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{metrics_path} is not valid JSON: {error}") from None
    if not isinstance(metrics, dict):
        raise ValueError(f"{metrics_path} must hold a JSON object, got {type(metrics).__name__}.")
    saved = metrics.get("config")
    if not isinstance(saved, dict) or not isinstance(saved.get("modalities"), list):
        raise bad("config", "an object with the run's options, `modalities` a list")
    saved = {key: value for key, value in saved.items() if key != "kind"}
    try:
        config = RunConfig(**{**saved, "modalities": tuple(saved["modalities"])})
    except TypeError as error:
        raise ValueError(f"{metrics_path}: field 'config' has an unknown option ({error}).") from None
    except ValueError as error:
        raise ValueError(f"{metrics_path}: field 'config': {error}") from None
    names = metrics.get("class_names")
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(name, str) for name in names):
        raise bad("class_names", "a list of two or more class names")
    if "image" in config.modalities:
        shape = metrics.get("image_shape")
        if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(d, int) and d > 0 for d in shape)):
            raise bad("image_shape", "[height, width, channels], positive integers")
    if "sequence" in config.modalities and not (isinstance(metrics.get("num_features"), int)
                                               and metrics["num_features"] > 0):
        raise bad("num_features", "a positive integer")
    if "text" in config.modalities:
        checkpoint = metrics.get("text_checkpoint")
        if not isinstance(checkpoint, str):
            raise bad("text_checkpoint", f"the text checkpoint's folder, or {PACKAGED_MINILM!r}")
        metrics = {**metrics, "text_checkpoint": resolve_checkpoint(checkpoint, f"{metrics_path}: field 'text_checkpoint'")}
    return metrics, config


MODALITY_INPUT = {"token_ids": "text"}


def _check_model_matches(model, metrics: dict, config: RunConfig, metrics_path: str):
    """metrics.json describes `model`: classes, image shape, sequence width, text length."""
    def mismatch(field, saved, actual):
        return ValueError(
            f"{metrics_path}: field {field!r} is {saved!r}, but the run's {MODEL_FILE} has {actual!r}: "
            "the two files do not belong together."
        )

    outputs = model.output_shape[-1]
    if outputs != len(metrics["class_names"]):
        raise mismatch("class_names", f"{len(metrics['class_names'])} classes", f"{outputs} outputs")
    inputs = {tensor.name.split(":")[0]: tuple(tensor.shape[1:]) for tensor in model.inputs}
    if len(inputs) == 1 and config.kind == "classifier" and config.modalities[0] != "text":
        inputs = {config.modalities[0]: next(iter(inputs.values()))}
    expected = set(config.modalities)
    if set(MODALITY_INPUT.get(name, name) for name in inputs) - {"padding_mask", "segment_ids"} - {
            f"{m}_present" for m in expected} != expected:
        raise mismatch("config.modalities", sorted(expected), sorted(inputs))
    if "image" in inputs and list(inputs["image"]) != metrics.get("image_shape"):
        raise mismatch("image_shape", metrics.get("image_shape"), list(inputs["image"]))
    if "sequence" in inputs and inputs["sequence"][-1] != metrics.get("num_features"):
        raise mismatch("num_features", metrics.get("num_features"), inputs["sequence"][-1])
    if "token_ids" in inputs and inputs["token_ids"][0] != config.text_length:
        raise mismatch("config.text_length", config.text_length, inputs["token_ids"][0])


def _load_for_evaluation(path: str, data_dir: str | None) -> tuple:
    """A saved run's `(model, config, text preprocessor)`, its dataset prepared."""
    model, metrics, config = load_run(path)
    if data_dir is not None:
        config = dataclasses.replace(config, data_dir=data_dir)
    prepare(config.dataset, config.data_dir)
    return model, config, text_preprocessor_for(config, metrics.get("text_checkpoint"))


def evaluate_run(path: str, data_dir: str | None = None) -> dict:
    """Re-evaluates a saved run on its test split, per modality subset."""
    return evaluate_subsets(*_load_for_evaluation(path, data_dir))


def evaluate_missing(path: str, rates, data_dir: str | None = None, seed: int = 0) -> dict:
    """Test accuracy as a growing fraction of rows loses one modality.

    Each test row loses one of its modalities, picked at random, with
    probability `rate` (seeded, so every model sees the same rows missing
    the same modality); the rest stay whole.

    Args:
        path: a run folder of a multimodal model.
        rates: fractions in [0, 1), e.g. `(0, 0.1, 0.2, 0.3, 0.4, 0.5)`.
        data_dir: the TFDS data folder.
        seed: which rows lose which modality.

    Returns:
        `{rate: accuracy}`.
    """
    rates = [check_rate("missing rate", rate) for rate in rates]
    model, config, preprocessor = _load_for_evaluation(path, data_dir)
    if config.kind != "multimodal" or len(config.modalities) < 2:
        raise ValueError(f"{path!r} is not a multimodal run: missing modalities need two or more.")
    config = dataclasses.replace(config, seed=seed)  # the seed of which rows lose which modality
    return {rate: _accuracy(model, _split(config, test_split(config), preprocessor, missing_rate=rate)) for rate in rates}


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")


def _read_image(path: str, shape) -> np.ndarray:
    height, width, channels = shape
    return read_image_file(path, channels, size=(height, width)).astype(np.float32) / 255.0


def _read_sequence(path: str, num_features) -> np.ndarray:
    """A `.npy` sequence `(time, features)`, checked like a pipeline record."""
    with open(path, "rb") as sequence_file:
        if sequence_file.read(6) != b"\x93NUMPY":
            raise ValueError(f"input {path!r} is not a .npy file (it lacks the .npy header); save one with numpy.save.")
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:  # pickled objects are refused, not executed
        raise ValueError(f"input {path!r} is not a readable numeric .npy array: {error}") from None
    return check_sequence(f"input {path!r}", value, num_features, 0.0)  # a ValueError naming the file


def _classify_input(item: str) -> str:
    """Which modality a positional `predict` input is; refuses what it cannot tell."""
    lower = item.lower()
    if lower.endswith((*IMAGE_SUFFIXES, ".npy")):
        if not os.path.isfile(item):
            raise ValueError(f"input {item!r} looks like a file name, but there is no such file.")
        return "sequence" if lower.endswith(".npy") else "image"
    if os.path.exists(item):
        kind = "folder" if os.path.isdir(item) else "file"
        raise ValueError(
            f"input {item!r} is an existing {kind}, but not an image ({', '.join(IMAGE_SUFFIXES)}) or a .npy "
            "sequence; to classify the words themselves, pass them with --text."
        )
    if LOOKS_LIKE_A_FILE_NAME.fullmatch(item):
        raise ValueError(
            f"input {item!r} looks like a file name, but there is no such file (images end in "
            f"{', '.join(IMAGE_SUFFIXES)}, sequences in .npy); to classify it as text, pass it with --text."
        )
    if not item.strip():
        raise ValueError(f"input {item!r} is blank text: there is nothing to classify.")
    return "text"


# One word with a dot and a short suffix, such as "pic.pngg" or "data/x.csv".
LOOKS_LIKE_A_FILE_NAME = re.compile(r"[\w./\\~-]*\w\.[A-Za-z][A-Za-z0-9]{0,4}")


def _read_modality(modality: str, value, metrics):
    if modality == "image":
        if not os.path.isfile(value):
            raise ValueError(f"--image {value!r}: there is no such file.")
        return _read_image(value, metrics["image_shape"])[None]
    if modality == "sequence":
        if not os.path.isfile(value):
            raise ValueError(f"--sequence {value!r}: there is no such file.")
        return _read_sequence(value, metrics.get("num_features"))[None]
    return value


def _predict_one(model, metrics, config, preprocessor, values: dict) -> tuple:
    features = _example_features(config, metrics, values, preprocessor)
    if config.kind == "classifier" and config.modalities[0] != "text":
        features = features[config.modalities[0]]
    probabilities = model.predict(features, verbose=0)[0]
    if not np.all(np.isfinite(probabilities)):
        raise ValueError(
            "the model's output is NaN or infinite: its weights are not finite (was it trained with a "
            "diverging learning rate?). Retrain it."
        )
    best = int(np.argmax(probabilities))
    return metrics["class_names"][best], float(probabilities[best])


def predict_run(path: str, inputs) -> list:
    """Predicts one example per input with a saved run.

    Each input is an image file (`.png`, `.jpg`, ...; resized to the model's
    size, transparency over white), a `.npy` sequence `(time, features)`,
    or otherwise a text. A multimodal model gets the other modalities marked
    absent. Anything ambiguous is refused: an existing file or folder that is
    neither an image nor a `.npy` file, a word that looks like a file name
    but names none, blank text (use :func:`predict_example` to say which
    modality an input is).

    Returns:
        A list of `(input, class name, probability)`.
    """
    model, metrics, config = load_run(path)
    modalities = [_classify_input(item) for item in inputs]
    for item, modality in zip(inputs, modalities):
        if modality not in config.modalities:
            raise ValueError(
                f"input {item!r} is {modality}, but this model takes {', '.join(config.modalities)}."
            )
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    return [
        (item, *_predict_one(model, metrics, config, preprocessor,
                             {modality: _read_modality(modality, item, metrics)}))
        for item, modality in zip(inputs, modalities)
    ]


def predict_example(path: str, *, image: str | None = None, text: str | None = None,
                    sequence: str | None = None) -> dict:
    """Predicts one example from all the modalities given, the others marked absent.

    Args:
        path: a run folder.
        image: an image file.
        text: a text; blank text is marked absent, as the data pipelines do.
        sequence: a `.npy` file `(time, features)`.

    Returns:
        `{"class", "probability", "present": [...], "absent": [...]}`.
    """
    model, metrics, config = load_run(path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    given = {name: value for name, value in (("image", image), ("text", text), ("sequence", sequence))
             if value is not None}
    return _predict_given(model, metrics, config, preprocessor, given, where="")


def _predict_given(model, metrics, config, preprocessor, given: dict, where: str) -> dict:
    """One example from the modalities in `given` (option values or CSV cells); `where` prefixes errors."""
    if not given:
        raise ValueError(f"{where}give at least one of --image, --text, --sequence.")
    for modality in given:
        if modality not in config.modalities:
            raise ValueError(f"{where}--{modality} was given, but this model takes {', '.join(config.modalities)}.")
    if "text" in given and not given["text"].strip():
        given = {name: value for name, value in given.items() if name != "text"}  # blank text is missing text
        if not given:
            raise ValueError(f"{where}--text is blank and nothing else was given: there is nothing to classify.")
    if len(given) > 1 and config.kind != "multimodal":
        raise ValueError(f"{where}this {config.kind} takes one modality; give only --{config.modalities[0]}.")
    try:
        values = {modality: _read_modality(modality, value, metrics) for modality, value in given.items()}
    except ValueError as error:
        raise ValueError(f"{where}{error}") from None
    label, probability = _predict_one(model, metrics, config, preprocessor, values)
    return {
        "class": label, "probability": probability, "present": sorted(values),
        "absent": [modality for modality in config.modalities if modality not in values],
    }


def predict_batch(path: str, csv_path: str) -> list:
    """Predicts one example per row of a CSV file, from every modality the row gives.

    The CSV is `csv_to_dataset`'s format: a header, then per row an image file
    name (relative to the CSV's folder) in `image`, a `.npy` file in
    `sequence`, a text in `text`; an empty cell marks that modality absent.
    Other columns (such as `label`) are ignored.

    Returns:
        A list with, per row, `{"row", "class", "probability", "present", "absent"}`.

    Raises:
        ValueError: the CSV has none of the model's modality columns, or a
            row is bad; the message names the row (0: the first after the
            header) and the field.
    """
    import csv

    model, metrics, config = load_run(path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    try:
        with open(csv_path, newline="", encoding="utf-8") as csv_file:
            rows = list(csv.DictReader(csv_file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"cannot read {csv_path!r} as a CSV file: {error}") from None
    columns = [modality for modality in config.modalities if rows and modality in rows[0]]
    if not columns:
        found = sorted(rows[0]) if rows else []
        raise ValueError(
            f"{csv_path!r} needs a column named after one of the model's modalities "
            f"({', '.join(config.modalities)}); its columns are {found}."
        )
    folder = os.path.dirname(os.path.abspath(csv_path))
    results = []
    for index, row in enumerate(rows):
        given = {}
        for modality in columns:
            cell = (row.get(modality) or "")
            if modality == "text" and cell:
                given["text"] = cell
            elif cell.strip():
                given[modality] = os.path.join(folder, cell.strip())
        prediction = _predict_given(model, metrics, config, preprocessor, given, where=f"{csv_path}: row {index}: ")
        results.append({"row": index, **prediction})
    return results


def _example_features(config, metrics, values: dict, preprocessor) -> dict:
    """One example's inputs: `values` by modality, the other modalities blank and absent."""
    features = {}
    for name in config.modalities:
        present = name in values
        if name == "image":
            features["image"] = values["image"] if present else np.zeros((1, *metrics["image_shape"]), np.float32)
        elif name == "sequence":
            features["sequence"] = values["sequence"] if present else np.zeros((1, 1, metrics["num_features"]), np.float32)
        else:
            tokens = preprocessor([values["text"] if present else ""])
            features.update({key: np.asarray(tensor).astype(np.int32) for key, tensor in tokens.items()})
        if config.kind == "multimodal":
            features[f"{name}_present"] = np.array([1.0 if present else 0.0], np.float32)
    return features
