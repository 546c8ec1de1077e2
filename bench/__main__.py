"""`python -m bench document|document-lstm|pipeline|precision|guard|tuner|gpu [--record]`."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "benchmark",
        choices=("document", "document-lstm", "pipeline", "precision", "guard", "tuner", "gpu"),
    )
    parser.add_argument(
        "--epochs", type=int, default=10, help="document, document-lstm: epochs of each side"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="document: first N training images only"
    )
    parser.add_argument(
        "--steps", type=int, default=50, help="gpu, precision: training steps per timed epoch"
    )
    parser.add_argument(
        "--steps-per-execution", type=int, default=1, help="gpu: batches per compiled call"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed repetitions per figure (median)"
    )
    parser.add_argument(
        "--kinds",
        default=None,
        help="models to time (precision: cnn,lstm,bert,fusion; guard: cnn,lstm; gpu: bert-base,fusion)",
    )
    parser.add_argument("--data-dir", default=None, help="TFDS data folder")
    parser.add_argument(
        "--record", action="store_true", help="write the rows into bench/RESULTS.md"
    )
    args = parser.parse_args(argv)

    if args.benchmark != "gpu":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench.common import Rows

    rows = Rows()
    default_kinds = {"gpu": "bert-base,fusion", "guard": "cnn,lstm"}.get(
        args.benchmark, "cnn,lstm,bert,fusion"
    )
    kinds = tuple(kind for kind in (args.kinds or default_kinds).split(",") if kind)
    if args.benchmark == "document":
        from bench import document

        document.run(rows, epochs=args.epochs, limit=args.limit)
    elif args.benchmark == "document-lstm":
        from bench import document

        document.run_lstm(rows, epochs=args.epochs)
    elif args.benchmark == "pipeline":
        from bench import pipeline

        pipeline.run(rows, data_dir=args.data_dir, repeats=args.repeats)
    elif args.benchmark == "precision":
        from bench import precision

        precision.run(
            rows,
            kinds=kinds,
            repeats=args.repeats,
            steps=args.steps if "--steps" in sys.argv else None,
        )
    elif args.benchmark == "guard":
        from bench import guard

        guard.run(rows, kinds=kinds, repeats=args.repeats)
    elif args.benchmark == "tuner":
        from bench import tuner

        tuner.run(rows)
    else:
        from bench import gpu

        rows.device = gpu.device_name()
        gpu.run(
            rows,
            kinds=kinds,
            repeats=args.repeats,
            steps=args.steps,
            steps_per_execution=args.steps_per_execution,
        )
    if args.record:
        rows.record()
    return 0


if __name__ == "__main__":
    sys.exit(main())
