"""Loading a run folder: `model.keras` and `metrics.json`, checked against each other."""

from __future__ import annotations

import dataclasses
import json
import os

from multimodal_tf.pretrained import resolve_checkpoint
from multimodal_tf.runs.config import RunConfig
from multimodal_tf.runs.folder import METRICS_FILE, MODEL_FILE
from multimodal_tf.runs.metrics_schema import (
    config_type_errors,
    describe,
    field_errors,
    strings,
)


def load_run(path: str, data_dir: str | None = None) -> tuple:
    """Loads a run folder (or its model.keras): `(model, metrics, config)`.

    `metrics.json` and `model.keras` are checked against each other: the
    classes against the model's outputs, the image shape, sequence width
    and text length against its inputs.

    Args:
        path: the run folder, or its `model.keras`.
        data_dir: the TFDS data folder `config` then names, instead of the
            one the run recorded (None: the recorded one).

    Raises:
        ValueError: not a run folder, or a file that is unreadable or does
            not match the other; the message names the file and the field.
    """
    folder, metrics, config = check_run(path)
    from multimodal_tf.saving import load_model

    metrics_path = os.path.join(folder, METRICS_FILE)
    model = load_model(os.path.join(folder, MODEL_FILE))
    _check_model_matches(model, metrics, config, metrics_path)
    if "tabular" in config.modalities:  # the FeatureSpace fitted in training, not a new one
        from multimodal_tf.runs.user_data import use_saved_encoding

        use_saved_encoding(config, folder)
    if data_dir is not None:
        config = dataclasses.replace(config, data_dir=data_dir)
    return model, metrics, config


def check_run(path: str) -> tuple:
    """The cheap part of `load_run`: `(folder, metrics, config)`, the model not loaded.

    The folder holds `model.keras` and `metrics.json`, and metrics.json
    passes its schema (`runs.metrics_schema`): commands check this, and
    their other inputs, before the model takes seconds to load.

    Raises:
        ValueError: not a run folder, or a bad metrics.json (one line per bad field).
    """
    folder = os.path.dirname(path) if os.path.basename(path) == MODEL_FILE else path
    folder = folder.rstrip("/") or "."
    model_path, metrics_path = os.path.join(folder, MODEL_FILE), os.path.join(folder, METRICS_FILE)
    if not (os.path.isfile(model_path) and os.path.isfile(metrics_path)):
        raise ValueError(
            f"{path!r} is not a run folder: expected {MODEL_FILE} and {METRICS_FILE} in {folder!r}."
        )
    metrics, config = _read_metrics(metrics_path)
    return folder, metrics, config


def _read_metrics(metrics_path: str) -> tuple:
    """`(metrics, RunConfig)` from a metrics.json, every field checked (`runs.metrics_schema`).

    Raises:
        ValueError: one line per bad field, naming the file and the field.
    """
    try:
        with open(metrics_path, encoding="utf-8") as metrics_file:
            metrics = json.load(metrics_file)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{metrics_path} is not valid JSON: {error}") from None
    if not isinstance(metrics, dict):
        raise ValueError(f"{metrics_path} must hold a JSON object, got {type(metrics).__name__}.")
    saved = metrics.get("config")
    modalities = saved.get("modalities") if isinstance(saved, dict) else None
    errors = field_errors(metrics, modalities if strings(modalities, 1) else None)
    if isinstance(saved, dict):
        saved = {key: value for key, value in saved.items() if key != "kind"}
        errors += config_type_errors(saved, RunConfig)
        if not strings(modalities, 1) and "config.modalities" not in (e[0] for e in errors):
            errors.append(("config.modalities", "a list of modality names", modalities))
    if errors:
        raise ValueError(describe(errors, metrics_path))
    saved.setdefault("augmentation", False)  # a run recorded before the option trained without it
    try:
        config = RunConfig(**{**saved, "modalities": tuple(saved["modalities"])})
    except TypeError as error:
        raise ValueError(
            f"{metrics_path}: field 'config' has an unknown option ({error})."
        ) from None
    except ValueError as error:
        raise ValueError(f"{metrics_path}: field 'config': {error}") from None
    if "text" in config.modalities:
        metrics = {
            **metrics,
            "text_checkpoint": resolve_checkpoint(
                metrics["text_checkpoint"], f"{metrics_path}: field 'text_checkpoint'"
            ),
        }
    return metrics, config


MODALITY_INPUT = {"token_ids": "text"}


def _check_model_matches(model, metrics: dict, config: RunConfig, metrics_path: str):
    """metrics.json describes `model`: classes, image shape, sequence width, text length."""

    def mismatch(field, saved, actual):
        return ValueError(
            f"{metrics_path}: field {field!r} is {saved!r}, but the run's {MODEL_FILE} has "
            f"{actual!r}: "
            "the two files do not belong together."
        )

    from multimodal_tf.models.heads import is_regressor

    outputs = model.output_shape[-1]
    if metrics.get("task") == "regression":
        if outputs != 1 or not is_regressor(model):
            raise mismatch("task", "regression (one output)", f"{outputs} class outputs")
    elif outputs != len(metrics["class_names"]):
        raise mismatch(
            "class_names", f"{len(metrics['class_names'])} classes", f"{outputs} outputs"
        )
    inputs = {tensor.name.split(":")[0]: tuple(tensor.shape[1:]) for tensor in model.inputs}
    if len(inputs) == 1 and config.kind == "classifier" and config.modalities[0] != "text":
        inputs = {config.modalities[0]: next(iter(inputs.values()))}
    expected = set(config.modalities)
    if (
        set(MODALITY_INPUT.get(name, name) for name in inputs)
        - {"padding_mask", "segment_ids"}
        - {f"{m}_present" for m in expected}
        != expected
    ):
        raise mismatch("config.modalities", sorted(expected), sorted(inputs))
    if "image" in inputs and list(inputs["image"]) != metrics.get("image_shape"):
        raise mismatch("image_shape", metrics.get("image_shape"), list(inputs["image"]))
    if "sequence" in inputs and inputs["sequence"][-1] != metrics.get("num_features"):
        raise mismatch("num_features", metrics.get("num_features"), inputs["sequence"][-1])
    if "token_ids" in inputs and inputs["token_ids"][0] != config.text_length:
        raise mismatch("config.text_length", config.text_length, inputs["token_ids"][0])
