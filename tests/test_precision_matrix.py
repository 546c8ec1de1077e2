"""Precision x life cycle: every model, under every dtype policy, from training to serving.

Each of the CNN, the stacked LSTM, the BERT classifier and the multimodal
model with concat, gated and attention fusion is trained for one short epoch
under float32, mixed_float16 and mixed_bfloat16 through the engine
(`multimodal-tf train --architecture tiny`), and saved as a run. Then one
fresh process, whose global policy is float32, reloads every run and checks
that it predicts what the training process predicted, evaluates, predicts
from a file, exports a SavedModel that serves raw inputs, and explains a
prediction with integrated gradients. The CNN and LSTM mixed runs also go to
TFLite, float and int8, through their float32 twin.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from multimodal_tf.data.pipeline import prepare
from multimodal_tf.runs import RunConfig, load_run, train_run
from multimodal_tf.runs.export import export_tflite, raw_to_model_inputs, tflite_twin
from multimodal_tf.runs.models import text_preprocessor_for
from tests.helpers import PREDICTION_TOLERANCE
from tests.layer_harness import POLICIES

# About 8 minutes on a 2-core CPU (every model x policy trained, saved and reloaded in fresh
# processes): the default suite outgrew CI's budget, so it runs with `bash scripts/test.sh -m slow`.
pytestmark = pytest.mark.slow

MODELS = {
    "cnn": dict(dataset="fashion_mnist"),
    "lstm": dict(dataset="japanese_vowels"),
    "bert": dict(dataset="rt_snippets", text_length=16),
    "concat": dict(dataset="twemoji_categories", fusion="concat", text_length=16),
    "gated": dict(dataset="twemoji_categories", fusion="gated", text_length=16),
    "attention": dict(
        dataset="twemoji_categories",
        fusion="attention",
        text_length=16,
        # in-model augmentation layers, the style ones too, saved and reloaded under every policy
        augmentation={"hue": 0.5, "saturation": 0.4, "grayscale": 0.2, "erasing": 0.25},
        label_smoothing=0.1,
    ),
}
EXAMPLES = 6
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def raw_examples(config):
    """The first test examples as a client has them: uint8 images, padded sequences, strings."""
    records = list(
        tfds.as_numpy(
            tfds.load(config.dataset, split=f"test[:{EXAMPLES}]", data_dir=config.data_dir)
        )
    )
    raw = {}
    if "image" in config.modalities:
        raw["image"] = np.stack([record["image"] for record in records])
    if "sequence" in config.modalities:
        steps = max(len(record["sequence"]) for record in records)
        raw["sequence"] = np.stack(
            [
                np.pad(record["sequence"], [(0, steps - len(record["sequence"])), (0, 0)])
                for record in records
            ]
        ).astype(np.float32)
    if "text" in config.modalities:
        raw["text"] = np.array([record["text"] for record in records], dtype=bytes)
    if config.kind == "multimodal":
        raw.update(
            {f"{modality}_present": np.ones(EXAMPLES, np.float32) for modality in config.modalities}
        )
        raw["image_present"][::2] = 0.0  # half the rows without their image
    return raw


def model_inputs(raw, config, metrics):
    features = raw_to_model_inputs(
        {name: tf.constant(value) for name, value in raw.items()},
        config,
        text_preprocessor_for(config, metrics.get("text_checkpoint")),
    )
    return tf.nest.map_structure(np.asarray, features)


def train_one(output, name, policy, data_dir):
    """Trains one (model, policy) as a run; saves the raw examples and this process' predictions."""
    config = RunConfig(
        **MODELS[name],
        architecture="tiny",
        precision=policy,
        epochs=1,
        limit=32,
        test_limit=16,
        batch_size=16,
        data_dir=data_dir,
    )
    result = train_run(config, output=str(output), run=f"{name}-{policy}", verbose=0)
    raw = raw_examples(config)
    expected = result["model"].predict(model_inputs(raw, config, result), verbose=0)
    np.savez(os.path.join(str(output), f"{name}-{policy}.npz"), expected=expected, **raw)
    with open(os.path.join(str(output), f"{name}-{policy}.json"), "w") as metrics_file:
        json.dump({key: value for key, value in result.items() if key != "model"}, metrics_file)


TRAIN = """
import sys
from tests.test_precision_matrix import train_one
output, data_dir, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
for pair in pairs:
    train_one(output, *pair.split(":"), data_dir)
"""


def in_two_processes(code, arguments, items):
    """Runs `code` over `items` split between two fresh processes at once (the machine has 2 cores;
    tiny models leave them mostly to single-threaded tracing)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, *arguments, *items[half::2]],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in range(2)
    ]
    outputs = [process.communicate() for process in processes]
    for process, (_, error) in zip(processes, outputs):
        assert process.returncode == 0, error[-4000:]
    return "".join(out for out, _ in outputs)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    """Every (model, policy) trained as a run, with the training process' predictions."""
    for name in (
        "cnn",
        "lstm",
        "bert",
        "attention",
    ):  # each dataset prepared once, before the two processes
        prepare(MODELS[name]["dataset"], data_dir)
    output = tmp_path_factory.mktemp("precision-runs")
    in_two_processes(
        TRAIN,
        [str(output), data_dir],
        [f"{name}:{policy}" for name in MODELS for policy in POLICIES],
    )
    trained = {
        (name, policy): json.loads((output / f"{name}-{policy}.json").read_text())
        for name in MODELS
        for policy in POLICIES
    }
    return output, trained


