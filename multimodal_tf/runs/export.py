"""Export a trained run: for serving (SavedModel) and for mobile (TFLite).

`export_savedmodel(run, path)` writes a TensorFlow SavedModel whose
`serving_default` signature takes what a client has, not what the model
eats: images as uint8 pixels, sequences as floats, texts as raw strings,
and for the multimodal model a `<modality>_present` flag per example. The
scaling and the WordPiece tokenisation run inside the graph, so TF Serving
(or `tf.saved_model.load`) needs nothing of this library. Models with text
use TensorFlow Text's ops: `import tensorflow_text` before
`tf.saved_model.load`, and serve them with a TF Serving build that has those
ops. A run with tabular columns (`train --data`) takes one raw input per
column (numbers float32, NaN where unknown; categories strings, "" where
unknown) and encodes them with its FeatureSpace in the graph. A
classifier's signature returns `probabilities`, `class_id` and
`class_name`; a regression run's (`train --task regression`) `value`.

`export_tflite(run, path, quantize=...)` writes the document's CNN or LSTM
as a TFLite model, float or post-training int8 (§5.1.4's compression), and
`tflite_accuracy` scores it on the real test split.

Example (a trained run folder assumed; tests/test_export.py runs it)::

    export_savedmodel("saved_models/twemoji", "exported/twemoji/1")
    import tensorflow_text  # the tokeniser's ops, for models with text
    serve = tf.saved_model.load("exported/twemoji/1").signatures["serving_default"]
    serve(image=tf.zeros([1, 64, 64, 3], tf.uint8), text=tf.constant(["red apple"]),
          image_present=tf.constant([0.0]), text_present=tf.constant([1.0]))["probabilities"]
"""

from __future__ import annotations

import dataclasses
import os
import tempfile

import keras
import tensorflow as tf

from multimodal_tf.choices import USER_DATASET
from multimodal_tf.console import Progress
from multimodal_tf.data.pipeline import load_split
from multimodal_tf.files import check_writable, write_atomically
from multimodal_tf.runs.evaluation import run_split, test_split
from multimodal_tf.runs.loading import check_run, load_run
from multimodal_tf.runs.models import text_preprocessor_for
from multimodal_tf.runs.tabular_inputs import encode_served, tabular_specs
from multimodal_tf.runs.user_data import tabular_encoding, user_splits


def raw_input_specs(config, metrics) -> dict:
    """The serving signature's inputs: name → `tf.TensorSpec` of the raw data."""
    specs = {}
    for modality in config.modalities:
        if modality == "image":
            specs["image"] = tf.TensorSpec([None, *metrics["image_shape"]], tf.uint8, name="image")
        elif modality == "sequence":
            specs["sequence"] = tf.TensorSpec(
                [None, None, metrics["num_features"]], tf.float32, name="sequence"
            )
        elif modality == "tabular":  # one raw input per column
            specs.update(tabular_specs(metrics))
        else:
            specs["text"] = tf.TensorSpec([None], tf.string, name="text")
        if config.kind == "multimodal":
            name = f"{modality}_present"
            specs[name] = tf.TensorSpec([None], tf.float32, name=name)
    return specs


def raw_to_model_inputs(raw: dict, config, preprocessor, metrics=None):
    """Scales images, tokenises texts and encodes tabular columns in the graph: what the model
    takes (`metrics`: the run's, where it has tabular columns)."""
    features = {}
    tabular = "tabular" in config.modalities
    if tabular:
        features["tabular"] = encode_served(raw, config, metrics)
        raw = {name: value for name, value in raw.items() if name not in tabular_specs(metrics)}
    for name, value in raw.items():
        if name == "image":
            features["image"] = tf.cast(value, tf.float32) / 255.0
        elif name == "text":
            tokens = preprocessor(value)
            features.update({key: tf.cast(tensor, tf.int32) for key, tensor in tokens.items()})
        elif name == "sequence":  # garbage is refused, not turned into a prediction
            features[name] = tf.debugging.assert_all_finite(
                value, "`sequence` contains NaN or infinity"
            )
        else:
            with tf.control_dependencies(
                [
                    tf.debugging.Assert(
                        tf.reduce_all((value == 0.0) | (value == 1.0)),
                        [f"`{name}` must be 0 or 1; got", value],
                    )
                ]
            ):
                features[name] = tf.identity(value)
    if config.kind == "classifier" and config.modalities[0] != "text":
        return features[config.modalities[0]]
    return features


