"""`EngineHyperModel`: a keras-tuner hypermodel that builds and trains as `multimodal-tf train`.

Each trial builds under the dtype policy of its `TrainingConfig` and fits
through `multimodal_tf.training.fit` (precision, XLA, loss scaling, warmup
schedule, early stopping). Subclasses in `hypermodels.py` define the
search spaces.
"""

from __future__ import annotations

import dataclasses
import typing

import keras_tuner

from multimodal_tf.training import TrainingConfig, build_under_precision, fit
from multimodal_tf.training.feature_cache import text_inputs_for


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
                "`sizes` must be a dict of hyperparameter name to widths, got "
                f"{type(sizes).__name__}."
            )
        unknown = sorted(set(sizes) - set(self.SIZE_CHOICES))
        if unknown:
            raise ValueError(
                f"`sizes` of {type(self).__name__} may set "
                f"{sorted(self.SIZE_CHOICES) or 'nothing'}, "
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
                    f"`sizes[{name!r}]` must be a non-empty list of positive integers, got "
                    f"{values!r}."
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
                f"unsupported search() arguments {unknown}; set them in "
                "`training=TrainingConfig(...)`."
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