LIFE_CYCLE = """
import json, sys
import numpy as np, keras, tensorflow as tf
import tensorflow_text  # the exported text models' tokeniser ops
import multimodal_tf
from multimodal_tf.explain import integrated_gradients
from multimodal_tf.data.pipeline import prepare
from multimodal_tf.runs.export import export_savedmodel, raw_to_model_inputs
from multimodal_tf.runs import evaluate_run, load_run, predict_run
from multimodal_tf.runs.models import text_preprocessor_for

assert keras.config.dtype_policy().name == "float32"
folder, names = sys.argv[1], sys.argv[2:]
for name in names:
    run = f"{folder}/{name}"
    model, metrics, config = load_run(run)
    data = dict(np.load(f"{run}.npz"))
    expected = data.pop("expected")
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    raw = {k: tf.constant(v) for k, v in data.items()}
    features = raw_to_model_inputs(raw, config, preprocessor)
    reloaded = model.predict(features, verbose=0)
    accuracy = evaluate_run(run)
    if "image" in config.modalities:
        item = f"{run}.png"
        tf.io.write_file(item, tf.io.encode_png(data["image"][1]))
    elif "sequence" in config.modalities:
        item = f"{run}.npy"
        np.save(item, data["sequence"][0])
    else:
        item = data["text"][0].decode()
    predicted = predict_run(run, [item])
    export_savedmodel(run, f"{run}-exported")
    served = tf.saved_model.load(f"{run}-exported").signatures["serving_default"](
        **{k: tf.constant(v) for k, v in data.items()})["probabilities"].numpy()
    one = tf.nest.map_structure(lambda value: np.asarray(value)[1], features)
    attributions = integrated_gradients(model, one, steps=4)
    print(json.dumps({
        "name": name,
        "policy": multimodal_tf.models.dtypes.model_policy(model),
        "reloaded_error": float(np.abs(reloaded - expected).max()),
        "served_error": float(np.abs(served - expected).max()),
        "accuracy": accuracy,
        "predicted": [predicted[0][1], predicted[0][2]],
        "attribution_totals": {k: float(v) for k, v in attributions.totals.items()},
    }))
"""


@pytest.fixture(scope="module")
def life_cycle(runs):
    """One fresh process (global policy float32) takes every run through its life cycle."""
    output, _ = runs
    names = [f"{name}-{policy}" for name in MODELS for policy in POLICIES]
    stdout = in_two_processes(LIFE_CYCLE, [str(output)], names)
    reports = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {report["name"]: report for report in reports}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", MODELS)
def test_a_run_lives_its_whole_life_under_each_policy(runs, life_cycle, name, policy):
    _, trained = runs
    metrics = trained[name, policy]
    assert metrics["precision"] == policy
    report = life_cycle[f"{name}-{policy}"]
    assert report["policy"] == policy  # reloaded with the policy it trained under
    assert report["reloaded_error"] <= PREDICTION_TOLERANCE[policy], report
    assert report["served_error"] <= PREDICTION_TOLERANCE[policy], report
    assert report["accuracy"] == metrics["test_accuracy"]
    assert report["predicted"][0] in metrics["class_names"] and 0 < report["predicted"][1] <= 1
    totals = report["attribution_totals"]
    assert totals and all(np.isfinite(value) for value in totals.values()), report


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", ["cnn", "lstm"])
def test_mixed_runs_export_to_tflite_through_their_float32_twin(
    runs, name, policy, data_dir, tmp_path
):
    output, _ = runs
    run = str(output / f"{name}-{policy}")
    model, metrics, config = load_run(run)
    raw = dict(np.load(f"{run}.npz"))
    inputs = model_inputs({k: v for k, v in raw.items() if k != "expected"}, config, metrics)
    sequence_length = inputs.shape[1] if name == "lstm" else None
    twin = tflite_twin(model, sequence_length)
    assert {layer.compute_dtype for layer in twin.layers} == {"float32"}
    twin_outputs = twin.predict(inputs, verbose=0)
    np.testing.assert_allclose(
        twin_outputs, model.predict(inputs, verbose=0), atol=PREDICTION_TOLERANCE[policy]
    )
    for quantize, tolerance in ((False, 1e-4), (True, 0.1)):
        path = str(tmp_path / f"{quantize}.tflite")
        export_tflite(
            run,
            path,
            quantize=quantize,
            sequence_length=sequence_length,
            data_dir=data_dir,
            representative_examples=16,
        )
        interpreter = tf.lite.Interpreter(model_path=path)
        interpreter.allocate_tensors()
        for row, expected in zip(inputs, twin_outputs):
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], row[None])
            interpreter.invoke()
            served = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
            np.testing.assert_allclose(served, expected, atol=tolerance)
