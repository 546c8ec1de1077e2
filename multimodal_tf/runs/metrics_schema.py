"""The schema of a run's `metrics.json`: every field, its type and when it is required.

`check_metrics(metrics, path)` checks a metrics.json field by field against
one table (`FIELDS` for the top level; `config`'s fields are typed by the
`RunConfig` dataclass itself, so a new option is checked without an entry
here) and reports every bad field, one line each:

    …/metrics.json: field 'config.data_dir' must be a string or null, got 123.

Fields this table does not know are left alone (a newer version may add
some); known ones are checked wherever they appear, required ones only
where the run's modalities need them.
"""

from __future__ import annotations

import dataclasses
import json
import math

from multimodal_tf.pretrained import PACKAGED_MINILM


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return (_integer(value) or isinstance(value, float)) and math.isfinite(value)


def _numbers(value) -> bool:
    return isinstance(value, list) and all(_number(item) for item in value)


def strings(value, least: int = 0) -> bool:
    """Whether `value` is a list of at least `least` strings."""
    return (
        isinstance(value, list)
        and len(value) >= least
        and all(isinstance(item, str) for item in value)
    )


def _accuracies(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(name, str) and _number(share) and 0 <= share <= 1
        for name, share in value.items()
    )


def _errors(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(name, str)
        and isinstance(errors, dict)
        and set(errors) == {"mae", "rmse"}
        and all(_number(error) and error >= 0 for error in errors.values())
        for name, errors in value.items()
    )


@dataclasses.dataclass(frozen=True)
class Field:
    """One field: `check(value)` is True for a good value; `required` names when it must be there
    (`"always"`, a modality, a task, or None: optional)."""

    name: str
    check: object
    expected: str
    required: str | None = None


FIELDS = (
    Field("config", lambda v: isinstance(v, dict), "an object with the run's options", "always"),
    Field(
        "task", lambda v: v in ("classification", "regression"), "'classification' or 'regression'"
    ),
    Field(
        "class_names",
        lambda v: strings(v, 2),
        "a list of two or more class names",
        "classification",
    ),
    Field(
        "image_shape",
        lambda v: isinstance(v, list) and len(v) == 3 and all(_integer(d) and d > 0 for d in v),
        "[height, width, channels], positive integers",
        "image",
    ),
    Field("num_features", lambda v: _integer(v) and v > 0, "a positive integer", "sequence"),
    Field("tabular_columns", lambda v: strings(v, 1), "a list of column names", "tabular"),
    Field("tabular_features", lambda v: _integer(v) and v > 0, "a positive integer", "tabular"),
    Field(
        "text_checkpoint",
        lambda v: isinstance(v, str),
        f"the text checkpoint's folder, or {PACKAGED_MINILM!r}",
        "text",
    ),
    Field("feature_mean", _numbers, "a list of numbers"),
    Field("feature_variance", _numbers, "a list of numbers"),
    Field("dataset_version", lambda v: isinstance(v, str), "a version string such as '2.0.0'"),
    Field("parameters", lambda v: _integer(v) and v >= 0, "a count of parameters"),
    Field("epochs_trained", lambda v: _integer(v) and v >= 0, "a count of epochs"),
    Field("train_seconds", lambda v: _number(v) and v >= 0, "a number of seconds"),
    Field("feature_seconds", lambda v: _number(v) and v >= 0, "a number of seconds"),
    Field("precision", lambda v: isinstance(v, str), "a dtype policy name"),
    Field("jit_compile", lambda v: isinstance(v, (bool, str)), "true, false or 'auto'"),
    Field("strategy", lambda v: isinstance(v, str), "a strategy's name"),
    Field("replicas", lambda v: _integer(v) and v > 0, "a positive integer"),
    Field("feature_cache", lambda v: isinstance(v, bool), "true or false"),
    Field(
        "history",
        lambda v: isinstance(v, dict) and all(_numbers(values) for values in v.values()),
        "an object of metric name to a list of numbers",
    ),
    Field("test_accuracy", _accuracies, "an object of subset name to an accuracy in [0, 1]"),
    Field("validation_accuracy", _accuracies, "an object of subset name to an accuracy in [0, 1]"),
    Field(
        "validation_accuracy_by_artist",
        lambda v: isinstance(v, dict) and all(_accuracies(scores) for scores in v.values()),
        "an object of artist to {subset name: accuracy in [0, 1]}",
    ),
    Field("test_error", _errors, "an object of subset name to {'mae': ..., 'rmse': ...}"),
    Field("validation_error", _errors, "an object of subset name to {'mae': ..., 'rmse': ...}"),
    Field("target_mean", _number, "a number"),
    Field("target_std", lambda v: _number(v) and v >= 0, "a number at least 0"),
    Field("machine", lambda v: isinstance(v, str), "a description of the machine"),
    Field("keras", lambda v: isinstance(v, str), "a Keras version string"),
    Field("quantization", lambda v: isinstance(v, dict), "an object (the quantization record)"),
    Field("tuner", lambda v: isinstance(v, str), "a tuner's name"),
    Field("best_hyperparameters", lambda v: isinstance(v, dict), "an object"),
    Field("leaderboard", lambda v: isinstance(v, list), "a list of trials"),
)

MISSING = object()  # a field that is not there

# The JSON values a `RunConfig` annotation allows (tuples are JSON lists).
_JSON_TYPES = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "int": ("an integer", _integer),
    "float": ("a number", _number),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "tuple": ("a list", lambda v: isinstance(v, list)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "dict": ("an object", lambda v: isinstance(v, dict)),
    "None": ("null", lambda v: v is None),
}


def config_type_errors(saved: dict, config_class) -> list:
    """`(field, expected, value)` for each of `saved`'s options whose JSON type
    `config_class`'s annotation does not allow (unknown options are left to the caller)."""
    errors = []
    for field in dataclasses.fields(config_class):
        if field.name not in saved:
            continue
        names = [name.strip() for name in str(field.type).split("|")]
        if not all(name in _JSON_TYPES for name in names):
            continue  # a type this table cannot check as JSON
        value = saved[field.name]
        if not any(_JSON_TYPES[name][1](value) for name in names):
            expected = " or ".join(dict.fromkeys(_JSON_TYPES[name][0] for name in names))
            errors.append((f"config.{field.name}", expected, value))
    return errors


def field_errors(metrics: dict, modalities) -> list:
    """`(field, expected, value)` for each bad or missing field of the top level."""
    errors = []
    task = metrics.get("task", "classification")
    for field in FIELDS:
        needed = field.required in ("always", task) or (
            field.required is not None and field.required in (modalities or ())
        )
        if field.name not in metrics:
            if needed:
                errors.append((field.name, field.expected, MISSING))
            continue
        value = metrics[field.name]
        if value is None and not needed and field.name in ("text_checkpoint", "class_names"):
            continue  # a run without text records null, a regression run null classes
        if not field.check(value):
            errors.append((field.name, field.expected, value))
    return errors


def describe(errors: list, path: str) -> str:
    """One line per bad field: `<path>: field 'x' must be <expected>, got <value>.`"""
    return "\n".join(
        f"{path}: field {name!r} must be {expected}, got {_shorten(value)}."
        for name, expected, value in errors
    )


def _shorten(value) -> str:
    text = "nothing (the field is missing)" if value is MISSING else json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
