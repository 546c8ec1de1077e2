"""A run's options: `RunConfig`, the datasets' defaults, and how a run records them."""

from __future__ import annotations

import dataclasses
import json

from multimodal_tf.choices import ARCHITECTURES, DEFAULT_DATASET, USER_DATASET
from multimodal_tf.data.pipeline import OWN_VALIDATION_SPLIT, TFDS_MODALITIES, check_modalities
from multimodal_tf.runs.user_data import USER_DEFAULTS
from multimodal_tf.training import TrainingOptions
from multimodal_tf.validation import (
    check_choice,
    check_positive_int,
    check_positive_int_tuple,
    check_rate,
)

DATASET_DEFAULTS = {
    # twemoji_categories' defaults were chosen on its validation split (scripts/select_twemoji.py).
    "twemoji_categories": {
        "epochs": 20,
        "batch_size": 32,
        "text_length": 32,
        "augmentation": True,
        "optimizer": "adamw",
        "weight_decay": 0.05,
    },
    # fashion_mnist's were chosen on 10% of its training split held out (docs/results.md): the
    # document's CNN unchanged, regularised; every augmentation tried scored lower there.
    "fashion_mnist": {
        "epochs": 30,
        "batch_size": 64,
        "text_length": 32,
        "optimizer": "adamw",
        "weight_decay": 0.05,
        "label_smoothing": 0.1,
        "image_dropout": 0.5,
    },
    "rt_snippets": {"epochs": 3, "batch_size": 32, "text_length": 64},
    "japanese_vowels": {"epochs": 60, "batch_size": 16, "text_length": 32},
}


