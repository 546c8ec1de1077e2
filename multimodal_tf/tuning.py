"""keras-tuner hypermodels for every builder, trained by our engine.

Each hypermodel builds with the library's builder, under the dtype policy of
its `TrainingConfig`, and fits through `multimodal_tf.training.fit`, so a
trial trains exactly like `multimodal-tf train` (precision, XLA, loss
scaling, warmup schedule, early stopping). The default value of every
hyperparameter is the document's model (or our builder's default where the
document has no such knob), so the document's model is one point of each
search space and a tuner's first trial.

Example (datasets assumed; notebook 05 runs a search)::

    import keras_tuner
    from multimodal_tf.tuning import CNNHyperModel
    tuner = keras_tuner.RandomSearch(CNNHyperModel(), objective="val_accuracy", max_trials=10,
                                     directory="tuning", project_name="cnn")
    tuner.search(train_data, validation_data=validation_data, epochs=5)
    best_model = tuner.get_best_models(1)[0]
"""

from __future__ import annotations

import dataclasses
import typing

import keras_tuner

from multimodal_tf.models import (
    build_bert_classifier,
    build_cnn_classifier,
    build_lstm_classifier,
    build_multimodal_model,
)
from multimodal_tf.training import TrainingConfig, build_under_precision, fit
from multimodal_tf.training.feature_cache import text_inputs_for
from multimodal_tf.validation import check_positive_int

TUNERS = ("random", "bayesian", "hyperband")


class EngineHyperModel(keras_tuner.HyperModel):
    """A hypermodel whose trials build under our precision and fit through our engine.

    Subclasses define `build_model(hp)` (the search space) and may override
    `training_overrides(hp)` for hyperparameters that act at training time.

    Args:
        training: how each trial trains (epochs, precision, XLA, early
            stopping...); `output_dir` is ignored, the tuner keeps its own.
        name: the hypermodel's name.
        sizes: other values to search for some of the size hyperparameters
            the subclass names in `SIZE_CHOICES` (layer widths), e.g. small
            ones for a quick search: `{"dense_units": [8, 16]}`.

    Attributes:
        text_preprocessor: None (the search's data is the model's input), or
            the tokeniser when the data carries raw `"text"`: then a frozen
            text encoder's outputs are computed on the first trial and shared
            by the others (`training.feature_cache`; notebook 05 does this).
        text_data: unshuffled copies of the raw-text data the texts are read
            from (default: the search's own data).
    """

    # Size hyperparameters: name -> (values searched, default).
    SIZE_CHOICES: typing.ClassVar[dict] = {}

    def __init__(self, training: TrainingConfig | None = None, name: str | None = None, sizes=None):
        super().__init__(name=name, tunable=True)
        self.sizes = self._checked_sizes(sizes or {})
        training = training or TrainingConfig(verbose=0)
        self.training = dataclasses.replace(training, output_dir=None)
        # Set it when the search's data carries raw text (see `training.train`):
        # a frozen text encoder's outputs are then computed once and shared by
        # every trial (`training.feature_cache`).
        self.text_preprocessor = None
        self.text_data = None
        self._text_features = {}

    def build(self, hp):
        # Seeded as `train` seeds its builds: a trial's weights depend on its
        # hyperparameters only (and a frozen random encoder is the same in every trial).
        model, _ = build_under_precision(
            lambda: self.build_model(hp), self.training.precision, self.training.seed
        )
        return model

    def _checked_sizes(self, sizes: dict) -> dict:
        if not isinstance(sizes, dict):
            raise ValueError(
                f"`sizes` must be a dict of hyperparameter name to widths, got {type(sizes).__name__}."
            )
        unknown = sorted(set(sizes) - set(self.SIZE_CHOICES))
        if unknown:
            raise ValueError(
                f"`sizes` of {type(self).__name__} may set {sorted(self.SIZE_CHOICES) or 'nothing'}, "
                f"got {unknown}."
            )
        for name, values in sizes.items():
            if (
                not isinstance(values, (list, tuple))
                or not values
                or not all(
                    isinstance(value, int) and not isinstance(value, bool) and value > 0
                    for value in values
                )
            ):
                raise ValueError(
                    f"`sizes[{name!r}]` must be a non-empty list of positive integers, got {values!r}."
                )
        # Sorted, once each: an ordered choice (the Bayesian oracle reads its index as a number).
        return {name: sorted(set(values)) for name, values in sizes.items()}

    def size(self, hp, name: str):
        """The size hyperparameter `name`: a choice among `sizes[name]` or its `SIZE_CHOICES`."""
        values, default = self.SIZE_CHOICES[name]
        values = self.sizes.get(name, values)
        return hp.Choice(name, values, default=default if default in values else values[0])

    def build_model(self, hp):
        raise NotImplementedError(f"{type(self).__name__} must define build_model(hp).")

    def training_overrides(self, hp) -> dict:
        """TrainingConfig fields that come from hyperparameters (none here)."""
        return {}

    def fit(
        self,
        hp,
        model,
        x,
        *args,
        validation_data=None,
        epochs=None,
        callbacks=None,
        initial_epoch=0,
        **kwargs,
    ):
        if args:
            raise ValueError(
                "pass the training data as one tf.data.Dataset of (inputs, labels) batches."
            )
        unknown = sorted(set(kwargs) - {"verbose", "steps_per_epoch"})
        if unknown:
            raise ValueError(
                f"unsupported search() arguments {unknown}; set them in `training=TrainingConfig(...)`."
            )
        config = dataclasses.replace(
            self.training,
            epochs=epochs or self.training.epochs,
            verbose=kwargs.get("verbose", self.training.verbose),
            **self.training_overrides(hp),
        )
        with text_inputs_for(
            model,
            x,
            validation_data,
            self.text_preprocessor,
            config,
            shared=self._text_features,
            text_data=self.text_data,
        ) as inputs:
            return fit(
                inputs.fit_model,
                inputs.train_data,
                config,
                validation_data=inputs.validation_data,
                callbacks=list(callbacks or ()),
                steps_per_epoch=kwargs.get("steps_per_epoch"),
                initial_epoch=initial_epoch,
                whole_model=model if inputs.cached else None,
            )


