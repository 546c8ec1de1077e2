"""RunConfig: the run's options plus the TrainingOptions it inherits, recorded and read back."""

import dataclasses

import pytest

from multimodal_tf.runs import DATASET_DEFAULTS, RunConfig, config_record
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
    ],
)
def test_inherited_options_are_checked_once_and_named(field, value):
    with pytest.raises(ValueError, match=f"`{field}`"):
        RunConfig(**{field: value})


def test_the_recorded_options_read_back_to_the_same_config():
    config = RunConfig(
        dataset="twemoji_categories", modalities="image,text", optimizer="adam", limit=10
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