def image_default(config, name: str, fallback):
    """The dataset's default of an image-encoder option where the run has images, else fallback."""
    if "image" not in config.modalities:
        return fallback
    return DATASET_DEFAULTS.get(config.dataset, USER_DEFAULTS).get(name, fallback)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig(TrainingOptions):
    """What to train, on what, and how: a run's options, and the `TrainingOptions`.

    The training options (epochs, precision, jit_compile, strategy,
    optimizer, learning_rate, warmup_fraction, weight_decay,
    steps_per_execution, early_stopping_patience, seed) are inherited from
    `multimodal_tf.training.TrainingOptions` and checked there; `epochs`
    defaults to the dataset's, and so do `optimizer` and `weight_decay`
    where the dataset names them (twemoji_categories: AdamW with weight
    decay 0.05, chosen on its validation split), else `"auto"` and 0.01.

    Args:
        dataset: a dataset of `multimodal_tf.data.pipeline.TFDS_MODALITIES`,
            or `"user"`: the user's own files that `data` names.
        data: with `dataset="user"`, where the rows come from and how they are
            read (`multimodal_tf.runs.user_data.check_data`: `train`,
            `validation`, `test`, `label`, `roles`, `image_size`, ...); paths
            are recorded absolute. A user run always validates (on the
            `validation` file, else on `validation_fraction`, 0.1 when 0, of
            `train`, carved stratified).
        modalities: the modalities to use (default: all the dataset has; a
            user run's: its image, `.npy` sequence and text columns).
        model: `"auto"` (the multimodal model for two or more modalities,
            the document's classifier for one), `"multimodal"` or
            `"classifier"`.
        epochs: training epochs (None: the dataset's default).
        batch_size: examples per batch (None: the dataset's default); the
            global batch, split over the strategy's replicas.
        validation_fraction: the last fraction of the training split held
            out for validation (early stopping and the best checkpoint watch
            it); 0 trains on the whole split. Must be 0 for a dataset with
            its own `validation` split (`OWN_VALIDATION_SPLIT`), which runs
            always validate on.
        fusion: fusion of the multimodal model.
        modality_dropout: modality dropout of the multimodal model.
        augmentation: augment images in training, inside the model:
            True for `models.augmentation.ImageAugmentation`'s defaults
            (shifts, zoom, contrast, brightness; no flips), a dict of its
            fields to override them (e.g. `{"hue": 0.5}`), False for none.
            None: the dataset's
            default where the run has images (on for twemoji_categories,
            chosen on its validation split), else off.
        image_filters: filters of each convolution of the image encoder
            (None: the document's `(32, 64, 64)`).
        image_batch_norm: batch normalisation between the image encoder's
            convolutions and their ReLU.
        image_dropout: dropout on the image encoder's features (None: the
            dataset's default where the run has images, else 0).
        text_length: tokens per text (None: the dataset's default).
        fine_tune_text: train the pretrained text encoder too (default for
            the text classifier; the multimodal model keeps it frozen unless
            asked, which is faster on CPUs).
        lora_rank: fine-tune the text encoder with LoRA of this rank instead
            (`models.lora`): only its LoRA factors train, with the head and
            the other encoders; at most the encoder's hidden size (MiniLM:
            384, tiny: 8). Not with `fine_tune_text`.
        limit: use only the first N training examples (quick runs).
        test_limit: evaluate on the first N test examples only, and
            validate on the first N of a dataset's own validation split
            (quick runs; `metrics.json` and `evaluate` then score those N).
        architecture: `"default"` (the document's models, the pretrained
            MiniLM for text) or `"tiny"` (a few units per layer and a small
            random BERT over the MiniLM vocabulary: a pipeline check in
            seconds, for tests and smoke runs, not for accuracy).
        data_dir: the TFDS data folder.
    """

    dataset: str = DEFAULT_DATASET
    data: dict | None = None
    optimizer: str | None = None  # None: the dataset's default, else "auto"
    weight_decay: float | None = None  # None: the dataset's default, else 0.01
    modalities: tuple | None = None
    model: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    validation_fraction: float = 0.0
    fusion: str = "attention"
    modality_dropout: float = 0.2
    augmentation: bool | dict | None = None
    image_filters: tuple | None = None
    image_batch_norm: bool = False
    image_dropout: float | None = None
    label_smoothing: float | None = None  # None: the dataset's default (TrainingOptions': 0)
    text_length: int | None = None
    fine_tune_text: bool | None = None
    lora_rank: int | None = None
    limit: int | None = None
    test_limit: int | None = None
    architecture: str = "default"
    data_dir: str | None = None

    def __post_init__(self):
        set_field = object.__setattr__
        check_choice("dataset", self.dataset, (*TFDS_MODALITIES, USER_DATASET))
        if self.dataset == USER_DATASET:
            self._check_user_data()
        elif self.data is not None:
            raise ValueError(f"`data` is for dataset {USER_DATASET!r}, not {self.dataset!r}.")
        else:
            set_field(self, "modalities", check_modalities(self.dataset, self.modalities))
        check_choice("model", self.model, ("auto", "multimodal", "classifier"))
        if (
            self.model == "classifier"
            and self.data is not None
            and self.data["task"] == "regression"
        ):
            raise ValueError(
                "`model` 'classifier' cannot train `task` 'regression': the regression head is "
                "the multimodal model's; use 'multimodal' or 'auto'."
            )
        if self.model == "classifier" and len(self.modalities) != 1:
            raise ValueError("`model` 'classifier' needs exactly one modality; use 'multimodal'.")
        if self.model == "classifier" and "tabular" in self.modalities:
            raise ValueError(
                "`model` 'classifier' has no tabular form: numeric and categorical columns are the "
                "multimodal model's `tabular` modality; use 'multimodal' or 'auto'."
            )
        defaults = DATASET_DEFAULTS.get(self.dataset, USER_DEFAULTS)
        for name in ("epochs", "batch_size", "text_length"):
            value = getattr(self, name)
            set_field(
                self, name, check_positive_int(name, defaults[name] if value is None else value)
            )
        for name, fallback in (
            ("optimizer", "auto"),
            ("weight_decay", 0.01),
            ("label_smoothing", 0.0),
        ):
            if getattr(self, name) is None:
                set_field(self, name, defaults.get(name, fallback))
        super().__post_init__()
        if self.learning_rate is not None and self.learning_rate > 1:  # a run's guard against typos
            raise ValueError(
                "`learning_rate` must be at most 1 (Adam's useful rates are about 1e-5 to 1e-2), "
                f"got {self.learning_rate!r}."
            )
        check_rate("validation_fraction", self.validation_fraction)
        if self.validation_fraction and self.dataset in OWN_VALIDATION_SPLIT:
            raise ValueError(
                f"`validation_fraction` must be 0 for {self.dataset}: it has its own `validation` "
                "split (held out by emoji), which every run validates on."
            )
        check_rate("modality_dropout", self.modality_dropout)
        if self.augmentation is None:
            set_field(self, "augmentation", image_default(self, "augmentation", False))
        if not isinstance(self.augmentation, (bool, dict)):
            raise ValueError(
                "`augmentation` must be True, False or a dict of ImageAugmentation's fields, got "
                f"{self.augmentation!r}."
            )
        if isinstance(self.augmentation, dict):  # checked now, not when the model is built
            from multimodal_tf.models.augmentation import ImageAugmentation

            ImageAugmentation.from_value(self.augmentation)
        if not isinstance(self.image_batch_norm, bool):
            raise ValueError(
                f"`image_batch_norm` must be True or False, got {self.image_batch_norm!r}."
            )
        if self.image_dropout is None:
            set_field(self, "image_dropout", image_default(self, "image_dropout", 0.0))
        check_rate("image_dropout", self.image_dropout)
        if self.image_filters is not None:
            set_field(
                self, "image_filters", check_positive_int_tuple("image_filters", self.image_filters)
            )
        image_options = [
            f"`{name}`"
            for name in ("augmentation", "image_filters", "image_batch_norm", "image_dropout")
            if getattr(self, name)
        ]
        if image_options and "image" not in self.modalities:
            raise ValueError(
                f"{', '.join(image_options)} "
                f"{'applies' if len(image_options) == 1 else 'apply'} to the image encoder, but "
                "this "
                "run has no "
                f"image modality ({', '.join(self.modalities)})."
            )
        check_positive_int("lora_rank", self.lora_rank, allow_none=True)
        if self.lora_rank is not None and "text" not in self.modalities:
            raise ValueError(
                "`lora_rank` applies to the BERT text encoder, but this run has no text "
                f"modality ({', '.join(self.modalities)})."
            )
        if self.lora_rank is not None and self.fine_tune_text is not None:
            raise ValueError(
                f"`lora_rank` ({self.lora_rank}) fine-tunes the text encoder through LoRA; "
                f"`fine_tune_text`={self.fine_tune_text} asks for "
                f"{'all of it' if self.fine_tune_text else 'none of it'}: give one or the other."
            )
        check_positive_int("limit", self.limit, allow_none=True)
        check_positive_int("test_limit", self.test_limit, allow_none=True)
        check_choice("architecture", self.architecture, ARCHITECTURES)

    def _check_user_data(self):
        """`data` checked, modalities read from its columns where not given, validation on."""
        from multimodal_tf.runs import user_data

        set_field = object.__setattr__
        set_field(self, "data", user_data.check_data(self.data))
        if not self.validation_fraction and self.data["validation"] is None:
            set_field(self, "validation_fraction", 0.1)
        modalities = self.modalities
        if modalities is None:
            modalities = user_data.data_modalities(user_data.load_user(self))
        if isinstance(modalities, str):
            modalities = [part.strip() for part in modalities.split(",") if part.strip()]
        wrong = [name for name in modalities if name not in user_data.MODALITY_ORDER]
        if wrong or not modalities or len(set(modalities)) != len(modalities):
            raise ValueError(
                f"`modalities` must be a non-empty subset of {user_data.MODALITY_ORDER} "
                f"without repeats, got {list(modalities)}."
            )
        set_field(self, "modalities", tuple(m for m in user_data.MODALITY_ORDER if m in modalities))

    @property
    def kind(self) -> str:
        if self.model != "auto":
            return self.model
        if self.data is not None and self.data["task"] == "regression":
            return "multimodal"  # the regression head is build_multimodal_model's
        if "tabular" in self.modalities:
            return "multimodal"  # the tabular encoder is the multimodal model's
        return "multimodal" if len(self.modalities) > 1 else "classifier"


def config_record(config: RunConfig) -> dict:
    """The run's options as JSON values (tuples as lists), as metrics.json records them."""
    return json.loads(json.dumps({**dataclasses.asdict(config), "kind": config.kind}))
