"""SavedModel export: raw inputs in, the Keras model's predictions out, in a fresh process."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from multimodal_tf.cli import main
from multimodal_tf.data.pipeline import load_split
from multimodal_tf.runs import load_run
from multimodal_tf.runs.models import text_preprocessor_for
from tests.helpers import PREDICTION_TOLERANCE, cli_args

SERVE = """
import sys, numpy as np, tensorflow as tf
import tensorflow_text  # registers the WordPiece ops the text models use (not this library)
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
raw = dict(np.load(sys.argv[2]))
outputs = serve(**{name: tf.constant(value) for name, value in raw.items()})
np.savez(sys.argv[3], **{name: value.numpy() for name, value in outputs.items()})
"""


TRAIN = {
    "fusion": ["--limit", "96", "--text-length", "16"],
    "cnn": ["--dataset", "fashion_mnist", "--limit", "256", "--test-limit", "64"],
    "lstm": ["--dataset", "japanese_vowels"],
}


class _Runs:
    """`runs / name`: the run folder, trained on first use (a default run needs only the CNN)."""

    def __init__(self, output, data_dir):
        self.output, self.data_dir = output, data_dir

    def __truediv__(self, name):
        folder = self.output / name
        if not folder.exists():
            common = ["--epochs", "1", "--quiet", "--data-dir", self.data_dir]
            arguments = ["train", *TRAIN[name], "--run", name, *common]
            assert main([*arguments, "--output", str(self.output)]) == 0
        return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    return _Runs(tmp_path_factory.mktemp("runs"), data_dir)


def raw_and_expected(run, data_dir, count=16):
    """Raw test records as a client has them, and the Keras model's probabilities."""
    model, metrics, config = load_run(str(run))
    split = f"test[:{count}]"
    records = list(tfds.as_numpy(tfds.load(config.dataset, split=split, data_dir=data_dir)))
    raw = {}
    if "image" in config.modalities:
        raw["image"] = np.stack([record["image"] for record in records])
    if "text" in config.modalities:
        raw["text"] = np.array([record["text"] for record in records], dtype=bytes)
    if config.kind == "multimodal":
        raw.update({f"{m}_present": np.ones(count, np.float32) for m in config.modalities})
        raw["image_present"][::3] = 0.0  # some rows without their image
        raw["image"][::3] = 0
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    features, _ = next(
        iter(
            load_split(
                config.dataset,
                split,
                batch_size=count,
                text_preprocessor=preprocessor,
                data_dir=data_dir,
                modalities=config.modalities,
                presence=config.kind == "multimodal",
            )
        )
    )
    if config.kind == "multimodal":
        features = {
            **features,
            "image_present": raw["image_present"],
            "image": features["image"] * raw["image_present"][:, None, None, None],
        }
    return raw, model.predict(features, verbose=0), metrics["class_names"]


