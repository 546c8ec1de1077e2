"""The verbs of `multimodal-tf`: each takes the parsed arguments and prints its result.

`multimodal_tf.cli.parser` parses the command line without TensorFlow, then
calls :func:`run`, which dispatches to one function per command and turns
a bad request into one line on standard error.
"""

from __future__ import annotations

import io
import os
import sys

from multimodal_tf.cli.errors import file_error_of, resume_hint
from multimodal_tf.cli.printing import (
    print_predictions,
    print_run_scores,
    print_scores,
    rounded,
    say,
    score_line,
    score_value,
)

_ON_OFF = {None: None, "on": True, "off": False}.get
# Command-line values that differ from the RunConfig field they set.
_CONVERSIONS = {
    "jit_compile": {"auto": "auto", "on": True, "off": False}.get,
    "fine_tune_text": lambda flag: True if flag else None,
    "image_batch_norm": _ON_OFF,
}
# Options that apply only to the multimodal model.
_MULTIMODAL_ONLY = ("fusion", "modality_dropout")


def _run_config(args):
    """The `RunConfig` of `train`/`tune` arguments: every field copied by name.

    An option left out (None) keeps the field's default, so a new
    `TrainingOptions` or `RunConfig` field needs only its flag in the parser
    (a test checks that every field has one).
    """
    import dataclasses

    from multimodal_tf.choices import USER_DATASET
    from multimodal_tf.cli.data_arguments import data_record, one_line_warnings
    from multimodal_tf.runs import RunConfig
    from multimodal_tf.runs.user_data import checked_user_config

    values = {}
    for field in dataclasses.fields(RunConfig):
        value = _CONVERSIONS.get(field.name, lambda same: same)(getattr(args, field.name))
        if field.name != "data" and (value is not None or field.default is None):
            values[field.name] = value
    record = data_record(args)  # --data FILE: the user's own files
    if record is not None:
        values.update(dataset=USER_DATASET, data=record)
    with one_line_warnings(args.command):  # a --data run reads its files here
        config = checked_user_config(RunConfig(**values))
    given = [
        f"--{name.replace('_', '-')}"
        for name in _MULTIMODAL_ONLY
        if getattr(args, name) is not None
    ]
    if given and config.kind != "multimodal":
        raise ValueError(
            f"{' and '.join(given)} applies to the multimodal model, but this run trains the "
            "document's "
            f"{config.modalities[0]} classifier; leave it out, or pass --model multimodal."
        )
    return config


def _describe(verb, config):
    if config.data is not None:  # the columns' inferred roles, the classes and the splits
        from multimodal_tf.runs.user_data import load_user

        loaded = load_user(config)
        print(loaded.schema.describe())
        rows = ", ".join(f"{name} {len(ids)}" for name, ids in loaded.rows.items())
        skipped = len(loaded.skipped)
        print(f"rows: {rows}" + (f"; skipped {skipped} (see data.json)" if skipped else ""))
    where = config.dataset
    if config.data is not None:  # the file as the user named it, where that is short
        where = os.path.relpath(config.data["train"])
        where = config.data["train"] if where.startswith("..") else where
    print(
        f"{verb} {config.kind} on {where} ({', '.join(config.modalities)}): "
        f"{config.epochs} epoch(s), batch {config.batch_size}, precision {config.precision}, "
        f"strategy {config.strategy}"
    )


def train(args):
    from multimodal_tf.runs import train_run

    config = _run_config(args)
    _describe("training", config)
    metrics = train_run(
        config,
        output=args.output,
        run=args.run,
        verbose=2 if args.quiet else "auto",
        overwrite=args.overwrite,
        restart=args.restart,
    )
    print_run_scores(metrics)
    print(
        f"trained {metrics['epochs_trained']} epoch(s) in {metrics['train_seconds']} s "
        f"({metrics['precision']}, XLA {'on' if metrics['jit_compile'] else 'off'}, "
        f"{metrics['replicas']} replica(s)); wrote {metrics['folder']}/model.keras"
        + (", data.json" if config.data is not None else "")
        + " and metrics.json"
    )
    return 0


