"""The `multimodal-tf` command line.

- `multimodal-tf train`: trains the multimodal model (image + text, the
  packaged pretrained MiniLM as text encoder) on the paired Twemoji dataset,
  prints the test accuracy per modality subset (all, image only, text only)
  and writes `saved_models/<run>/model.keras` and `metrics.json`.
  `--dataset fashion_mnist|rt_snippets|japanese_vowels` trains the
  document's classifier for that dataset's modality instead.
- `multimodal-tf tune --tuner random|bayesian|hyperband --max-trials N`:
  searches the same model's hyperparameters with keras-tuner (resumable),
  prints the leaderboard and saves the best model as a run folder.
- `multimodal-tf evaluate RUN`: re-evaluates a run on its test split.
- `multimodal-tf predict RUN INPUT...`: classifies images, `.npy` sequences
  or texts.
- `multimodal-tf export RUN --output DIR`: writes a SavedModel whose
  serving signature takes raw images, sequences, texts and presence flags;
  `--format tflite|tflite-int8` writes the CNN or LSTM for mobile.
- `multimodal-tf fetch [NAME...]`: downloads the packaged dataset sources.
"""

from __future__ import annotations

import argparse
import json
import sys


def _print_accuracy(accuracy: dict):
    for subset, value in accuracy.items():
        print(f"test accuracy ({subset}): {value:.4f}")