def _learning_rate(hp, default, low, high):
    return hp.Float("learning_rate", low, high, sampling="log", default=default)


class CNNHyperModel(EngineHyperModel):
    """§4.1's CNN: filters of each convolution, dense units, dropout, learning rate.

    The defaults (32, 64, 64 filters, 64 units, no dropout, Adam's 1e-3) are
    the document's model.
    """

    def __init__(
        self,
        input_shape=(28, 28, 1),
        num_classes: int = 10,
        training=None,
        name="cnn",
        *,
        augmentation=None,
        batch_norm: bool = False,
        sizes=None,
    ):
        super().__init__(training, name, sizes)
        self.input_shape, self.num_classes = (
            tuple(input_shape),
            check_positive_int("num_classes", num_classes),
        )
        self.augmentation, self.batch_norm = augmentation, batch_norm  # fixed, not searched

    SIZE_CHOICES: typing.ClassVar[dict] = {
        **{
            f"filters_{index}": ([16, 32, 64, 128], default)
            for index, default in enumerate((32, 64, 64))
        },
        "dense_units": ([32, 64, 128, 256], 64),
    }

    def build_model(self, hp):
        filters = tuple(self.size(hp, f"filters_{index}") for index in range(3))
        return build_cnn_classifier(
            self.input_shape,
            self.num_classes,
            filters=filters,
            dense_units=self.size(hp, "dense_units"),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
            batch_norm=self.batch_norm,
            augmentation=self.augmentation,
            learning_rate=_learning_rate(hp, 1e-3, 1e-4, 1e-2),
        )


class LSTMHyperModel(EngineHyperModel):
    """§4.2's stacked LSTM: units, depth, bidirectional, dropout, learning rate.

    The defaults (two LSTM(64) layers, one direction, no dropout, 1e-3) are
    the document's model.

    Args:
        num_features: features per time step.
        num_classes: number of classes.
        sequence_length: None for variable-length (padded, masked) input.
        feature_mean, feature_variance: in-model standardisation (optional).
    """

    def __init__(
        self,
        num_features: int,
        num_classes: int = 10,
        sequence_length=None,
        feature_mean=None,
        feature_variance=None,
        training=None,
        name="lstm",
        *,
        sizes=None,
    ):
        super().__init__(training, name, sizes)
        self.num_features = check_positive_int("num_features", num_features)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.sequence_length = sequence_length
        self.statistics = {"feature_mean": feature_mean, "feature_variance": feature_variance}

    SIZE_CHOICES: typing.ClassVar[dict] = {"units": ([32, 64, 128], 64)}

    def build_model(self, hp):
        units = self.size(hp, "units")
        depth = hp.Int("depth", 1, 3, default=2)
        return build_lstm_classifier(
            self.sequence_length,
            self.num_features,
            self.num_classes,
            units=(units,) * depth,
            bidirectional=hp.Boolean("bidirectional", default=False),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
            learning_rate=_learning_rate(hp, 1e-3, 1e-4, 1e-2),
            **self.statistics,
        )


