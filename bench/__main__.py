"""`python -m bench BENCHMARK [--record]`: document, document-lstm, pipeline, precision, guard,
tuner, gpu, main-job, epoch-wait, streaming, predict-batch, lora, quantize, bert-peers, seeds or
plain-fit."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "benchmark",
        choices=(
            "document",
            "document-lstm",
            "pipeline",
            "precision",
            "guard",
            "tuner",
            "gpu",
            "main-job",
            "epoch-wait",
            "streaming",
            "predict-batch",
            "lora",
            "quantize",
            "bert-peers",
            "seeds",
            "plain-fit",
        ),
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="document, document-lstm, epoch-wait: epochs of each run, at least 2 (default 10, 60, "
        "8); main-job: default the dataset's",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="document, main-job, epoch-wait, lora, bert-peers, plain-fit: first N training "
        "examples only (epoch-wait: 20000, lora and bert-peers: 1600)",
    )
    parser.add_argument(
        "--steps", type=int, default=50, help="gpu, precision: training steps per timed epoch"
    )
    parser.add_argument(
        "--steps-per-execution", type=int, default=1, help="gpu: batches per compiled call"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repetitions per figure (median; default 3; document, document-lstm 5; "
        "main-job 1; epoch-wait 2)",
    )
    parser.add_argument(
        "--kinds",
        default=None,
        help="models to time (precision, quantize: cnn,lstm,bert,fusion; guard: cnn,lstm; gpu: "
        "bert-base,fusion)",
    )
    parser.add_argument(
        "--rows",
        default=None,
        help="streaming, predict-batch: CSV sizes, comma-separated (default 10000,50000,100000; "
        "1000,10000,100000)",
    )
    parser.add_argument("--rank", type=int, default=8, help="lora: the LoRA rank")
    parser.add_argument(
        "--dataset", default="fashion_mnist", help="seeds: the dataset whose default run repeats"
    )
    parser.add_argument(
        "--precision", default=None, help="seeds: every run's --precision (default: auto)"
    )
    parser.add_argument("--data-dir", default=None, help="TFDS data folder")
    parser.add_argument(
        "--record",
        action="store_true",
        help="append the rows to bench/results.jsonl (then run python -m bench.report)",
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
    repeats = args.repeats or {
        "main-job": 1,
        "epoch-wait": 2,
        "document": 5,
        "document-lstm": 5,
        "quantize": 10,
        "predict-batch": 1,  # one pass over each size
        "seeds": 5,
    }.get(args.benchmark, 3)
    rows.repeats = repeats
    epochs = args.epochs or {"main-job": None, "epoch-wait": 8, "document-lstm": 60}.get(
        args.benchmark, 10
    )
    if args.benchmark == "document":
        from bench import document

        document.run(rows, epochs=epochs, limit=args.limit, repeats=repeats)
    elif args.benchmark == "document-lstm":
        from bench import document

        document.run_lstm(rows, epochs=epochs, repeats=repeats)
    elif args.benchmark == "main-job":
        from bench import main_job

        main_job.run(rows, epochs=epochs, repeats=repeats, data_dir=args.data_dir, limit=args.limit)
    elif args.benchmark == "epoch-wait":
        from bench import epoch_wait

        epoch_wait.run(rows, epochs=epochs, limit=args.limit or 20000, repeats=repeats)
    elif args.benchmark in ("streaming", "predict-batch"):
        from bench import user_data

        sizes = {} if args.rows is None else {"sizes": [int(n) for n in args.rows.split(",")]}
        if args.benchmark == "streaming":
            user_data.run_streaming(rows, **sizes)
        else:
            user_data.run_predict_batch(rows, **sizes, data_dir=args.data_dir)
    elif args.benchmark == "lora":
        from bench import lora

        lora.run(rows, limit=args.limit, repeats=repeats, rank=args.rank, data_dir=args.data_dir)
    elif args.benchmark == "bert-peers":
        from bench import bert_peers

        bert_peers.run(rows, limit=args.limit, repeats=repeats, data_dir=args.data_dir)
    elif args.benchmark == "plain-fit":
        from bench import plain_fit

        plain_fit.run(rows, limit=args.limit, data_dir=args.data_dir)
    elif args.benchmark == "seeds":
        from bench import seeds

        seeds.run(
            rows,
            args.dataset,
            repeats=repeats,
            precision=args.precision,
            data_dir=args.data_dir,
        )
    elif args.benchmark == "quantize":
        from bench import quantize

        quantize.run(
            rows,
            kinds=kinds,
            repeats=repeats,
            epochs=args.epochs,
            limit=args.limit,
            data_dir=args.data_dir,
        )
    elif args.benchmark == "pipeline":
        from bench import pipeline

        pipeline.run(rows, data_dir=args.data_dir, repeats=repeats)
    elif args.benchmark == "precision":
        from bench import precision

        precision.run(
            rows,
            kinds=kinds,
            repeats=repeats,
            steps=args.steps if "--steps" in sys.argv else None,
        )
    elif args.benchmark == "guard":
        from bench import guard

        guard.run(rows, kinds=kinds, repeats=repeats)
    elif args.benchmark == "tuner":
        from bench import tuner

        tuner.run(rows)
    else:
        from bench import gpu

        rows.device, rows.device_class = gpu.device_name(), "gpu"
        gpu.run(
            rows,
            kinds=kinds,
            repeats=repeats,
            steps=args.steps,
            steps_per_execution=args.steps_per_execution,
        )
    if args.record:
        rows.record()
        print(
            "recorded in bench/results.jsonl: run `python -m bench.report` to regenerate the pages"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