def _run_config(args):
    from multimodal_tf.runs import RunConfig

    multimodal_only = {"fusion": args.fusion, "modality_dropout": args.modality_dropout}
    config = RunConfig(
        **{name: value for name, value in multimodal_only.items() if value is not None},
        dataset=args.dataset,
        modalities=args.modalities,
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        precision=args.precision,
        jit_compile={"auto": "auto", "on": True, "off": False}[args.jit_compile],
        strategy=args.strategy,
        validation_fraction=args.validation_fraction,
        early_stopping_patience=args.early_stopping_patience,
        learning_rate=args.learning_rate,
        text_length=args.text_length,
        fine_tune_text=True if args.fine_tune_text else None,
        limit=args.limit,
        test_limit=args.test_limit,
        architecture=args.architecture,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    given = [f"--{name.replace('_', '-')}" for name, value in multimodal_only.items() if value is not None]
    if given and config.kind != "multimodal":
        raise ValueError(
            f"{' and '.join(given)} applies to the multimodal model, but this run trains the document's "
            f"{config.modalities[0]} classifier; leave it out, or pass --model multimodal."
        )
    return config


def _describe(verb, config):
    print(
        f"{verb} {config.kind} on {config.dataset} ({', '.join(config.modalities)}): "
        f"{config.epochs} epoch(s), batch {config.batch_size}, precision {config.precision}, "
        f"strategy {config.strategy}"
    )


def train(args):
    from multimodal_tf.runs import train_run

    config = _run_config(args)
    _describe("training", config)
    metrics = train_run(config, output=args.output, run=args.run, verbose=2 if args.quiet else 1,
                        overwrite=args.overwrite, restart=args.restart)
    _print_accuracy(metrics["test_accuracy"])
    print(
        f"trained {metrics['epochs_trained']} epoch(s) in {metrics['train_seconds']} s "
        f"({metrics['precision']}, XLA {'on' if metrics['jit_compile'] else 'off'}, "
        f"{metrics['replicas']} replica(s)); wrote {metrics['folder']}/model.keras and metrics.json"
    )
    return 0


def tune(args):
    from multimodal_tf.runs import tune_run

    config = _run_config(args)
    _describe(f"tuning ({args.tuner} search)", config)
    metrics = tune_run(
        config, tuner=args.tuner, max_trials=args.max_trials, output=args.output, run=args.run,
        verbose=2 if args.quiet else 1, trials_per_process=args.trials_per_process,
    )
    board = metrics["leaderboard"]
    names = sorted({name for row in board for name in row} - {"trial", "score"})
    print("\nleaderboard (validation accuracy, best first):")
    print(" | ".join(["trial", "score", *names]))
    for row in board:
        print(" | ".join([row["trial"], f"{row['score']:.4f}", *(str(row.get(name, "")) for name in names)]))
    _print_accuracy(metrics["test_accuracy"])
    print(f"wrote the best model to {metrics['folder']}/model.keras (tuner state in {metrics['folder']}/tuner)")
    return 0


def evaluate(args):
    from multimodal_tf.runs import evaluate_missing, evaluate_run

    if args.missing_rates is None:
        _print_accuracy(evaluate_run(args.run_path, data_dir=args.data_dir))
        return 0
    try:
        rates = [float(rate) for rate in args.missing_rates.split(",") if rate.strip()]
    except ValueError:
        raise ValueError(f"`--missing-rates` must be comma-separated numbers, got {args.missing_rates!r}.") from None
    for rate, accuracy in evaluate_missing(args.run_path, rates, data_dir=args.data_dir).items():
        print(f"test accuracy (rows missing a modality: {rate:.0%}): {accuracy:.4f}")
    return 0


def predict(args):
    from multimodal_tf.runs import predict_example, predict_run

    paired = {"image": args.image, "text": args.text, "sequence": args.sequence}
    if any(value is not None for value in paired.values()):
        if args.inputs:
            raise ValueError("give inputs either as INPUT... (one prediction each) or with --image/--text/--sequence "
                             "(one prediction from all of them), not both.")
        result = predict_example(args.run_path, **paired)
        if "text" in result["absent"] and args.text is not None:
            print("note: --text is blank, so the text is marked absent", file=sys.stderr)
        print(json.dumps({**{k: v for k, v in paired.items() if v is not None}, "class": result["class"],
                          "probability": round(result["probability"], 4), "absent": result["absent"]},
                         ensure_ascii=False))
        return 0
    if not args.inputs:
        raise ValueError("give INPUT... or --image/--text/--sequence.")
    for item, label, probability in predict_run(args.run_path, args.inputs):
        print(json.dumps({"input": item, "class": label, "probability": round(probability, 4)}, ensure_ascii=False))
    return 0


def export(args):
    from multimodal_tf.export import export_savedmodel, export_tflite, tflite_accuracy

    if args.format == "savedmodel":
        path = export_savedmodel(args.run_path, args.output)
        print(f"wrote a SavedModel with a raw-input serving signature to {path}")
        return 0
    result = export_tflite(
        args.run_path, args.output, quantize=args.format == "tflite-int8", sequence_length=args.sequence_length,
        data_dir=args.data_dir, overwrite=args.overwrite,
    )
    print(f"wrote {result['path']} ({result['bytes']} bytes)")
    if args.evaluate:
        accuracy = tflite_accuracy(result["path"], args.run_path, sequence_length=result["sequence_length"],
                                   data_dir=args.data_dir)
        print(f"test accuracy (TFLite): {accuracy:.4f}")
    return 0


def fetch(args):
    from multimodal_tf.data.sources import fetch as fetch_sources

    for name, path in fetch_sources(args.names or None).items():
        print(f"{name:16s} {path}")
    return 0


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _add_run_arguments(parser):
    """The arguments `train` and `tune` share (a `RunConfig`, the output folder)."""
    from multimodal_tf.data.pipeline import TFDS_MODALITIES
    from multimodal_tf.training import PRECISIONS, STRATEGIES

    parser.add_argument("--dataset", choices=sorted(TFDS_MODALITIES), default="twemoji_categories")
    parser.add_argument("--modalities", default=None, help="comma-separated subset, e.g. image,text")
    parser.add_argument(
        "--model", choices=("auto", "multimodal", "classifier"), default="auto",
        help="auto: the multimodal model for two or more modalities, else the document's classifier",
    )
    parser.add_argument("--epochs", type=_positive_int, default=None, help="default: per dataset")
    parser.add_argument("--batch-size", type=_positive_int, default=None, help="default: per dataset")
    parser.add_argument(
        "--precision", choices=("auto", *PRECISIONS), default="auto",
        help="dtype policy (auto: mixed_float16 on a GPU, mixed_bfloat16 on CPUs with native bfloat16 but float32 "
        "for recurrent models there, else float32; see README)",
    )
    parser.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto", help="XLA (auto: on GPUs)")
    parser.add_argument(
        "--strategy", choices=STRATEGIES, default="default",
        help="tf.distribute strategy; the batch size is global (multiworker reads TF_CONFIG, see docs/distributed.md)",
    )
    parser.add_argument(
        "--validation-fraction", type=float, default=0.0,
        help="hold out this fraction of the training split for validation (best checkpoint, early stopping)",
    )
    parser.add_argument("--early-stopping-patience", type=_positive_int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--fusion", choices=("concat", "gated", "attention"), default=None,
                        help="multimodal model: how modalities are fused (default: attention)")
    parser.add_argument("--modality-dropout", type=float, default=None,
                        help="multimodal model: chance of dropping a present modality in training (default: 0.2)")
    parser.add_argument("--text-length", type=_positive_int, default=None, help="tokens per text")
    parser.add_argument("--fine-tune-text", action="store_true", help="train the pretrained text encoder too")
    parser.add_argument("--limit", type=_positive_int, default=None, help="use only the first N training examples")
    parser.add_argument("--test-limit", type=_positive_int, default=None, help="score only the first N test examples")
    parser.add_argument(
        "--architecture", choices=("default", "tiny"), default="default",
        help="tiny: a few units per layer and a small random BERT, a pipeline check in seconds (not for accuracy)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS' own)")
    parser.add_argument("--output", default="saved_models", help="folder that receives the run folder")
    parser.add_argument(
        "--run", default=None,
        help="run folder name (default: dataset-model-timestamp); rerun the same name to resume",
    )
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")


def build_parser():
    parser = argparse.ArgumentParser(prog="multimodal-tf", description="Train, evaluate and use multimodal_tf models.")
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser("train", help="train a model on a real dataset and save the run")
    _add_run_arguments(train_parser)
    train_parser.add_argument("--overwrite", action="store_true", help="replace a finished run of the same --run name")
    train_parser.add_argument(
        "--restart", action="store_true", help="start an interrupted run of the same --run name over instead of resuming it"
    )
    train_parser.set_defaults(handler=train)

    tune_parser = commands.add_parser("tune", help="search hyperparameters with keras-tuner and save the best model")
    _add_run_arguments(tune_parser)
    tune_parser.add_argument("--tuner", choices=("random", "bayesian", "hyperband"), default="random")
    tune_parser.add_argument(
        "--max-trials", type=_positive_int, default=10,
        help="trials to run (random, bayesian; hyperband budgets by --epochs instead)",
    )
    tune_parser.add_argument(
        "--trials-per-process", type=_positive_int, default=None,
        help="run trials in fresh processes, N each, so memory does not grow over a long search",
    )
    tune_parser.set_defaults(handler=tune)

    evaluate_parser = commands.add_parser("evaluate", help="re-evaluate a saved run on its test split")
    evaluate_parser.add_argument("run_path", metavar="RUN", help="a run folder or its model.keras")
    evaluate_parser.add_argument("--data-dir", default=None)
    evaluate_parser.add_argument(
        "--missing-rates", default=None,
        help="e.g. 0,0.25,0.5: accuracy as that fraction of test rows loses one modality at random",
    )
    evaluate_parser.set_defaults(handler=evaluate)

    predict_parser = commands.add_parser("predict", help="classify images, .npy sequences or texts")
    predict_parser.add_argument("run_path", metavar="RUN", help="a run folder or its model.keras")
    predict_parser.add_argument(
        "inputs", metavar="INPUT", nargs="*", help="image file, .npy file or text: one prediction each"
    )
    predict_parser.add_argument("--image", default=None, help="with --text/--sequence: one example from all of them")
    predict_parser.add_argument("--text", default=None, help="the example's text (blank: marked absent)")
    predict_parser.add_argument("--sequence", default=None, help="the example's .npy sequence (time, features)")
    predict_parser.set_defaults(handler=predict)

    export_parser = commands.add_parser(
        "export", help="export a run: SavedModel taking raw inputs, or TFLite (float or int8) for the CNN/LSTM"
    )
    export_parser.add_argument("run_path", metavar="RUN", help="a run folder")
    export_parser.add_argument("--format", choices=("savedmodel", "tflite", "tflite-int8"), default="savedmodel")
    export_parser.add_argument(
        "--output", required=True, help="the SavedModel folder (e.g. exported/name/1) or the .tflite file"
    )
    export_parser.add_argument("--sequence-length", type=_positive_int, default=None,
                               help="TFLite: time steps of a sequence model (default: the dataset's longest)")
    export_parser.add_argument("--evaluate", action="store_true", help="TFLite: print its accuracy on the test split")
    export_parser.add_argument("--overwrite", action="store_true", help="TFLite: replace an existing .tflite file")
    export_parser.add_argument("--data-dir", default=None)
    export_parser.set_defaults(handler=export)

    fetch_parser = commands.add_parser("fetch", help="download the packaged dataset sources that are missing")
    fetch_parser.add_argument("names", nargs="*", help="sources to fetch (default: all)")
    fetch_parser.set_defaults(handler=fetch)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"multimodal-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a full or read-only disk, a file where a folder should be, ...
        where = f" {error.filename!r}" if error.filename else ""
        print(f"multimodal-tf {args.command}: error: cannot write or read{where}: {error.strerror or error}",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
