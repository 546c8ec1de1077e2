"""Benchmark: a builder's default run over several seeds (issue 28 item 4).

`python -m bench seeds --dataset fashion_mnist [--repeats 5] [--precision float32] [--record]`
runs `multimodal-tf train --dataset D --seed S` for seeds 0 to `repeats - 1`,
each in its own process with the dataset's defaults, and reports the test
accuracy's mean and standard deviation (the sample's, n - 1) and the median
training time, read from each run's metrics.json. The runs are written to a
temporary folder and removed. A twemoji_categories row also gives image-only
and text-only accuracy.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile


def train_seed(dataset: str, seed: int, output: str, extra=()) -> dict:
    """One default run of `dataset` with `seed` in a fresh process; its metrics.json."""
    run = f"seed-{seed}"
    command = [sys.executable, "-m", "multimodal_tf.cli", "train", "--dataset", dataset]
    command += ["--seed", str(seed), "--output", output, "--run", run, "--quiet", *extra]
    process = subprocess.run(command, capture_output=True, text=True)
    if process.returncode:
        raise RuntimeError(f"seed {seed} failed:\n{process.stderr[-3000:]}")
    with open(os.path.join(output, run, "metrics.json"), encoding="utf-8") as file:
        return json.load(file)


def summary(values: list, scale: float = 100.0, unit: str = "%") -> str:
    """`92.11 ± 0.21%` (mean ± sample standard deviation; ± 0 for a single value)."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values) * scale:.2f} ± {spread * scale:.2f}{unit}"


def run(rows, dataset: str, repeats: int = 5, precision=None, data_dir=None, extra=()):
    """Trains `repeats` seeds of `dataset`'s default run and adds one row.

    Args:
        rows: the `bench.common.Rows` to add to.
        dataset: a built-in dataset name.
        repeats: seeds 0 to `repeats - 1`.
        precision: `--precision` for every run (default: the CLI's, `auto`).
        data_dir: the TFDS data folder.
        extra: more `multimodal-tf train` arguments (tests: `--architecture tiny --limit N`).

    Returns:
        The runs' metrics.json contents, in seed order.
    """
    if repeats < 1:
        raise ValueError(f"`repeats` must be at least 1, got {repeats}.")
    extra = [*extra, *(["--precision", precision] if precision else [])]
    extra += ["--data-dir", data_dir] if data_dir else []
    with tempfile.TemporaryDirectory(prefix="multimodal_tf-seeds-") as output:
        results = []
        for seed in range(repeats):
            results.append(train_seed(dataset, seed, output, extra))
            accuracy = results[-1]["test_accuracy"]["all"]
            print(f"seed {seed}: test accuracy {accuracy:.4f}", flush=True)
    accuracies = {
        subset: [result["test_accuracy"][subset] for result in results]
        for subset in results[0]["test_accuracy"]
    }
    value = "; ".join(f"{subset} {summary(values)}" for subset, values in accuracies.items())
    seconds = statistics.median(result["train_seconds"] for result in results)
    chosen = sorted({result["precision"] for result in results})
    rows.add(
        f"seeds-{dataset.replace('_', '-')}",
        f"`multimodal-tf train --dataset {dataset}` {' '.join(extra)}".strip()
        + f", seeds 0-{repeats - 1}: test accuracy, mean ± standard deviation",
        f"{value} (training {seconds:.0f} s median, {', '.join(chosen)})",
        slug=precision or "auto",
    )
    return results
