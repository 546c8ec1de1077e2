"""keras-tuner hypermodels trained by the engine: spaces, searches, resuming."""

import json
import warnings

import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf import build_cnn_classifier, build_lstm_classifier
from multimodal_tf.cli import main
from multimodal_tf.training import TrainingConfig
from multimodal_tf.tuning import (
    BertHyperModel,
    CNNHyperModel,
    LSTMHyperModel,
    MultimodalHyperModel,
    leaderboard,
    make_tuner,
)
from tests.helpers import TINY_IMAGE, TINY_TEXT, cli_args, make_data

QUIET = TrainingConfig(epochs=1, precision="float32", verbose=0)
TINY_ENCODER = {k: v for k, v in TINY_TEXT.items() if k not in ("sequence_length", "dropout")}


def image_data(n=64, seed=0):
    """28x28 images whose label is the bright half (the CNN space needs 28x28)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.uniform(0, 0.2, (n, 28, 28, 1)).astype("float32")
    for row, label in enumerate(labels):
        images[row, :, 14 * label : 14 * (label + 1)] += 0.8
    return tf.data.Dataset.from_tensor_slices((images, labels.astype("int32"))).batch(16)


def as_json(config):
    """A config as saved (tuples and lists alike), for comparing."""
    return json.dumps(config, sort_keys=True)


def completed(tuner):
    return [
        t
        for t in tuner.oracle.trials.values()
        if t.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
    ]


def test_default_points_are_the_documents_models():
    hp = keras_tuner.HyperParameters()
    cnn = CNNHyperModel(training=QUIET).build(hp)
    assert cnn.count_params() == build_cnn_classifier().count_params() == 93322
    hp = keras_tuner.HyperParameters()
    lstm = LSTMHyperModel(num_features=12, num_classes=9, training=QUIET).build(hp)
    assert lstm.count_params() == build_lstm_classifier(None, 12, 9).count_params()
    assert (hp.get("units"), hp.get("depth"), hp.get("bidirectional")) == (64, 2, False)
    hp = keras_tuner.HyperParameters()
    BertHyperModel(2, encoder=TINY_ENCODER, sequence_length=8, training=QUIET).build(hp)
    assert (hp.get("freeze_encoder"), hp.get("warmup_fraction"), hp.get("dropout")) == (
        False,
        0.1,
        0.1,
    )
    hp = keras_tuner.HyperParameters()
    MultimodalHyperModel(2, image=TINY_IMAGE, training=QUIET).build(hp)
    assert (hp.get("fusion"), hp.get("modality_dropout")) == ("attention", 0.2)


def test_the_image_search_keeps_a_runs_augmentation_and_batch_norm():
    hypermodel = CNNHyperModel(augmentation=True, batch_norm=True, training=QUIET)
    names = {
        type(layer).__name__ for layer in hypermodel.build(keras_tuner.HyperParameters()).layers
    }
    assert {"RandomTranslation", "RandomContrast", "BatchNormalization"} <= names


@pytest.mark.slow
def test_random_search_end_to_end_and_the_best_rebuilds(tmp_path):
    hypermodel = CNNHyperModel(num_classes=2, training=QUIET)
    tuner = make_tuner(
        "random", hypermodel, max_trials=3, directory=str(tmp_path), project_name="cnn"
    )
    data = image_data()
    tuner.search(data, validation_data=data, epochs=1)
    assert len(completed(tuner)) == 3  # trials really trained (not failed and skipped)
    board = leaderboard(tuner)
    assert [row["score"] for row in board] == sorted((row["score"] for row in board), reverse=True)
    best_model = tuner.get_best_models(1)[0]
    path = str(tmp_path / "best.keras")
    best_model.save(path)
    keras.backend.clear_session()  # as the tuner does before each build: same layer names
    rebuilt = hypermodel.build(tuner.get_best_hyperparameters(1)[0])
    assert as_json(rebuilt.get_config()) == as_json(keras.saving.load_model(path).get_config())


@pytest.mark.slow
def test_hyperband_continues_trials_through_the_engine(tmp_path):
    hypermodel = CNNHyperModel(num_classes=2, training=QUIET)
    tuner = make_tuner(
        "hyperband",
        hypermodel,
        max_trials=1,
        max_epochs=3,
        directory=str(tmp_path),
        project_name="hb",
    )
    data = image_data()
    tuner.search(data, validation_data=data)
    trials = completed(tuner)
    assert len(trials) >= 3
    assert {t.hyperparameters.get("tuner/epochs") for t in trials} == {1, 3}  # two rungs ran
    path = str(tmp_path / "best.keras")
    tuner.get_best_models(1)[0].save(path)
    keras.backend.clear_session()
    rebuilt = hypermodel.build(tuner.get_best_hyperparameters(1)[0])
    assert as_json(rebuilt.get_config()) == as_json(keras.saving.load_model(path).get_config())


def test_an_interrupted_search_resumes_without_repeating_trials(tmp_path):
    data = image_data()

    def search(max_trials):
        tuner = make_tuner(
            "random",
            CNNHyperModel(num_classes=2, training=QUIET),
            max_trials=max_trials,
            directory=str(tmp_path),
            project_name="resume",
        )
        tuner.search(data, validation_data=data, epochs=1)
        return tuner

    first = {t.trial_id: t.score for t in completed(search(2))}
    resumed = {t.trial_id: t.score for t in completed(search(3))}
    assert len(first) == 2 and len(resumed) == 3
    assert all(resumed[trial] == score for trial, score in first.items())  # not retrained


def test_mixed_precision_and_a_strategy(tmp_path):
    training = TrainingConfig(epochs=1, precision="mixed_bfloat16", verbose=0)
    tuner = make_tuner(
        "random",
        MultimodalHyperModel(2, image=TINY_IMAGE, training=training),
        max_trials=1,
        directory=str(tmp_path),
        project_name="mixed",
        distribution_strategy=tf.distribute.MirroredStrategy(["/cpu:0"]),
    )
    inputs, labels = make_data("multimodal", n=32)
    inputs = {k: v for k, v in inputs.items() if k in ("image", "image_present")}
    data = tf.data.Dataset.from_tensor_slices((inputs, labels.astype("int32"))).batch(8)
    tuner.search(data, validation_data=data)
    assert len(completed(tuner)) == 1
    assert tuner.get_best_models(1)[0].dtype_policy.name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # restored


@pytest.mark.slow
def test_bert_trials_fine_tune_with_warmup(tmp_path):
    tuner = make_tuner(
        "random",
        BertHyperModel(2, sequence_length=8, encoder=TINY_ENCODER, training=QUIET),
        max_trials=1,
        directory=str(tmp_path),
        project_name="bert",
    )
    inputs, labels = make_data("bert", n=32)
    data = tf.data.Dataset.from_tensor_slices((inputs, labels.astype("int32"))).batch(8)
    tuner.search(data, validation_data=data)
    model = tuner.get_best_models(1)[0]
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert len(completed(tuner)) == 1


def test_bad_tuner_arguments():
    with pytest.raises(ValueError, match="`tuner`"):
        make_tuner("grid", CNNHyperModel(), max_trials=1, directory="x", project_name="y")
    with pytest.raises(ValueError, match="must not set"):
        BertHyperModel(2, encoder={"dropout": 0.2})
    with pytest.raises(ValueError, match="`max_trials`"):
        make_tuner("random", CNNHyperModel(), max_trials=0, directory="x", project_name="y")


QUICK_SEARCH = {"dataset": "fashion_mnist", "epochs": 1, "quiet": True}


@pytest.mark.slow
def test_cli_tune_prints_the_leaderboard_saves_the_best_and_resumes(data_dir, tmp_path, capsys):
    def search(max_trials):
        return cli_args(
            "tune",
            **QUICK_SEARCH,
            limit=512,
            max_trials=max_trials,
            data_dir=data_dir,
            output=str(tmp_path),
            run="search",
        )

    assert main(search(2)) == 0
    printed = capsys.readouterr().out
    assert "leaderboard" in printed and "filters_0" in printed
    run = tmp_path / "search"
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["leaderboard"]) == 2 and metrics["config"]["validation_fraction"] == 0.1
    assert set(metrics["best_hyperparameters"]) >= {
        "filters_0",
        "dense_units",
        "dropout",
        "learning_rate",
    }
    assert (run / "model.keras").is_file()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert (
            main(["evaluate", str(run), "--data-dir", data_dir]) == 0
        )  # a run folder like train's
    assert not [w for w in caught if "optimizer" in str(w.message)], [
        str(w.message) for w in caught
    ]

    assert main(search(3)) == 0  # one more trial, the first two kept
    resumed = json.loads((run / "metrics.json").read_text())
    assert len(resumed["leaderboard"]) == 3
    before = {row["trial"]: row["score"] for row in metrics["leaderboard"]}
    assert all(
        row["score"] == before[row["trial"]]
        for row in resumed["leaderboard"]
        if row["trial"] in before
    )
    capsys.readouterr()
    # keras-tuner would resume it with the old widths: other options are refused.
    assert main([*search(4), "--architecture", "tiny"]) == 2
    assert "architecture 'default' (then) vs 'tiny' (now)" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_tune_in_fresh_processes(data_dir, tmp_path, capsys):
    arguments = cli_args(
        "tune",
        **QUICK_SEARCH,
        limit=256,
        max_trials=2,
        trials_per_process=1,
        data_dir=data_dir,
        output=str(tmp_path),
        run="chunks",
    )
    assert main(arguments) == 0
    metrics = json.loads((tmp_path / "chunks" / "metrics.json").read_text())
    assert len(metrics["leaderboard"]) == 2 and (tmp_path / "chunks" / "model.keras").is_file()
    assert (
        main([*arguments[:-4], "--tuner", "hyperband", "--output", str(tmp_path), "--run", "hb"])
        == 2
    )
    assert "`trials_per_process`" in capsys.readouterr().err


@pytest.mark.slow
def test_a_search_computes_the_frozen_text_encoder_once_for_all_trials(
    data_dir, tmp_path, monkeypatch
):
    from multimodal_tf.runs import RunConfig, load_run, tune_run
    from multimodal_tf.training import feature_cache

    computed = []
    compute = feature_cache.compute_text_features

    def counting(encoder, preprocessor, texts, **kwargs):
        texts = list(texts)
        computed.append(len(texts))
        return compute(encoder, preprocessor, texts, **kwargs)

    monkeypatch.setattr(feature_cache, "compute_text_features", counting)
    config = RunConfig(
        architecture="tiny", limit=64, epochs=1, test_limit=16, text_length=16, data_dir=data_dir
    )
    metrics = tune_run(config, max_trials=2, output=str(tmp_path), run="shared", verbose=0)
    assert len(metrics["leaderboard"]) == 2
    # Scored on the dataset's own validation split (held out by emoji), not a slice of train.
    assert metrics["config"]["validation_fraction"] == 0.0
    assert set(metrics["validation_accuracy"]) == {"all", "image only", "text only"}
    # Once for all texts; then the second trial's encoder checked on 8 of them.
    assert len(computed) == 2 and computed[0] > 8 and computed[1] == 8, computed
    model, _, _ = load_run(str(tmp_path / "shared"))  # the best trial, saved whole: raw inputs in
    assert "token_ids" in model.input


def test_sizes_replace_the_searched_widths_and_are_checked():
    hp = keras_tuner.HyperParameters()
    sizes = {"filters_0": [4], "filters_1": [8], "filters_2": [8], "dense_units": [8, 16]}
    small = CNNHyperModel(num_classes=2, training=QUIET, sizes=sizes).build(hp)
    assert [hp.get(f"filters_{index}") for index in range(3)] == [4, 8, 8]
    assert hp.get("dense_units") == 8  # the document's 64 is not among them: the first
    assert (
        small.count_params()
        == build_cnn_classifier(num_classes=2, filters=(4, 8, 8), dense_units=8).count_params()
    )
    hp = keras_tuner.HyperParameters()
    LSTMHyperModel(12, 2, training=QUIET, sizes={"units": [8, 64]}).build(hp)
    assert hp.get("units") == 64  # the default, still a choice
    with pytest.raises(ValueError, match=r"may set \['units'\], got \['filters_0'\]"):
        LSTMHyperModel(12, 2, sizes={"filters_0": [4]})
    for bad in ([], [True], [8, "16"]):
        with pytest.raises(ValueError, match=r"`sizes\['fusion_dim'\]` must be a non-empty list"):
            MultimodalHyperModel(2, image=TINY_IMAGE, sizes={"fusion_dim": bad})
    with pytest.raises(ValueError, match="`sizes` must be a dict"):
        MultimodalHyperModel(2, image=TINY_IMAGE, sizes=[8])
    hp = keras_tuner.HyperParameters()
    MultimodalHyperModel(2, image=TINY_IMAGE, sizes={"fusion_dim": [16, 8, 16]}).build(hp)
    (fusion_dim,) = [space for space in hp.space if space.name == "fusion_dim"]
    assert fusion_dim.values == [8, 16]  # sorted, once each


def test_a_tiny_run_s_search_space_is_tiny():
    from multimodal_tf.runs import RunConfig
    from multimodal_tf.runs.models import build_run_model, hypermodel_for_run

    facts = {
        "class_names": ["a", "b", "c"],
        "image_shape": [28, 28, 1],
        "num_features": 4,
        "feature_mean": [0.0] * 4,
        "feature_variance": [1.0] * 4,
    }
    for dataset in ("fashion_mnist", "japanese_vowels"):
        sizes = {}
        for architecture in ("tiny", "default"):
            config = RunConfig(dataset=dataset, model="classifier", architecture=architecture)
            searched = hypermodel_for_run(config, facts, None, QUIET).build(
                keras_tuner.HyperParameters()
            )
            trained = build_run_model(config, facts, None)
            sizes[architecture] = (searched.count_params(), trained.count_params())
        # A tiny search's default point is about as small as the tiny model train builds.
        assert sizes["tiny"][0] < sizes["default"][0] / 10, (dataset, sizes)
        assert sizes["tiny"][0] < 2 * sizes["tiny"][1], (dataset, sizes)


def test_a_tiny_text_run_searches_a_random_tiny_bert(tmp_path):
    from multimodal_tf.runs import RunConfig
    from multimodal_tf.runs.models import hypermodel_for_run
    from tests.models.test_bert_tokenizer import TINY_VOCAB

    (tmp_path / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
    config = RunConfig(dataset="rt_snippets", model="classifier", architecture="tiny")
    hypermodel = hypermodel_for_run(config, {"class_names": ["neg", "pos"]}, str(tmp_path), QUIET)
    assert hypermodel.checkpoint is None and hypermodel.encoder["vocabulary_size"] == len(
        TINY_VOCAB
    )
    assert hypermodel.build(keras_tuner.HyperParameters()).count_params() < 5_000