class BertHyperModel(EngineHyperModel):
    """§4.3's BERT classifier: learning rate, warmup, dropout, frozen encoder.

    With a checkpoint it fine-tunes with AdamW (defaults: 5e-5, 10% warmup,
    dropout 0.1, encoder trained), as BERT's authors and Hugging Face do.

    Args:
        num_classes: number of classes.
        checkpoint: a local Hugging Face BERT folder (None: random weights of
            the size given in `encoder`).
        sequence_length: tokens per text.
        encoder: more `build_bert_classifier` arguments (pooling, sizes).
    """

    def __init__(
        self,
        num_classes: int,
        checkpoint=None,
        sequence_length: int = 128,
        encoder=None,
        training=None,
        name="bert",
    ):
        super().__init__(training, name)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.checkpoint, self.sequence_length = checkpoint, sequence_length
        self.encoder = dict(encoder or {})
        tuned = sorted(
            set(self.encoder)
            & {"dropout", "freeze_encoder", "learning_rate", "checkpoint", "sequence_length"}
        )
        if tuned:
            raise ValueError(
                f"`encoder` must not set {tuned}: they are hyperparameters or arguments of their own."
            )

    def build_model(self, hp):
        default_rate = 5e-5 if self.checkpoint else 1e-3
        model = build_bert_classifier(
            self.num_classes,
            self.checkpoint,
            self.sequence_length,
            freeze_encoder=hp.Boolean("freeze_encoder", default=False),
            dropout=hp.Float("dropout", 0.0, 0.3, step=0.05, default=0.1),
            learning_rate=_learning_rate(hp, default_rate, 1e-5, 1e-2),
            **self.encoder,
        )
        hp.Float("warmup_fraction", 0.0, 0.2, step=0.05, default=0.1)
        return model

    def training_overrides(self, hp) -> dict:
        return {"optimizer": "adamw", "warmup_fraction": hp.get("warmup_fraction")}


class MultimodalHyperModel(EngineHyperModel):
    """The fusion model: fusion type and width, modality dropout, dropout, learning rate.

    Args:
        num_classes: number of classes.
        image, sequence, text: the encoders' configs (dicts or config
            dataclasses), as for `build_multimodal_model`.
        seed: seed of modality dropout.
        sizes: other `fusion_dim` values to search (see `EngineHyperModel`).
        num_heads: attention fusion's heads (fixed); every `fusion_dim`
            searched must be divisible by it.
    """

    def __init__(
        self,
        num_classes: int,
        image=None,
        sequence=None,
        text=None,
        seed: int | None = 0,
        training=None,
        name="multimodal",
        *,
        sizes=None,
        num_heads: int = 4,
    ):
        super().__init__(training, name, sizes)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.encoders = {"image": image, "sequence": sequence, "text": text}
        self.seed = seed
        self.num_heads = check_positive_int("num_heads", num_heads)  # fixed, not searched

    SIZE_CHOICES: typing.ClassVar[dict] = {"fusion_dim": ([64, 128, 256], 128)}

    def build_model(self, hp):
        fusion = hp.Choice("fusion", ["concat", "gated", "attention"], default="attention")
        return build_multimodal_model(
            self.num_classes,
            fusion=fusion,
            fusion_dim=self.size(hp, "fusion_dim"),
            modality_dropout=hp.Float("modality_dropout", 0.0, 0.5, step=0.1, default=0.2),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.1),
            learning_rate=_learning_rate(hp, 1e-3, 1e-4, 1e-2),
            seed=self.seed,
            num_heads=self.num_heads,
            **self.encoders,
        )


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
