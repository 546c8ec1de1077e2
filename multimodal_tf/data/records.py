"""One record's checks: each bad value raises `BadRecordError` naming the record and the field."""

from __future__ import annotations

import math
import numbers

import numpy as np


class BadRecordError(ValueError):
    """A record that cannot be used; the message names its index and field."""


class Unreadable:
    """Stands for an image file that could not be read, so the record is bad."""

    def __init__(self, message: str):
        self.message = message


def is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return False


def check_image(index, value, image_shape):
    if isinstance(value, Unreadable):
        raise BadRecordError(f"record {index}, field 'image': {value.message}")
    image = np.asarray(value)
    if image.ndim == 2:
        image = image[..., None]
    if image_shape is not None and image.shape != tuple(image_shape):
        raise BadRecordError(
            f"record {index}, field 'image': shape {image.shape}, expected {tuple(image_shape)}."
        )
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if not np.issubdtype(image.dtype, np.floating):
        raise BadRecordError(
            f"record {index}, field 'image': dtype {image.dtype}, expected uint8 or float in "
            "[0, 1]."
        )
    if not np.all(np.isfinite(image)):
        raise BadRecordError(f"record {index}, field 'image': contains NaN or infinity.")
    if image.min() < 0.0 or image.max() > 1.0:
        raise BadRecordError(
            f"record {index}, field 'image': float values in [{image.min():g}, {image.max():g}], "
            "expected [0, 1] (or uint8 pixels)."
        )
    return image.astype(np.float32)


def check_sequence(where: str, value, num_features, mask_value):
    """A sequence as float32 `(time, features)`, or BadRecordError naming `where` ("record 3")."""
    try:
        sequence = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise BadRecordError(f"{where}, field 'sequence': not numeric.") from None
    if sequence.ndim != 2 or sequence.shape[0] == 0:
        raise BadRecordError(
            f"{where}, field 'sequence': shape {sequence.shape}, expected (time >= 1, features)."
        )
    if num_features is not None and sequence.shape[1] != num_features:
        raise BadRecordError(
            f"{where}, field 'sequence': {sequence.shape[1]} features, expected {num_features}."
        )
    if not np.all(np.isfinite(sequence)):
        step = int(np.argwhere(~np.isfinite(sequence))[0][0])
        raise BadRecordError(f"{where}, field 'sequence': NaN or infinity at time step {step}.")
    masked = np.all(sequence == mask_value, axis=1)
    if np.any(masked):
        raise BadRecordError(
            f"{where}, field 'sequence': time step {int(np.argmax(masked))} equals mask_value "
            f"({mask_value}) in every feature and would be skipped as padding; use another "
            "mask_value."
        )
    return sequence


def check_text(index, value):
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRecordError(
                f"record {index}, field 'text': bytes that are not UTF-8."
            ) from None
    if not isinstance(value, str):
        raise BadRecordError(
            f"record {index}, field 'text': {type(value).__name__}, expected a string."
        )
    return value


def check_label(index, value, num_classes):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (numbers.Real, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise BadRecordError(
                f"record {index}, field 'label': {value!r} ({type(value).__name__}), "
                "expected an integer class id."
            )
    if value < 0 or (num_classes is not None and value >= num_classes):
        expected = f"0..{num_classes - 1}" if num_classes is not None else ">= 0"
        raise BadRecordError(f"record {index}, field 'label': {value}, expected {expected}.")
    return int(value)
