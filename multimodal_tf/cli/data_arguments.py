"""The `--data` flags of `train`, `tune` and `evaluate`: the user's own files (no TensorFlow).

`train --data train.csv --label species` (or `--data photos/`, one subfolder
per class) trains on the user's file instead of a built-in `--dataset`;
:func:`data_record` turns the flags into `RunConfig.data`
(`multimodal_tf.runs.user_data`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings

from multimodal_tf.choices import ON_BAD_RECORD, TASKS
from multimodal_tf.cli import argument_types

# The flags that only mean something with --data, by their `args` names.
DATA_ONLY = (
    "label",
    "validation",
    "test",
    "image_column",
    "text_column",
    "sequence_column",
    "numeric_columns",
    "categorical_columns",
    "ignore_columns",
    "cross",
    "image_size",
    "on_bad_record",
    "task",
    "test_fraction",
)


def image_size(text):
    """`64` (square) or `48,64` (height, width)."""
    size = argument_types.positive_int_list(text)
    if len(size) not in (1, 2):
        raise argparse.ArgumentTypeError(f"must be SIZE or HEIGHT,WIDTH, got {text!r}")
    return size * 2 if len(size) == 1 else size


def column_list(text):
    """`a,b,c`: column names, none empty."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"must be column names separated by commas, got {text!r}")
    return names


def column_pair(text):
    """`a,b`: two column names."""
    names = column_list(text)
    if len(names) != 2 or names[0] == names[1]:
        raise argparse.ArgumentTypeError(f"must be two column names, COLUMN,COLUMN, got {text!r}")
    return names


def add_data_arguments(parser):
    """`train` and `tune`'s flags for a user's file or image folder."""
    group = parser.add_argument_group(
        "your own data (instead of --dataset)",
        "a table with one row per example (image file paths, texts, .npy sequence paths and a "
        "label column) or an image folder with one subfolder per class",
    )
    group.add_argument(
        "--data",
        default=None,
        metavar="FILE_OR_FOLDER",
        help="train on this .csv, .tsv, .parquet or .jsonl file, or image folder (photos/<class>/)",
    )
    group.add_argument("--label", default=None, metavar="COLUMN", help="the label column")
    group.add_argument(
        "--validation",
        default=None,
        metavar="FILE",
        help="validation rows (default: --validation-fraction, 0.1, of --data, stratified, seeded)",
    )
    group.add_argument(
        "--test",
        default=None,
        metavar="FILE",
        help="test rows (default: --test-fraction of --data, stratified, seeded)",
    )
    group.add_argument(
        "--test-fraction",
        type=argument_types.rate,
        default=None,
        help="share of --data held out for test without --test (default: 0.1)",
    )
    for role, what in (
        ("image", "image file paths"),
        ("text", "texts"),
        ("sequence", ".npy sequence paths"),
    ):
        group.add_argument(
            f"--{role}-column",
            default=None,
            metavar="COLUMN",
            help=f"the column of {what} (default: inferred, and printed)",
        )
    for role, what in (
        ("numeric", "numbers (the tabular modality, normalised)"),
        ("categorical", "categories (the tabular modality, one-hot)"),
        ("ignore", "columns to leave out"),
    ):
        group.add_argument(
            f"--{role}-columns",
            type=column_list,
            default=None,
            metavar="COLUMN,...",
            help=f"{what} (default: inferred, and printed)",
        )
    group.add_argument(
        "--cross",
        type=column_pair,
        action="append",
        default=None,
        metavar="COLUMN,COLUMN",
        help="also feed the cross of two categorical columns (hashed into 32 one-hot slots); "
        "repeatable",
    )
    group.add_argument(
        "--image-size",
        type=image_size,
        default=None,
        metavar="SIZE",
        help="images are resized to SIZE or HEIGHT,WIDTH pixels (default: 64)",
    )
    group.add_argument(
        "--on-bad-record",
        choices=ON_BAD_RECORD,
        default=None,
        help="a bad row: stop with one line naming file, row and column (error, the default), "
        "or skip it and list it in the run's data.json",
    )
    group.add_argument(
        "--task",
        choices=TASKS,
        default=None,
        help="auto: a numeric label with many distinct values is a regression target, "
        "anything else classes; classification: every value is a class; regression: "
        "a number per row (MAE and RMSE reported)",
    )


def add_evaluate_data(parser):
    """`evaluate RUN --data FILE`."""
    parser.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="score this labelled file instead of a split (a run trained with --data: its "
        "columns and classes)",
    )


def data_record(args) -> dict | None:
    """`RunConfig.data` from the flags (None without `--data`).

    Raises:
        ValueError: a `--data` flag without `--data`, or `--data` with `--dataset`.
    """
    given = [name for name in DATA_ONLY if getattr(args, name, None) is not None]
    if args.data is None:
        if given:
            flags = ", ".join(f"--{name.replace('_', '-')}" for name in given)
            raise ValueError(f"{flags} describe(s) your own data: add --data FILE_OR_FOLDER.")
        return None
    if args.dataset is not None:
        raise ValueError("give --data FILE or --dataset NAME, not both.")
    roles = {
        getattr(args, f"{role}_column"): role
        for role in ("image", "text", "sequence")
        if getattr(args, f"{role}_column") is not None
    }
    for role in ("numeric", "categorical", "ignore"):
        roles.update({column: role for column in getattr(args, f"{role}_columns") or ()})
    record = {"train": args.data, "roles": roles}
    if args.cross:
        record["crosses"] = [list(pair) for pair in args.cross]
    for name in ("label", "validation", "test", "on_bad_record", "task", "test_fraction"):
        if getattr(args, name) is not None:
            record[name] = getattr(args, name)
    if args.image_size is not None:
        record["image_size"] = list(args.image_size)
    return record


@contextlib.contextmanager
def one_line_warnings(command: str):
    """Python warnings raised while reading the user's files, each as one line on stderr.

    (A case-insensitive column match, skipped rows: the message names file,
    row and column; the library's source line is of no use to the user.)
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                print(f"multimodal-tf {command}: warning: {warning.message}", file=sys.stderr)
