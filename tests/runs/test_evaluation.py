"""Which splits a run trains, validates and is scored on."""

import dataclasses

import pytest

from multimodal_tf.data.pipeline import OWN_VALIDATION_SPLIT
from multimodal_tf.runs import RunConfig, evaluation
from multimodal_tf.runs.evaluation import training_splits


def test_a_dataset_with_its_own_validation_split_validates_on_it(data_dir):
    config = RunConfig(data_dir=data_dir)
    assert training_splits(config) == ("train", "validation")
    assert training_splits(dataclasses.replace(config, limit=100)) == ("train[:100]", "validation")
    with pytest.raises(ValueError, match="`validation_fraction` must be 0 for twemoji_categories"):
        training_splits(dataclasses.replace(config, validation_fraction=0.1))
    quick = dataclasses.replace(config, limit=64, test_limit=32)  # a smoke run stays quick
    assert training_splits(quick) == ("train[:64]", "validation[:32]")
    assert config.dataset in OWN_VALIDATION_SPLIT and evaluation.has_validation_split(config)
    assert "validation" in evaluation.dataset_splits(config)  # the builder agrees


def test_other_datasets_hold_out_the_end_of_train(data_dir):
    config = RunConfig(dataset="japanese_vowels", validation_fraction=0.1, data_dir=data_dir)
    assert training_splits(config) == ("train[:243]", "train[243:]")
    assert training_splits(dataclasses.replace(config, validation_fraction=0.0)) == ("train", None)
    assert not evaluation.has_validation_split(config)
    assert "validation" not in evaluation.dataset_splits(config)  # the builder agrees


def test_a_run_is_scored_on_a_split_the_dataset_has(data_dir):
    config = RunConfig(data_dir=data_dir, test_limit=50)
    assert evaluation.test_split(config) == "test[:50]"  # the test limit applies to test only
    assert evaluation.test_split(config, "test_facebook") == "test_facebook"
    with pytest.raises(ValueError, match="'dev' is not a split of twemoji_categories; it has: "):
        evaluation.test_split(config, "dev")
