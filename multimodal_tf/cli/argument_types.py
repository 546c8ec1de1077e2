"""Argument types of the command line: each turns a string into a checked value.

A bad value raises `argparse.ArgumentTypeError` with what was expected and
what was given, which argparse prints as a usage error (exit code 2).
"""

from __future__ import annotations

import argparse
import math


def learning_rate(text):
    value = number(text)
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(
            "must be a finite number > 0 and at most 1 (Adam's useful rates are about 1e-5 to "
            f"1e-2), got {text}"
        )
    return value


def rate(text):
    value = number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return value


def non_negative(text):
    value = number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def seed(text):
    value = integer(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**32 - 1, got {text}")
    return value


def number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def positive_int(text):
    value = integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_int_list(text):
    return tuple(positive_int(part.strip()) for part in text.split(",") if part.strip())


def augmentation(text):
    """`on`, `off`, or `FIELD=VALUE` pairs that override `ImageAugmentation`'s defaults."""
    if text in ("on", "off"):
        return text == "on"
    fields = {}
    for pair in text.split(","):
        name, equals, value = (part.strip() for part in pair.partition("="))
        if not (name and equals and value):
            raise argparse.ArgumentTypeError(
                "must be on, off, or FIELD=VALUE pairs separated by commas (fields of "
                f"models.augmentation.ImageAugmentation, e.g. hue=0.5,grayscale=0.2), got {text!r}"
            )
        fields[name] = _scalar(value)
    return fields


def _scalar(text):
    """`true`/`false`, an integer, a number, or the text itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
