"""A quantized copy of a run: Keras' weight quantization, scored beside the float run.

:func:`quantize_run` loads a finished run, quantizes its model with
:func:`multimodal_tf.models.quantize_model` and writes a new run folder
(`model.keras`, `metrics.json`) that `evaluate`, `predict` and `export`
read like any other. Its metrics.json keeps the float run's fields and adds
`"quantization"`: the mode, both files' sizes, the accuracy per modality
subset of the float and of the quantized model on the same split, and the
layers that keep float weights.

The quantized model is saved without the float run's optimizer state (Adam's
two moments per weight, twice the weights' own size, useless for integer
weights): its file holds the model alone. `float_model_bytes` is the float
model's file without that state too, the fair size to compare with;
`float_file_bytes` is the run's own file.
"""

from __future__ import annotations

import os

from multimodal_tf.choices import QUANTIZATION_MODES
from multimodal_tf.files import write_atomically, write_json
from multimodal_tf.runs.evaluation import evaluate_subsets, test_split
from multimodal_tf.runs.folder import METRICS_FILE, MODEL_FILE
from multimodal_tf.runs.loading import load_run
from multimodal_tf.runs.models import text_preprocessor_for
from multimodal_tf.validation import check_choice


def quantize_run(
    path: str, mode: str, output: str, *, data_dir: str | None = None, split: str = "test"
) -> dict:
    """Writes `output`, a new run folder holding `path`'s model quantized to `mode`.

    Args:
        path: a finished run folder (or its model.keras).
        mode: `"int8"`, `"int4"` or `"float8"` (`models.quantize_model`).
        output: the new run folder; it must not exist yet.
        data_dir: the TFDS data folder to score on (None: the run's own).
        split: the split both models are scored on, per modality subset.

    Returns:
        The new run's `"quantization"` record (see the module doc).

    Raises:
        ValueError: `output` exists, `mode` is unsupported, or the run is
            quantized already (a quantized run is not quantized twice).
    """
    from multimodal_tf.models.quantize import quantize_model

    mode = check_choice("mode", mode, QUANTIZATION_MODES)
    output = os.fspath(output)
    if os.path.exists(output):
        raise ValueError(f"`output` {output!r} exists already; name a new run folder.")
    model, metrics, config = load_run(path, data_dir)
    if metrics.get("quantization"):
        raise ValueError(
            f"`path` {path!r} is a run quantized already "
            f"({metrics['quantization']['mode']}); quantize the float run, once."
        )
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    float_accuracy = evaluate_subsets(model, config, preprocessor, split)
    _drop_optimizer_state(model)
    float_model_bytes = _saved_size(model)
    report = quantize_model(model, mode)
    accuracy = evaluate_subsets(model, config, preprocessor, split)
    os.makedirs(output)  # only now: a refused or interrupted quantization leaves no folder
    float_path = path if os.path.basename(path) != MODEL_FILE else os.path.dirname(path)
    if "tabular" in config.modalities:  # the float run's FeatureSpace, which load_run read
        from multimodal_tf.runs.user_data import tabular_encoding

        tabular_encoding(config).save(output)
    model_path = os.path.join(output, MODEL_FILE)
    write_atomically(model_path, model.save)
    record = {
        "mode": report.mode,
        "float_run": os.path.abspath(float_path),
        "split": test_split(config, split),
        "file_bytes": os.path.getsize(model_path),
        "float_file_bytes": os.path.getsize(os.path.join(float_path, MODEL_FILE)),
        "float_model_bytes": float_model_bytes,
        "accuracy": accuracy,
        "float_accuracy": float_accuracy,
        "layers_quantized": len(report.quantized),
        "kept_float": report.kept_float,
    }
    write_json(os.path.join(output, METRICS_FILE), {**metrics, "quantization": record})
    return record


def _drop_optimizer_state(model) -> None:
    """Compiles `model` again with a fresh copy of its optimizer (no variables until it trains)
    and the same loss, so that saving it writes the model alone."""
    import keras

    from multimodal_tf.models.heads import head_metrics

    fresh = keras.optimizers.deserialize(keras.optimizers.serialize(model.optimizer))
    model.compile(optimizer=fresh, loss=model.loss, metrics=head_metrics(model, model.loss))


def _saved_size(model) -> int:
    """The bytes of `model`'s `.keras` file (written to a temporary folder, then removed)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        return os.path.getsize(path)
