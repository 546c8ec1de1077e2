"""RunConfig: the run's options plus the TrainingOptions it inherits, recorded and read back."""

import dataclasses

import pytest

from multimodal_tf.runs import RunConfig
from multimodal_tf.runs.config import DATASET_DEFAULTS, config_record
from multimodal_tf.training import TrainingConfig, TrainingOptions, training_config


def test_a_run_config_is_training_options_with_the_datasets_defaults():
    config = RunConfig(dataset="rt_snippets")
    assert isinstance(config, TrainingOptions)
    assert (config.epochs, config.batch_size, config.text_length) == tuple(
        DATASET_DEFAULTS["rt_snippets"][name] for name in ("epochs", "batch_size", "text_length")
    )
    assert config.modalities == ("text",) and config.kind == "classifier"


def test_every_training_option_reaches_the_training_config():
    options = {
        "epochs": 4,
        "precision": "float32",
        "jit_compile": False,
        "strategy": "mirrored",
        "optimizer": "adamw",
        "learning_rate": 2e-5,
        "warmup_fraction": 0.2,
        "weight_decay": 0.0,
        "steps_per_execution": 3,
        "early_stopping_patience": 2,
        "label_smoothing": 0.1,
        "seed": 7,
        "feature_cache": False,
    }
    assert set(options) == {field.name for field in dataclasses.fields(TrainingOptions)}
    engine = training_config(
        RunConfig(dataset="japanese_vowels", **options), output_dir="out", verbose=2
    )
    assert isinstance(engine, TrainingConfig)
    assert {name: getattr(engine, name) for name in options} == options
    assert (engine.output_dir, engine.verbose) == ("out", 2)
    assert (
        training_config(RunConfig(), strategy="default").strategy == "default"
    )  # settings override


@pytest.mark.parametrize(
    "field, value",
    [
        ("learning_rate", 2.0),
        ("optimizer", "sgd"),
        ("steps_per_execution", 0),
        ("weight_decay", -1.0),
        ("epochs", 0),
        ("seed", -1),
        ("precision", "float16"),
        ("label_smoothing", 1.0),
    ],
)
def test_inherited_options_are_checked_once_and_named(field, value):
    with pytest.raises(ValueError, match=f"`{field}`"):
        RunConfig(**{field: value})


def test_the_recorded_options_read_back_to_the_same_config():
    config = RunConfig(
        dataset="twemoji_categories",
        modalities="image,text",
        optimizer="adam",
        limit=10,
        augmentation=True,
        image_filters=(8, 16),
    )
    record = config_record(config)
    assert record["kind"] == "multimodal" and record["modalities"] == ["image", "text"]
    saved = {key: value for key, value in record.items() if key != "kind"}
    assert RunConfig(**{**saved, "modalities": tuple(saved["modalities"])}) == config


def test_options_are_keywords_only():
    with pytest.raises(TypeError):
        RunConfig("rt_snippets")  # the dataset must be named
    with pytest.raises(TypeError):
        TrainingConfig(3)


@pytest.mark.parametrize(
    "options, named",
    [
        ({"augmentation": "yes"}, "`augmentation`"),
        ({"augmentation": ["hue"]}, "`augmentation` must be True, False or a dict"),
        ({"augmentation": {"hue": 2}}, "`hue` must be a number in"),
        ({"augmentation": {"colour": 0.5}}, "`augmentation` has an unknown field"),
        ({"modalities": "text", "augmentation": {"hue": 0.5}}, "no image modality"),
        ({"image_filters": (0, 8)}, "`image_filters`"),
        ({"dataset": "rt_snippets", "augmentation": True}, "no image modality"),
        ({"modalities": "text", "image_filters": (8,)}, "no image modality"),
        ({"modalities": "text", "image_dropout": 0.5}, "`image_dropout` applies"),
        ({"image_batch_norm": 1}, "`image_batch_norm`"),
        ({"validation_fraction": 0.1}, "`validation_fraction` must be 0 for twemoji_categories"),
    ],
)
def test_image_options_are_checked(options, named):
    with pytest.raises(ValueError, match=named):
        RunConfig(**options)


def test_image_options_reach_the_image_encoder():
    from multimodal_tf.runs.models import encoder_arguments

    config = RunConfig(augmentation=True, image_filters=[64, 64, 64])
    assert config.image_filters == (64, 64, 64)
    image = encoder_arguments(config, {"image_shape": [64, 64, 3]}, None)["image"]
    assert image == {"input_shape": (64, 64, 3), "filters": (64, 64, 64), "augmentation": True}
    style = RunConfig(augmentation={"hue": 0.5})
    image = encoder_arguments(style, {"image_shape": [64, 64, 3]}, None)["image"]
    assert image["augmentation"] == {"hue": 0.5}


def test_augmentation_defaults_to_the_datasets_choice_where_there_are_images():
    assert RunConfig().augmentation is True  # twemoji_categories, chosen on validation
    assert RunConfig(modalities="text").augmentation is False
    assert RunConfig(augmentation=False).augmentation is False
    assert RunConfig(dataset="fashion_mnist").augmentation is False


def test_the_optimizer_defaults_to_the_datasets_choice():
    assert (RunConfig().optimizer, RunConfig().weight_decay) == ("adamw", 0.05)  # on validation
    assert (
        RunConfig(dataset="rt_snippets").optimizer,
        RunConfig(dataset="rt_snippets").weight_decay,
    ) == (
        "auto",
        0.01,
    )  # the builder's own
    assert RunConfig(optimizer="auto").optimizer == "auto"
    assert RunConfig(weight_decay=0.0).weight_decay == 0.0


def test_fashion_mnist_regularises_the_documents_cnn_by_default():
    """Chosen on 10% of the training split held out (docs/results.md): no new parameter."""
    fashion = RunConfig(dataset="fashion_mnist")
    assert (
        fashion.epochs,
        fashion.optimizer,
        fashion.weight_decay,
        fashion.label_smoothing,
        fashion.image_dropout,
        fashion.augmentation,
    ) == (30, "adamw", 0.05, 0.1, 0.5, False)
    given = RunConfig(dataset="fashion_mnist", label_smoothing=0.0, image_dropout=0.0)
    assert (given.label_smoothing, given.image_dropout) == (0.0, 0.0)
    for other in ("rt_snippets", "twemoji_categories"):
        assert (
            RunConfig(dataset=other).label_smoothing,
            RunConfig(dataset=other).image_dropout,
        ) == (
            0.0,
            0.0,
        )


def test_a_search_takes_the_datasets_dropout_default_but_not_a_given_one():
    from multimodal_tf.runs.models import hypermodel_for_run
    from multimodal_tf.tuning import CNNHyperModel

    facts = {"image_shape": [28, 28, 1], "class_names": list("abcdefghij")}
    training = TrainingConfig(epochs=1)
    hypermodel = hypermodel_for_run(RunConfig(dataset="fashion_mnist"), facts, None, training)
    assert isinstance(hypermodel, CNNHyperModel)
    with pytest.raises(ValueError, match="`image_dropout` are searched by `tune`"):
        hypermodel_for_run(
            RunConfig(dataset="fashion_mnist", image_dropout=0.2), facts, None, training
        )
