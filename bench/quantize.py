"""Benchmark: Keras' weight quantization of each model, float beside int8, int4 and float8.

For each model (`--kinds`: cnn on fashion_mnist, lstm on japanese_vowels,
bert on rt_snippets, fusion on twemoji_categories) a run is trained as
`multimodal-tf train` does (`--epochs`, `--limit`; or give finished run
folders), then quantized with `runs.quantize_run` in each mode. Per model and
mode: the `.keras` file's size (the model alone: `quantize_run` leaves the
optimizer's state out, and the float size is the float model's file without
it too), the CPU predict latency at batch 1 and 32
(median of `--repeats` timed `predict_on_batch` calls after two warm-up
calls, on real test examples) and the test accuracy (the whole test split,
or the run's `test_limit`). The CNN and the LSTM add their TFLite int8
export (`export --format tflite-int8`): its size, one-example latency and
accuracy. A mode Keras or this library refuses for a model is a row saying so.

`python -m bench quantize [--kinds cnn,lstm,bert,fusion] [--epochs N] [--limit N] [--record]`
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

DATASETS = {
    "cnn": "fashion_mnist",
    "lstm": "japanese_vowels",
    "bert": "rt_snippets",
    "fusion": "twemoji_categories",
}


def _batch(config, preprocessor, size: int):
    """`size` test examples as the model takes them (a dict or an array)."""
    import keras

    from multimodal_tf.runs.evaluation import run_split, test_split

    data = run_split(config, test_split(config, "test"), preprocessor).unbatch().batch(size)
    inputs, _ = next(iter(data))
    return keras.tree.map_structure(lambda value: value.numpy(), inputs)


def predict_latency(model, inputs, repeats: int) -> float:
    """Median milliseconds of `model.predict_on_batch(inputs)`, after two warm-up calls."""
    for _ in range(2):
        model.predict_on_batch(inputs)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict_on_batch(inputs)
        seconds.append(time.perf_counter() - started)
    return 1000 * statistics.median(seconds)


def tflite_latency(path: str, example, repeats: int) -> float:
    """Median milliseconds of one TFLite invocation on one example."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=path)
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    seconds = []
    for repeat in range(repeats + 2):
        interpreter.set_tensor(index, example)
        started = time.perf_counter()
        interpreter.invoke()
        if repeat >= 2:
            seconds.append(time.perf_counter() - started)
    return 1000 * statistics.median(seconds)


def measure_run(run: str, folder: str, repeats: int) -> list:
    """Rows of figures (dicts) for one finished float run: float, each mode, TFLite int8."""
    from multimodal_tf.choices import QUANTIZATION_MODES
    from multimodal_tf.runs import load_run, quantize_run
    from multimodal_tf.runs.evaluation import evaluate_subsets
    from multimodal_tf.runs.export import export_tflite, tflite_accuracy, tflite_examples
    from multimodal_tf.runs.models import text_preprocessor_for

    model, metrics, config = load_run(run)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    batches = {size: _batch(config, preprocessor, size) for size in (1, 32)}

    def timed(model, mode, size, accuracy):
        return {
            "mode": mode,
            "megabytes": size / 2**20,
            "batch_1_ms": predict_latency(model, batches[1], repeats),
            "batch_32_ms": predict_latency(model, batches[32], repeats),
            "accuracy": accuracy,
        }

    figures = [
        timed(
            model,
            "float",
            os.path.getsize(os.path.join(run, "model.keras")),
            evaluate_subsets(model, config, preprocessor)["all"],
        )
    ]
    for mode in QUANTIZATION_MODES:
        output = os.path.join(folder, f"{os.path.basename(run)}-{mode}")
        try:
            record = quantize_run(run, mode, output)
        except ValueError as error:  # refused for this model: say why
            figures.append({"mode": mode, "refused": str(error)})
            continue
        quantized, _, _ = load_run(output)
        figures.append(timed(quantized, mode, record["file_bytes"], record["accuracy"]["all"]))
        # The float model's own file, without the run's optimizer state (as the quantized ones)
        figures[0]["megabytes"] = record["float_model_bytes"] / 2**20
    if config.modalities in (("image",), ("sequence",)) and config.kind == "classifier":
        path = os.path.join(folder, f"{os.path.basename(run)}-int8.tflite")
        written = export_tflite(run, path, quantize=True)
        example, _ = next(iter(tflite_examples(config, "test", written["sequence_length"])))
        figures.append(
            {
                "mode": "TFLite int8",
                "megabytes": written["bytes"] / 2**20,
                "batch_1_ms": tflite_latency(path, example.numpy(), repeats),
                "batch_32_ms": None,
                "accuracy": tflite_accuracy(path, run, sequence_length=written["sequence_length"]),
            }
        )
    return figures


def train_float_run(kind: str, folder: str, **options):
    """Trains the kind's float run as `multimodal-tf train` does; returns its folder.

    `options`: `RunConfig` fields (`epochs`, `limit`, `test_limit`, `data_dir`,
    `architecture`).
    """
    from multimodal_tf.runs import RunConfig, train_run

    config = RunConfig(dataset=DATASETS[kind], **options)
    return train_run(config, output=folder, run=f"{kind}-float", verbose=0)["folder"]


def run(rows, kinds=("cnn", "lstm", "bert", "fusion"), repeats=5, runs=None, **training):
    """Adds one row per model and mode: size, latency at batch 1 and 32, accuracy.

    Args:
        rows: the `bench.common.Rows`.
        kinds: the models to measure (keys of `DATASETS`).
        repeats: timed predict calls behind each latency's median.
        runs: `{kind: run folder}` of finished float runs to use instead of training.
        **training: `RunConfig` fields of the runs trained (`epochs`, `limit`,
            `test_limit`, `data_dir`; `architecture="tiny"` for tests).
    """
    runs = dict(runs or {})
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            run = runs.get(kind) or train_float_run(kind, folder, **training)
            figures = measure_run(run, folder, repeats)
            float_figures = figures[0]
            for entry in figures:
                figure = f"{kind} ({DATASETS[kind]}): {entry['mode']} vs float"
                if "refused" in entry:
                    rows.add(f"quantize-{kind}", figure, f"refused: {entry['refused']}", "")
                    continue
                batch_32 = (
                    f"{entry['batch_32_ms']:.1f} ms"
                    if entry["batch_32_ms"] is not None
                    else "n/a (one example a call)"
                )
                rows.add(
                    f"quantize-{kind}",
                    figure,
                    f"{entry['megabytes']:.2f} MB; predict {entry['batch_1_ms']:.1f} ms at batch "
                    f"1, {batch_32} at 32; test accuracy {entry['accuracy']:.4f} (float "
                    f"{float_figures['megabytes']:.2f} MB, {float_figures['batch_1_ms']:.1f} / "
                    f"{float_figures['batch_32_ms']:.1f} ms, {float_figures['accuracy']:.4f})",
                    f"{entry['megabytes'] / float_figures['megabytes']:.2f}x size",
                )
