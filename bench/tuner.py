"""Benchmark 5: memory over keras-tuner trials.

Ten trials of the fusion hypermodel (small encoders, synthetic data made
here, one epoch each) under RandomSearch, first in this process, reading the
resident memory after every trial; then the same ten trials two per fresh
process (what `multimodal-tf tune --trials-per-process 2` does), reading
each process' resident memory when its trials are done.
"""

from __future__ import annotations

import multiprocessing
import tempfile


def _tuner(directory, max_trials):
    import numpy as np
    import tensorflow as tf

    from multimodal_tf.training import TrainingConfig
    from multimodal_tf.tuning import MultimodalHyperModel, make_tuner

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    images = rng.uniform(0, 1, (256, 32, 32, 3)).astype("float32")
    images[labels == 1, :, :16] += 1.0
    features = {"image": images, "image_present": np.ones(256, "float32")}
    data = tf.data.Dataset.from_tensor_slices((features, labels.astype("int32"))).batch(32)
    hypermodel = MultimodalHyperModel(
        2, image={"input_shape": (32, 32, 3)}, training=TrainingConfig(epochs=1, verbose=0)
    )
    tuner = make_tuner(
        "random", hypermodel, max_trials=max_trials, directory=directory, project_name="memory"
    )
    return tuner, data


def _search(directory, max_trials, peaks):
    tuner, data = _tuner(directory, max_trials)
    tuner.search(data, validation_data=data, verbose=0)
    from bench.common import rss_mib

    # Resident memory at the end: a child's peak (ru_maxrss) starts at its
    # parent's on Linux, so it cannot be read here.
    peaks.put(rss_mib())


def run(rows, trials: int = 10, trials_per_process: int = 2):
    from bench.common import ratio, rss_mib

    memory = []
    with tempfile.TemporaryDirectory() as directory:
        tuner, data = _tuner(directory, trials)
        record = tuner.on_trial_end

        def on_trial_end(trial):
            record(trial)
            memory.append(rss_mib())
            print(f"trial {len(memory)}: {memory[-1]:.0f} MiB", flush=True)

        tuner.on_trial_end = on_trial_end
        tuner.search(data, validation_data=data, verbose=0)
    rows.add(
        "tuner-memory",
        f"resident memory after trials 1, 2, 5, {trials} of a RandomSearch over the fusion model",
        ", ".join(f"{memory[index]:.0f} MiB" for index in (0, 1, 4, len(memory) - 1)),
        ratio(memory[-1], memory[1]),
    )

    context = multiprocessing.get_context("spawn")
    peaks = context.Queue()
    child_peaks = []
    with tempfile.TemporaryDirectory() as directory:
        for target in range(trials_per_process, trials + 1, trials_per_process):
            child = context.Process(target=_search, args=(directory, target, peaks))
            child.start()
            child_peaks.append(peaks.get())
            child.join()
            print(
                f"trials up to {target}: {child_peaks[-1]:.0f} MiB at the end of its process",
                flush=True,
            )
    rows.add(
        "tuner-memory",
        f"resident memory at the end of each process, {trials} trials {trials_per_process} per "
        "process",
        ", ".join(f"{value:.0f}" for value in child_peaks)
        + f" MiB (one process for all: {memory[-1]:.0f} MiB)",
        ratio(max(child_peaks), memory[-1]),
    )