def tune(args):
    from multimodal_tf.runs import tune_run

    config = _run_config(args)
    _describe(f"tuning ({args.tuner} search)", config)
    metrics = tune_run(
        config,
        tuner=args.tuner,
        max_trials=args.max_trials,
        output=args.output,
        run=args.run,
        verbose=2 if args.quiet else "auto",
        trials_per_process=args.trials_per_process,
    )
    board = metrics["leaderboard"]
    names = sorted({name for row in board for name in row} - {"trial", "score"})
    print("\nleaderboard (validation accuracy, best first):")
    print(" | ".join(["trial", "score", *names]))
    for row in board:
        print(
            " | ".join(
                [row["trial"], f"{row['score']:.4f}", *(str(row.get(name, "")) for name in names)]
            )
        )
    print_scores(metrics["test_accuracy"])
    print(
        f"wrote the best model to {metrics['folder']}/model.keras (tuner state in "
        f"{metrics['folder']}/tuner)"
    )
    return 0


def evaluate(args):
    from multimodal_tf.runs import evaluate_missing
    from multimodal_tf.runs.class_report import format_class_report, report_run

    if args.data is not None:  # a new labelled file, read with the run's schema and classes
        from multimodal_tf.cli.data_arguments import one_line_warnings
        from multimodal_tf.runs.user_scoring import evaluate_file

        if args.missing_rates is not None or args.split != "test":
            raise ValueError("--data scores the whole file: leave out --split and --missing-rates.")
        with one_line_warnings(args.command):
            scored = evaluate_file(args.run_path, args.data)
        print_scores(scored["accuracy"], os.path.basename(args.data))
        if scored["class_report"] is not None:
            print(f"\nper class ({os.path.basename(args.data)}, all modalities present):")
            print("\n".join(format_class_report(scored["class_report"])))
        return 0
    if args.missing_rates is None:
        scored = report_run(args.run_path, data_dir=args.data_dir, split=args.split)
        print_scores(scored["accuracy"], args.split)
        if scored["class_report"] is None:
            return 0
        print(f"\nper class ({args.split}, all modalities present):")
        print("\n".join(format_class_report(scored["class_report"])))
        if scored["written"].endswith(".png"):
            print(f"confusion matrix drawn in {scored['written']}; the report is in metrics.json")
        else:
            print(scored["written"])
        return 0
    try:
        rates = [float(rate) for rate in args.missing_rates.split(",") if rate.strip()]
    except ValueError:
        raise ValueError(
            f"`--missing-rates` must be comma-separated numbers, got {args.missing_rates!r}."
        ) from None
    for rate, score in evaluate_missing(
        args.run_path, rates, data_dir=args.data_dir, split=args.split
    ).items():
        print_scores({f"rows missing a modality: {rate:.0%}": score}, args.split)
    return 0


def compare(args):
    from multimodal_tf.runs.comparison import compare_runs

    names = tuple(args.names.split(",")) if args.names else None
    if names is not None and len(names) != 2:
        raise ValueError(f"`--names` must be two names separated by a comma, got {args.names!r}.")
    comparison = compare_runs(
        args.first, args.second, split=args.split, data_dir=args.data_dir, names=names
    )
    print(comparison.line())
    return 0


def quantize(args):
    from multimodal_tf.runs.quantization import quantize_run

    record = quantize_run(
        args.run_path, args.mode, args.output, data_dir=args.data_dir, split=args.split
    )
    print(
        f"wrote {args.output}: {record['mode']} weights in {record['layers_quantized']} layer(s), "
        f"{record['file_bytes']} bytes (float: {record['float_model_bytes']}; the float run's "
        f"file, with its optimizer state: {record['float_file_bytes']})"
    )
    for subset, value in record["accuracy"].items():
        float_value = score_value(record["float_accuracy"][subset])
        print(f"{score_line(args.split, subset, value)} (float: {float_value})")
    return 0


