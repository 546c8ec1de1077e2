"""Benchmark: LoRA against full fine-tuning of the packaged MiniLM on rt_snippets, same budget.

Each side is what `multimodal-tf train --dataset rt_snippets` does (the
text classifier, `--limit`, one epoch, `--text-length`, `--batch-size`),
full fine-tuning against `--lora-rank`, each run in a fresh process so that
its peak resident memory is its own: trainable parameters, peak resident
memory (the process' `ru_maxrss`: loading, training and scoring), steady
samples/s (the median training step after the first few, `STEADY_AFTER`,
which trace and warm up), the epoch's wall time (the whole `fit`, tracing
included) and the accuracy on the whole test split (2,111 snippets). The
sides alternate within each repetition; the rows give the medians.

`python -m bench lora [--limit 1600] [--repeats 3] [--rank 8] [--record]`
"""

from __future__ import annotations

import json
import statistics
import sys
import time

STEADY_AFTER = 5  # the first steps trace, compile and warm caches


def measure(
    side: str,
    limit: int,
    text_length: int,
    batch_size: int,
    rank: int,
    data_dir=None,
    architecture: str = "default",
    test_limit: int | None = None,
    learning_rate: float | None = None,
    validation_fraction: float | None = None,
):
    """Trains one side in this process; returns its figures (a dict).

    `architecture="tiny"` and `test_limit` make a seconds-long check (tests/test_bench.py).
    """
    import keras

    from bench.common import peak_rss_mib, step_timer
    from multimodal_tf.runs import RunConfig
    from multimodal_tf.runs.evaluation import evaluate_subsets
    from multimodal_tf.runs.models import build_run_model
    from multimodal_tf.runs.training_run import prepare_run
    from multimodal_tf.training import train, training_config

    config = RunConfig(
        dataset="rt_snippets",
        limit=limit,
        epochs=1,
        text_length=text_length,
        batch_size=batch_size,
        lora_rank=rank if side == "lora" else None,
        data_dir=data_dir,
        architecture=architecture,
        test_limit=test_limit,
        learning_rate=learning_rate,
        **({"validation_fraction": validation_fraction} if validation_fraction else {}),
    )
    steps = []
    inputs = prepare_run(config, raw_text=True)
    started = time.perf_counter()
    result = train(
        lambda: build_run_model(config, inputs.facts, inputs.checkpoint),
        inputs.train_data,
        training_config(config, verbose=0, checkpoint=False, tensorboard=False),
        validation_data=inputs.validation_data if validation_fraction else None,
        callbacks=[step_timer(steps)],
        text_preprocessor=inputs.preprocessor,
        text_data=inputs.text_data,
    )
    seconds = time.perf_counter() - started
    model = result.model
    accuracy = evaluate_subsets(model, config, inputs.preprocessor)["all"]
    return {
        "side": side,
        "trainable": int(sum(keras.ops.size(weight) for weight in model.trainable_weights)),
        "parameters": int(model.count_params()),
        "peak_rss_mib": peak_rss_mib(),
        "samples_per_second": batch_size / statistics.median(steps[STEADY_AFTER:] or steps),
        "epoch_seconds": result.seconds,
        "fit_and_setup_seconds": seconds,
        "test_accuracy": accuracy,
        "validation_accuracy": (result.history.history.get("val_accuracy") or [None])[-1],
        "learning_rate": learning_rate,
        "precision": result.precision,
        "jit_compile": result.jit_compile,
        "steps": len(steps),
    }


def run(rows, limit=None, repeats: int = 3, rank: int = 8, data_dir=None, **tiny):
    """Alternates the two sides `repeats` times and adds one row per figure.

    `tiny`: `architecture="tiny"`, `test_limit=N` and `text_length`, for tests.
    """
    from bench.common import side_in_a_process

    options = {
        "limit": limit or 1600,
        "text_length": 64,
        "batch_size": 32,
        "rank": rank,
        "data_dir": data_dir,
        **tiny,
    }
    results = {"full": [], "lora": []}
    for repeat in range(repeats):
        for side in ("full", "lora") if repeat % 2 == 0 else ("lora", "full"):
            figures = side_in_a_process("bench.lora", side, options)
            results[side].append(figures)
            print(f"repetition {repeat + 1}: {json.dumps(figures)}", flush=True)
    add_rows(rows, results, options)


def add_rows(rows, results: dict, options: dict):
    """The rows of `results` (`{"full": [figures...], "lora": [...]}`, one a repetition)."""
    repeats, rank = len(results["lora"]), options["rank"]

    def median(side, name):
        return statistics.median(figures[name] for figures in results[side])

    def spread(side, name, form):
        values = [figures[name] for figures in results[side]]
        return f"{form.format(min(values))}-{form.format(max(values))}"

    full, lora = results["full"][0], results["lora"][0]
    scored = options.get("test_limit") or "2,111"
    setting = (
        f"MiniLM on rt_snippets, first {options['limit']} snippets, 1 epoch, "
        f"{options['text_length']} tokens, batch {options['batch_size']}, {full['precision']}"
    )
    rows.add(
        "lora-trainable",
        f"{setting}: trainable parameters, LoRA rank {rank} vs full",
        f"{lora['trainable']:,} vs {full['trainable']:,} of {full['parameters']:,}",
        f"{lora['trainable'] / full['trainable']:.4f}x",
    )
    for name, label, form in (
        ("samples_per_second", "steady training samples/s", "{:.1f}"),
        ("epoch_seconds", "epoch wall time (s, tracing included)", "{:.0f}"),
        ("peak_rss_mib", "peak resident memory (MiB)", "{:.0f}"),
        ("test_accuracy", f"test accuracy ({scored} snippets)", "{:.4f}"),
    ):
        ours, theirs = median("lora", name), median("full", name)
        rows.add(
            f"lora-{name.replace('_', '-')}",
            f"{setting}: {label}, LoRA rank {rank} vs full",
            f"{form.format(ours)} vs {form.format(theirs)} (medians of {repeats}; ranges "
            f"{spread('lora', name, form)} vs {spread('full', name, form)})",
            f"{ours / theirs:.2f}x",
        )


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], **json.loads(sys.argv[2]))))