@pytest.mark.parametrize("name", [pytest.param("fusion", marks=pytest.mark.slow), "cnn"])
def test_savedmodel_serves_raw_inputs_like_the_keras_model(runs, name, data_dir, tmp_path, capsys):
    exported = tmp_path / "exported" / "1"
    assert main(["export", str(runs / name), "--output", str(exported)]) == 0
    raw, expected, class_names = raw_and_expected(runs / name, data_dir)
    np.savez(tmp_path / "raw.npz", **raw)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE,
            str(exported),
            str(tmp_path / "raw.npz"),
            str(tmp_path / "out.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = np.load(tmp_path / "out.npz", allow_pickle=True)
    precision = json.loads((runs / name / "metrics.json").read_text())[
        "precision"
    ]  # auto: per machine
    np.testing.assert_allclose(
        served["probabilities"], expected, atol=PREDICTION_TOLERANCE[precision]
    )
    np.testing.assert_array_equal(served["class_id"], expected.argmax(axis=1))
    assert [name.decode() for name in served["class_name"]] == [
        class_names[i] for i in expected.argmax(axis=1)
    ]


def test_export_refuses_a_non_empty_folder(runs, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    assert main(["export", str(runs / "cnn"), "--output", str(tmp_path / "taken")]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["cnn", pytest.param("lstm", marks=pytest.mark.slow)])
def test_tflite_float_matches_keras_and_int8_stays_close(runs, name, data_dir, tmp_path, capsys):
    from multimodal_tf.runs.export import export_tflite, tflite_examples, tflite_twin

    model, _, config = load_run(str(runs / name))
    paths = {}
    for quantize in (False, True):
        result = export_tflite(
            str(runs / name),
            str(tmp_path / f"{name}-{quantize}.tflite"),
            quantize=quantize,
            data_dir=data_dir,
            representative_examples=50,
        )
        paths[quantize] = result["path"]
    examples = list(
        zip(range(20), tflite_examples(config, "test", result["sequence_length"], data_dir))
    )
    inputs = np.concatenate([example.numpy() for _, (example, _) in examples])
    # TFLite runs the float32 twin of a mixed-precision run: compare with that.
    expected = tflite_twin(model).predict(inputs, verbose=0)
    for quantize, tolerance in ((False, 1e-4), (True, 0.1)):
        np.testing.assert_allclose(run_tflite(paths[quantize], inputs), expected, atol=tolerance)
    # TFLite drops the InputGuard's assertion, but a NaN still comes out as NaN, not a class.
    broken = inputs[:1].copy()
    broken.flat[7] = np.nan
    assert np.isnan(run_tflite(paths[False], broken)).all()


def test_tflite_accuracy_is_scored_on_the_run_s_test_rows(
    runs, data_dir, tmp_path, capsys, monkeypatch
):
    # The run was scored on its first 64 test examples (--test-limit): so is its TFLite model.
    command = ["export", str(runs / "cnn"), "--format", "tflite", "--evaluate"]
    assert main([*command, "--output", str(tmp_path / "cnn.tflite"), "--data-dir", data_dir]) == 0
    printed = capsys.readouterr().out.splitlines()[-1]
    assert printed.startswith("test accuracy (TFLite): ")
    metrics = json.loads((runs / "cnn" / "metrics.json").read_text())
    assert metrics["config"]["test_limit"] == 64
    assert float(printed.split(": ")[1]) == pytest.approx(metrics["test_accuracy"]["all"], abs=1e-4)
    # Without --data-dir, the run's recorded data folder is read (as `evaluate` does).
    from multimodal_tf.runs import export

    folders = []

    def recording(*args, data_dir=None, **kwargs):
        folders.append(data_dir)
        return load_split(*args, data_dir=data_dir, **kwargs)

    monkeypatch.setattr(export, "load_split", recording)
    accuracy = export.tflite_accuracy(str(tmp_path / "cnn.tflite"), str(runs / "cnn"))
    assert folders == [metrics["config"]["data_dir"]] == [data_dir]
    assert accuracy == pytest.approx(metrics["test_accuracy"]["all"], abs=1e-4)


def run_tflite(path, inputs):
    """The outputs of a `.tflite` file for each row of `inputs`."""
    interpreter = tf.lite.Interpreter(model_path=path)
    interpreter.allocate_tensors()
    outputs = []
    for row in inputs:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], row[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0])
    return np.array(outputs)


@pytest.mark.slow
def test_tflite_refuses_a_multimodal_run(runs, tmp_path, capsys):
    assert (
        main(
            cli_args(
                "export", str(runs / "fusion"), format="tflite", output=str(tmp_path / "m.tflite")
            )
        )
        == 2
    )
    assert "SavedModel" in capsys.readouterr().err


@pytest.mark.slow
def test_the_serving_signature_refuses_presence_flags_other_than_0_or_1(runs, tmp_path, capsys):
    exported = tmp_path / "exported"
    assert main(["export", str(runs / "fusion"), "--output", str(exported)]) == 0
    serve = tf.saved_model.load(str(exported)).signatures["serving_default"]
    raw = dict(
        image=tf.zeros([1, 64, 64, 3], tf.uint8),
        text=tf.constant(["red apple"]),
        image_present=tf.constant([1.0]),
        text_present=tf.constant([1.0]),
    )
    assert serve(**raw)["class_name"].shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`image_present` must be 0 or 1"):
        serve(**{**raw, "image_present": tf.constant([0.5])})
