"""Export a trained run for serving: a SavedModel that takes raw inputs.

`export_savedmodel(run, path)` writes a TensorFlow SavedModel whose
`serving_default` signature takes what a client has, not what the model
eats: images as uint8 pixels, sequences as floats, texts as raw strings,
and for the multimodal model a `<modality>_present` flag per example. The
scaling and the WordPiece tokenisation run inside the graph, so TF Serving
(or `tf.saved_model.load`) needs nothing of this library. Models with text
use TensorFlow Text's ops: `import tensorflow_text` before
`tf.saved_model.load`, and serve them with a TF Serving build that has those
ops.

Example:
>>> export_savedmodel("saved_models/twemoji", "exported/twemoji/1")
>>> import tensorflow_text  # the tokeniser's ops, for models with text
>>> serve = tf.saved_model.load("exported/twemoji/1").signatures["serving_default"]
>>> serve(image=tf.zeros([1, 64, 64, 3], tf.uint8), text=tf.constant(["red apple"]),
...       image_present=tf.constant([0.0]), text_present=tf.constant([1.0]))["probabilities"]
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from multimodal_tf.runs import load_run, text_preprocessor_for


def raw_input_specs(config, metrics) -> dict:
    """The serving signature's inputs: name → `tf.TensorSpec` of the raw data."""
    specs = {}
    for modality in config.modalities:
        if modality == "image":
            specs["image"] = tf.TensorSpec([None, *metrics["image_shape"]], tf.uint8, name="image")
        elif modality == "sequence":
            specs["sequence"] = tf.TensorSpec([None, None, metrics["num_features"]], tf.float32, name="sequence")
        else:
            specs["text"] = tf.TensorSpec([None], tf.string, name="text")
        if config.kind == "multimodal":
            name = f"{modality}_present"
            specs[name] = tf.TensorSpec([None], tf.float32, name=name)
    return specs


def raw_to_model_inputs(raw: dict, config, preprocessor):
    """Scales images and tokenises texts in the graph: what the model takes."""
    features = {}
    for name, value in raw.items():
        if name == "image":
            features["image"] = tf.cast(value, tf.float32) / 255.0
        elif name == "text":
            tokens = preprocessor(value)
            features.update({key: tf.cast(tensor, tf.int32) for key, tensor in tokens.items()})
        else:
            features[name] = value
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
    if os.path.isdir(path) and os.listdir(path):
        raise ValueError(f"`path` {path!r} exists and is not empty; choose a new folder.")
    model, metrics, config = load_run(run_path)
    preprocessor = text_preprocessor_for(config, metrics.get("text_checkpoint"))
    class_names = tf.constant(metrics["class_names"])

    def serve(raw):
        probabilities = model(raw_to_model_inputs(raw, config, preprocessor), training=False)
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
    archive.add_endpoint("serve", serve, input_signature=[raw_input_specs(config, metrics)])
    archive.write_out(path, verbose=False)
    return path