def export_savedmodel(run_path: str, path: str) -> str:
    """Writes a run's model as a SavedModel with a raw-input serving signature.

    Args:
        run_path: a run folder written by `multimodal-tf train` or `tune`.
        path: the SavedModel folder to write (e.g. `exported/name/1` for TF
            Serving's version folders).

    Returns:
        `path`.

    Raises:
        ValueError: `run_path` is not a run folder, or `path` exists and is
            not empty.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"`path` {path!r} is an existing file; a SavedModel is a folder: choose a new one."
        )
    if os.path.isdir(path) and os.listdir(path):
        raise ValueError(f"`path` {path!r} exists and is not empty; choose a new folder.")
    check_run(run_path)  # cheap checks first: the model takes seconds to load
    try:
        check_writable(path)
    except OSError as error:
        raise ValueError(f"cannot write the SavedModel to {path!r}: {error.strerror}") from None
    model, metrics, config = load_run(run_path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    regression = metrics.get("task") == "regression"
    class_names = None if regression else tf.constant(metrics["class_names"])

    def serve(raw):
        outputs = model(raw_to_model_inputs(raw, config, preprocessor, metrics), training=False)
        if regression:
            return {"value": outputs[:, 0]}
        probabilities = outputs
        class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "probabilities": probabilities,
            "class_id": class_id,
            "class_name": tf.gather(class_names, class_id),
        }

    archive = keras.export.ExportArchive()
    archive.track(model)
    if preprocessor is not None:
        preprocessor(tf.constant(["build"]))  # builds its vocabulary tables for tracking
        archive.track(preprocessor)
    if "tabular" in config.modalities:  # its lookup tables and normalisation statistics
        archive.track(tabular_encoding(config).feature_space)
    archive.add_endpoint("serve", serve, input_signature=[raw_input_specs(config, metrics)])
    try:  # to a folder beside it, renamed when whole
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write_atomically(path, lambda temporary: archive.write_out(temporary, verbose=False))
    except tf.errors.OpError as error:  # TensorFlow's own file errors (a read-only folder)
        raise ValueError(f"cannot write the SavedModel to {path!r}: {error.message}") from None
    except OSError as error:  # Python's (making the folder, the rename)
        raise ValueError(f"cannot write the SavedModel to {path!r}: {error.strerror}") from None
    return path


TFLITE_FORMATS = ("tflite", "tflite-int8")
# TFLite takes the LSTM unrolled, one copy of the cell per time step: the
# converter's time and memory grow with the steps (100,000 steps ran past 10
# minutes and 10 GB). The datasets' longest sequence has 29 steps.
MAX_TFLITE_SEQUENCE_LENGTH = 512


def _tflite_input(config, metrics, sequence_length):
    modality = config.modalities[0]
    if config.kind != "classifier" or modality == "text":
        raise ValueError(
            "TFLite export takes the document's CNN or LSTM classifier runs (image or sequence); "
            f"this run is a {config.kind} over {', '.join(config.modalities)}: export it as a "
            "SavedModel."
        )
    if modality == "image":
        return tf.TensorSpec([1, *metrics["image_shape"]], tf.float32, name="image")
    if sequence_length is None:
        raise ValueError(
            "`sequence_length` (time steps, shorter sequences padded) is needed for a sequence "
            "model."
        )
    if sequence_length > MAX_TFLITE_SEQUENCE_LENGTH:
        raise ValueError(
            f"`sequence_length` {sequence_length} is over {MAX_TFLITE_SEQUENCE_LENGTH}: TFLite "
            "runs the LSTM "
            "unrolled, one cell per time step, and the conversion grows with them. Export a "
            "SavedModel for "
            "longer sequences."
        )
    return tf.TensorSpec([1, sequence_length, metrics["num_features"]], tf.float32, name="sequence")


def tflite_examples(config, split: str, sequence_length: int | None, data_dir=None):
    """One-example float inputs of a split, shaped as the TFLite model takes them."""
    dataset = _examples(config, split, data_dir)
    for inputs, label in dataset:
        if config.modalities[0] == "sequence":
            steps = int(inputs.shape[1])
            if steps > sequence_length:
                raise ValueError(
                    f"a {split} sequence has {steps} steps, more than `sequence_length` "
                    f"{sequence_length}."
                )
            # Padded with 0.0, the mask value every run of this library trains with.
            inputs = tf.pad(inputs, [[0, 0], [0, sequence_length - steps], [0, 0]])
        yield tf.cast(inputs, tf.float32), int(label[0])


def longest_sequence(config, data_dir=None) -> int:
    """The most time steps of any sequence of the dataset (all its splits)."""
    splits = user_splits(config) if config.dataset == USER_DATASET else ("train+test",)
    return max(
        int(inputs.shape[1]) for split in splits for inputs, _ in _examples(config, split, data_dir)
    )


def _examples(config, split: str, data_dir):
    """A split one example at a time, as the single-input classifiers take it."""
    if config.dataset == USER_DATASET:  # the run's own files
        return run_split(dataclasses.replace(config, batch_size=1), split, None)
    return load_split(config.dataset, split, batch_size=1, data_dir=data_dir, presence=False)


def export_tflite(
    run_path: str,
    path: str,
    *,
    quantize: bool = False,
    sequence_length: int | None = None,
    data_dir: str | None = None,
    representative_examples: int = 300,
    overwrite: bool = False,
) -> dict:
    """Writes a CNN or LSTM run as a TFLite model, float or int8-quantised.

    Args:
        run_path: a run folder of an image or sequence classifier.
        path: the `.tflite` file to write.
        quantize: post-training int8 quantisation of weights and
            activations (float input and output), calibrated on
            `representative_examples` training examples from the pipeline.
        sequence_length: time steps of the sequence model's input (TFLite
            needs them fixed; None: the dataset's longest sequence). Shorter
            sequences are padded with the mask value, which the model masks.
        data_dir: the TFDS data folder (default: the one the run recorded).
        representative_examples: calibration examples for `quantize`.
        overwrite: replace an existing file at `path`.

    Returns:
        `{"path", "bytes", "sequence_length"}`.
    """
    if not path.endswith(".tflite"):
        raise ValueError(f"`path` must end with .tflite, got {path!r}.")
    if os.path.exists(path) and not overwrite:
        raise ValueError(
            f"`path` {path!r} exists; choose a new file name, or pass --overwrite to replace it."
        )
    check_run(run_path)  # cheap checks first: the model takes seconds to load
    check_writable(path)
    model, metrics, config = load_run(run_path, data_dir)
    if config.modalities == ("sequence",) and sequence_length is None:
        sequence_length = longest_sequence(config, config.data_dir)
    spec = _tflite_input(config, metrics, sequence_length)
    model = tflite_twin(model, sequence_length)
    with tempfile.TemporaryDirectory() as folder:
        # Through a SavedModel: the converter then freezes the weights into the file.
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serve", lambda inputs: model(inputs, training=False), input_signature=[spec]
        )
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            examples = tflite_examples(config, "train", sequence_length, config.data_dir)

            def representative():
                for _, (inputs, _) in zip(range(representative_examples), examples):
                    yield [inputs]

            converter.representative_dataset = representative
        blob = converter.convert()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def write(temporary):
        with open(temporary, "wb") as model_file:
            model_file.write(blob)

    write_atomically(path, write)
    return {"path": path, "bytes": len(blob), "sequence_length": sequence_length}


def tflite_twin(model, sequence_length: int | None = None):
    """The same model and weights as TFLite can take it: float32, recurrences unrolled.

    A model trained under `mixed_float16` or `mixed_bfloat16` computes in
    16-bit floats, which TFLite's builtins do not take (its Conv2D and
    SelectV2 refuse bfloat16). Its variables are float32 all the same, so
    a float32 twin built from the same config carries exactly its weights;
    it differs from the mixed model only by the 16-bit rounding the mixed
    model does. TFLite cannot run a Keras LSTM's while loop over resource
    variables either: with `sequence_length` given, recurrent layers are
    unrolled over those fixed time steps, which is plain TFLite builtins.

    Args:
        model: a trained Keras model (any dtype policy).
        sequence_length: fixed time steps of a sequence model's input.

    Returns:
        A new float32 `keras.Model` with `model`'s weights.
    """

    def clone(layer):
        config = layer.get_config()
        if "dtype" in config and layer.dtype_policy.name != "float32":
            config["dtype"] = "float32"
        if sequence_length is not None and isinstance(layer, keras.layers.RNN):
            config["unroll"] = True
        return layer.__class__.from_config(config)

    inputs = (
        None if sequence_length is None else keras.Input((sequence_length, model.input_shape[-1]))
    )
    twin = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    twin.set_weights(model.get_weights())
    return twin


def tflite_accuracy(
    tflite_path: str, run_path: str, split: str = "test", sequence_length=None, data_dir=None
) -> float:
    """Accuracy of a `.tflite` model on a run's dataset split, one example at a time.

    For `split="test"` these are the rows the run's `metrics.json` was scored
    on: its first `test_limit` test examples where it was trained with one.
    """
    _, _, config = load_run(run_path, data_dir)
    split = test_split(config, split)
    interpreter = tf.lite.Interpreter(model_path=tflite_path)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    correct = total = 0
    examples = tflite_examples(config, split, sequence_length, config.data_dir)
    with Progress("scoring the TFLite model", unit="examples") as progress:
        for inputs, label in examples:
            interpreter.set_tensor(input_index, inputs.numpy())
            interpreter.invoke()
            correct += int(interpreter.get_tensor(output_index)[0].argmax() == label)
            total += 1
            progress.update()
    return correct / total
