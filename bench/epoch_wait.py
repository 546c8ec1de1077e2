"""Benchmark: the wait at the start of epochs that tf.data's autotuning thread causes in Keras' fit.

Keras 3 makes a new iterator for every epoch and discards one it made
ahead; TensorFlow's iterator destructor waits for that iterator's autotuning
thread to wake. Our pipelines end in `data.batches.prefetched`, which turns
the autotuning model off. This fits our CNN on Fashion-MNIST with the same
pipeline ending both ways, alternated, and times each epoch from its start
to the start of its first batch (the first epoch, which traces, left out)
and the whole `fit`.
"""

from __future__ import annotations

import statistics
import time


def run(rows, epochs: int = 8, limit: int = 20000, repeats: int = 2, seed: int = 0):
    """Fits with the autotuning model on and off, alternated, and adds the `epoch-wait` row.

    Args:
        rows: the `Rows` to add to.
        epochs: epochs of each fit (at least 2: the first is left out).
        limit: training images.
        repeats: fits of each setting.
        seed: the models' and the shuffle's seed.
    """
    if epochs < 2:
        raise ValueError(f"`epochs` must be at least 2 (the first traces), got {epochs}.")
    import keras
    import tensorflow as tf

    from bench.common import engine_model
    from multimodal_tf.data.datasets.fashion_mnist import load_fashion_mnist_arrays
    from multimodal_tf.data.pipeline import image_dataset
    from multimodal_tf.models import build_cnn_classifier
    from multimodal_tf.training import TrainingConfig

    images, labels = load_fashion_mnist_arrays("train")
    images, labels = images[:limit], labels[:limit]
    config = TrainingConfig(epochs=epochs, verbose=0, seed=seed)

    class FirstBatch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.waits = []

        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                self.waits.append(time.perf_counter() - self.began)

    waits = {True: [], False: []}
    seconds = {True: [], False: []}
    for repeat in range(repeats):
        for autotune in (True, False) if repeat % 2 == 0 else (False, True):
            model, _ = engine_model(build_cnn_classifier, config, seed)
            data = image_dataset(images, labels, batch_size=64, shuffle=True, seed=seed)
            options = tf.data.Options()
            options.autotune.enabled = autotune
            marker = FirstBatch()
            started = time.perf_counter()
            model.fit(data.with_options(options), epochs=epochs, verbose=0, callbacks=[marker])
            seconds[autotune].append(time.perf_counter() - started)
            waits[autotune] += marker.waits[1:]
            print(
                f"repetition {repeat + 1}: autotuning model {'on' if autotune else 'off'}: "
                f"fit {seconds[autotune][-1]:.1f} s, epoch starts "
                + ", ".join(f"{wait:.2f}" for wait in marker.waits[1:])
                + " s",
                flush=True,
            )
    on, off = statistics.median(seconds[True]), statistics.median(seconds[False])
    rows.add(
        "epoch-wait",
        f"CNN fit, Fashion-MNIST, {epochs} epochs x {limit}, batch 64: pipeline with tf.data's "
        "autotuning model off (ours) vs on; epoch start to first batch, epochs after the first",
        f"fit {off:.1f} s vs {on:.1f} s (median); epoch starts summed over the {repeats} fits "
        f"{sum(waits[False]):.1f} s vs {sum(waits[True]):.1f} s, longest {max(waits[False]):.2f} s "
        f"vs {max(waits[True]):.2f} s",
        f"{on / off:.2f}x",
    )
