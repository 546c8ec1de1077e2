"""Benchmark: the main job's training time with the frozen-encoder feature cache on and off.

The main job is `multimodal-tf train` with its defaults: the document's CNN
and the frozen MiniLM fused by attention on `twemoji_categories`. Both
settings train the same model from the same seed, alternated within each
repetition; the figure is the median training time (feature computation
included) and the test accuracy of each, so the speed-up is read next to
what was learned.
"""

from __future__ import annotations

import statistics
import tempfile


def run(rows, epochs=None, repeats: int = 1, data_dir=None, limit=None, test_limit=None):
    from bench.common import ratio
    from multimodal_tf.runs import RunConfig, train_run

    seconds = {True: [], False: []}
    accuracy = {True: [], False: []}
    feature_seconds = []
    with tempfile.TemporaryDirectory() as output:
        for repeat in range(repeats):
            for cache in (False, True) if repeat % 2 == 0 else (True, False):
                config = RunConfig(
                    epochs=epochs, limit=limit, data_dir=data_dir, feature_cache=cache
                )
                metrics = train_run(config, output=output, run=f"cache-{cache}-{repeat}", verbose=0)
                if metrics["feature_cache"] != cache:
                    raise RuntimeError(
                        f"the run with feature_cache={cache} reported {metrics['feature_cache']}"
                    )
                seconds[cache].append(metrics["train_seconds"])
                accuracy[cache].append(metrics["test_accuracy"]["all"])
                if cache:
                    feature_seconds.append(metrics["feature_seconds"])
                print(
                    f"repeat {repeat + 1}: feature cache {'on' if cache else 'off'}: "
                    f"{metrics['train_seconds']:.0f} s, test accuracy {metrics['test_accuracy']}",
                    flush=True,
                )
    on, off = statistics.median(seconds[True]), statistics.median(seconds[False])
    described = (
        f"main job ({config.epochs} epochs, {config.dataset}"
        + (f", first {limit} examples" if limit else "")
        + (f", scored on {test_limit} test examples" if test_limit else "")
        + f", {metrics['precision']}): training seconds, feature cache on vs off"
    )
    rows.add(
        "main-job",
        described,
        f"{on:.0f} s (features {statistics.median(feature_seconds):.0f} s) vs {off:.0f} s; "
        f"test accuracy {statistics.median(accuracy[True]):.4f} vs "
        f"{statistics.median(accuracy[False]):.4f}"
        + (
            f"; {repeats} alternated repetitions, ranges "
            f"{min(seconds[True]):.0f}-{max(seconds[True]):.0f} s "
            f"vs {min(seconds[False]):.0f}-{max(seconds[False]):.0f} s"
            if repeats > 1
            else ""
        ),
        ratio(off, on),
    )
