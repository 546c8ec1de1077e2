"""Argument checks shared by every builder.

Each check raises a ``ValueError`` whose message names the offending argument,
the value it got and what it expected, so a bad call fails at the top of the
builder instead of deep inside TensorFlow.
"""

from __future__ import annotations

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


def check_rate(name: str, value, *, upper_inclusive: bool = False) -> float:
    """Returns `value` when it is a number in [0, 1) (or [0, 1])."""
    upper_ok = value <= 1 if upper_inclusive else value < 1
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not (
        0 <= value and upper_ok
    ):
        bound = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"`{name}` must be a number in {bound}, got {value!r}.")
    return float(value)


def check_positive_int_tuple(name: str, value, *, min_length: int = 1) -> tuple:
    """Returns `value` as a tuple when it is a sequence of positive integers."""
    if _is_int(value):
        value = (value,)
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or len(value) < min_length
        or not all(_is_int(v) and v > 0 for v in value)
    ):
        raise ValueError(
            f"`{name}` must be a sequence of at least {min_length} positive "
            f"integer(s), got {value!r}."
        )
    return tuple(int(v) for v in value)


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """Returns `value` when it is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(c) for c in choices)}, "
            f"got {value!r}."
        )
    return value


def check_shape(name: str, value, *, rank: int, allow_none_first: bool = False):
    """Returns `value` as a tuple when it is a shape of `rank` positive ints.

    Args:
        name: the argument's name, used in the error message.
        value: the shape to check (without the batch dimension).
        rank: the number of dimensions expected.
        allow_none_first: whether the first dimension may be None (variable
            length sequences).
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(
            f"`{name}` must be a tuple of {rank} dimensions, got {value!r}."
        )
    if len(value) != rank:
        raise ValueError(
            f"`{name}` must have rank {rank} (a tuple of {rank} dimensions, "
            f"without the batch dimension), got {tuple(value)!r} of rank "
            f"{len(value)}."
        )
    for index, dim in enumerate(value):
        if index == 0 and allow_none_first and dim is None:
            continue
        if not _is_int(dim) or dim <= 0:
            raise ValueError(
                f"`{name}` must contain positive integers"
                + (" (the first may be None)" if allow_none_first else "")
                + f", got {tuple(value)!r}."
            )
    return tuple(None if d is None else int(d) for d in value)
