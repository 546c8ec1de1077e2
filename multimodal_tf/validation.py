"""Argument checks shared by every builder.

Each check raises a ``ValueError`` whose message names the offending argument,
the value it got and what it expected, so a bad call fails at the top of the
builder instead of deep inside TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(name: str, value, *, allow_none: bool = False):
    """Returns `value` when it is an integer > 0 (or None where allowed).

    Args:
        name: the argument's name, used in the error message.
        value: the value to check.
        allow_none: whether None is accepted.

    Returns:
        `value` as an `int` (or None).

    Raises:
        ValueError: `value` is not a positive integer.

    Example:
    >>> check_positive_int("num_classes", 10)
    10
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value <= 0:
        expected = "a positive integer" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {expected}, got {value!r}.")
    return int(value)


def check_positive_number(name: str, value, *, allow_none: bool = False):
    """Returns `value` as a float when it is a finite number > 0 (or None where allowed).

    NaN and infinity are refused: a learning rate of NaN trains a model whose
    every weight is NaN.
    """
    if value is None and allow_none:
        return None
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        expected = "a finite number > 0" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {expected}, got {value!r}.")
    return float(value)


def check_seed(value) -> int:
    """Returns `value` when it is a random seed numpy and TensorFlow take: an int in [0, 2**32)."""
    if not _is_int(value) or not 0 <= value < 2**32:
        raise ValueError(f"`seed` must be an integer from 0 to 2**32 - 1, got {value!r}.")
    return int(value)


def check_rate(name: str, value) -> float:
    """Returns `value` when it is a number in [0, 1)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1), got {value!r}.")
    return float(value)


def check_positive_int_tuple(name: str, value) -> tuple:
    """Returns `value` as a tuple when it is a sequence of positive integers."""
    if _is_int(value):
        value = (value,)
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or not value
        or not all(_is_int(v) and v > 0 for v in value)
    ):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of positive integers, got {value!r}."
        )
    return tuple(int(v) for v in value)


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """Returns `value` when it is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(c) for c in choices)}, got {value!r}."
        )
    return value


def check_utf8(name: str, text: str) -> str:
    """`text`, refused when it holds bytes that were not UTF-8.

    Python reads such bytes of a command line or file as lone surrogates
    (`surrogateescape`); TensorFlow would fail on them deep in a graph.

    Example:
    >>> check_utf8("text", "caf\\udce9")
    Traceback (most recent call last):
    ...
    ValueError: text 'caf\\udce9' is not valid UTF-8 (byte 0xe9 at character 3); \
give it in UTF-8.
    """
    for position, character in enumerate(text):
        if "\udc80" <= character <= "\udcff":
            raise ValueError(
                f"{name} {text!r} is not valid UTF-8 (byte 0x{ord(character) - 0xDC00:02x} at "
                f"character {position}); give it in UTF-8."
            )
    return text


def check_shape(name: str, value, *, rank: int):
    """Returns `value` as a tuple when it is a shape of `rank` positive ints.

    Args:
        name: the argument's name, used in the error message.
        value: the shape to check (without the batch dimension).
        rank: the number of dimensions expected.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"`{name}` must be a tuple of {rank} dimensions, got {value!r}.")
    if len(value) != rank:
        raise ValueError(
            f"`{name}` must have rank {rank} (a tuple of {rank} dimensions, "
            f"without the batch dimension), got {tuple(value)!r} of rank "
            f"{len(value)}."
        )
    if not all(_is_int(dim) and dim > 0 for dim in value):
        raise ValueError(f"`{name}` must contain positive integers, got {tuple(value)!r}.")
    return tuple(int(dim) for dim in value)


def check_config(name: str, config_class, value, *, also: str = ""):
    """Returns `value` as a `config_class` dataclass: given one, a dict of its fields, or None.

    Args:
        name: the argument's name, for messages.
        config_class: the dataclass to build.
        value: None (returned as is), a `config_class`, or a dict of its fields.
        also: other accepted values the caller handled first, for the message
            (e.g. `"True"`).

    Raises:
        ValueError: an unknown field (the message lists the fields) or another type.
    """
    if value is None or isinstance(value, config_class):
        return value
    if isinstance(value, dict):
        try:
            return config_class(**value)
        except TypeError as error:
            fields = ", ".join(field.name for field in dataclasses.fields(config_class))
            raise ValueError(
                f"`{name}` has an unknown field ({error}); {config_class.__name__} takes: {fields}."
            ) from None
    accepted = ", ".join(["None", *([also] if also else []), "a dict"])
    article = "an" if config_class.__name__[0] in "AEIOU" else "a"
    raise ValueError(
        f"`{name}` must be {accepted} or {article} {config_class.__name__}, "
        f"got {type(value).__name__}."
    )