def predict(args):
    from multimodal_tf.runs import predict_batch, predict_example, predict_run

    paired = {"image": args.image, "text": args.text, "sequence": args.sequence}
    styles = [
        bool(args.inputs),
        any(value is not None for value in paired.values()),
        args.batch is not None,
    ]
    if sum(styles) > 1:
        raise ValueError(
            "give inputs one way: INPUT... (one prediction each), --image/--text/--sequence (one "
            "prediction from all of them), or --batch FILE.csv (one per row), not both."
        )
    if styles[2]:
        return print_predictions(predict_batch(args.run_path, args.batch), args.json)
    if styles[1]:
        result = predict_example(args.run_path, **paired)
        if "text" in result["absent"] and args.text is not None:
            print("note: --text is blank, so the text is marked absent", file=sys.stderr)
        given = {name: value for name, value in paired.items() if value is not None}
        outcome = {key: result[key] for key in ("class", "probability", "value") if key in result}
        say(rounded({**given, **outcome, "absent": result["absent"]}), "", args.json)
        return 0
    if not args.inputs:
        raise ValueError("give INPUT..., --image/--text/--sequence, or --batch FILE.csv.")
    for item, label, probability in predict_run(args.run_path, args.inputs):
        outcome = (
            {"value": label}
            if probability is None
            else {"class": label, "probability": probability}
        )
        say(rounded(outcome), item, args.json)
    return 0


def export(args):
    from multimodal_tf.runs.export import export_savedmodel, export_tflite, tflite_accuracy

    if args.format == "savedmodel":
        path = export_savedmodel(args.run_path, args.output)
        print(f"wrote a SavedModel with a raw-input serving signature to {path}")
        return 0
    result = export_tflite(
        args.run_path,
        args.output,
        quantize=args.format == "tflite-int8",
        sequence_length=args.sequence_length,
        data_dir=args.data_dir,
        overwrite=args.overwrite,
    )
    print(f"wrote {result['path']} ({result['bytes']} bytes)")
    if args.evaluate:
        accuracy = tflite_accuracy(
            result["path"],
            args.run_path,
            sequence_length=result["sequence_length"],
            data_dir=args.data_dir,
        )
        print(f"test accuracy (TFLite): {accuracy:.4f}")
    return 0


def fetch(args):
    from multimodal_tf.data.sources import fetch as fetch_sources

    for name, path in fetch_sources(args.names or None).items():
        print(f"{name:16s} {path}")
    return 0


def run(args):
    """Runs the parsed command `args`; a bad request is one line on standard error and exit code 2.

    Ctrl-C is one line too (exit code 130), saying how to resume a `train` or `tune`.
    """
    try:
        return HANDLERS[args.handler](args)
    except BrokenPipeError:  # `predict --batch rows.csv | head`: the reader has all it wanted
        _silence_stdout()
        return 141  # as a shell reports a process ended by SIGPIPE
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"multimodal-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a full or read-only disk, a file where a folder should be, ...
        where = f" {error.filename!r}" if error.filename else ""
        print(
            f"multimodal-tf {args.command}: error: cannot write or read{where}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 2
    except Exception as error:  # TensorFlow's own file errors (TensorBoard's writer on a full disk)
        cause = file_error_of(error)
        if cause is None:
            raise
        print(f"multimodal-tf {args.command}: error: cannot write or read {cause}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:  # Ctrl-C: one line, and how to go on, not Keras' stack
        print(
            f"multimodal-tf {args.command}: interrupted{resume_hint(args, interrupt)}",
            file=sys.stderr,
        )
        return 130


def _silence_stdout():
    """Points standard output at the null device, so the interpreter's last flush of what is
    still buffered raises no second BrokenPipeError (Python's docs, "Note on SIGPIPE")."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (a notebook's or a test's capture): nothing to flush there


HANDLERS = {
    "train": train,
    "tune": tune,
    "evaluate": evaluate,
    "compare": compare,
    "predict": predict,
    "export": export,
    "quantize": quantize,
    "fetch": fetch,
}
