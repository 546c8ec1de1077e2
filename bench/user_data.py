"""Benchmarks of the user's own files: streaming a generated CSV, and `predict --batch`.

`streaming`: CSVs of 10k, 50k and 100k rows (image path, text, string label)
go through `data.user.from_csv`, and the training split is iterated to the
end: images/s and resident memory after each size, against the document's
CNN training step alone on one batch of the same size held in memory (the
pipeline must keep ahead of it). The rows point at a pool of generated PNG
files of several modes (RGB, grey, palette, RGBA, 16-bit grey), so every row
is read, decoded and resized (in the graph: `images.decode_natively`), but
from the page cache after the first pass.

`predict-batch`: `runs.predict_batch` of a tiny multimodal run over 1k, 10k
and 100k rows of the same kind: rows/s and resident memory after each size
(the rows are produced and dropped one by one, as the CLI prints them).
"""

from __future__ import annotations

import os
import tempfile
import time

IMAGE_MODES = ("RGB", "L", "P", "RGBA", "I;16")
POOL = 500  # distinct image files the rows cycle through
CLASSES = ("bird", "cat", "dog")


def write_pool(folder: str, size: int = 48) -> list:
    """`POOL` PNG files of random pixels in the modes of `IMAGE_MODES`; their file names."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    names = []
    for index in range(POOL):
        mode = IMAGE_MODES[index % len(IMAGE_MODES)]
        pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        image = Image.fromarray(pixels)
        if mode == "I;16":
            grey = pixels[..., 0].astype(np.uint16) * 257
            image = Image.fromarray(grey)
        elif mode != "RGB":
            image = image.convert(mode)
        name = f"image{index:04d}.png"
        image.save(os.path.join(folder, name))
        names.append(name)
    return names


def write_rows(path: str, names: list, count: int) -> None:
    """A CSV of `count` rows: an image of the pool, a short text and a class name."""
    with open(path, "w", encoding="utf-8") as table:
        table.write("image,text,label\n")
        for row in range(count):
            label = CLASSES[row % len(CLASSES)]
            table.write(f"{names[row % len(names)]},a photo of a {label} number {row},{label}\n")


def run_streaming(rows, sizes=(10_000, 50_000, 100_000), image_size: int = 32, batch: int = 64):
    """Images/s and resident memory while streaming each size; the CNN's step for scale."""
    import statistics

    import keras
    import tensorflow as tf

    from bench.common import fit_step_seconds, ratio, rss_mib
    from multimodal_tf.data.user import from_csv
    from multimodal_tf.models import build_cnn_classifier
    from multimodal_tf.training import TrainingConfig, compile_model

    with tempfile.TemporaryDirectory(prefix="bench-user-data-") as folder:
        names = write_pool(folder)
        cnn = compile_model(
            build_cnn_classifier(input_shape=(image_size, image_size, 3), num_classes=3),
            TrainingConfig(verbose=0),
        )
        images = tf.random.uniform((batch, image_size, image_size, 3))
        labels = tf.constant([row % 3 for row in range(batch)])
        one_batch = tf.data.Dataset.from_tensors((images, labels)).repeat(50)
        consumed = batch / statistics.median(fit_step_seconds(cnn, one_batch, epochs=3))
        keras.backend.clear_session()
        before = rss_mib()
        for count in sizes:
            path = os.path.join(folder, f"rows{count}.csv")
            write_rows(path, names, count)
            data = from_csv(
                path,
                "label",
                image_size=(image_size, image_size),
                batch_size=batch,
                image_column="image",
                ignore_columns=["text"],
            )
            started, streamed = time.perf_counter(), 0
            for features, _ in data.train:
                streamed += int(features["image"].shape[0])
            delivered = streamed / (time.perf_counter() - started)
            rows.add(
                f"streaming-{count // 1000}k",
                f"images/s streaming {count:,} CSV rows ({streamed:,} in train) at "
                f"{image_size}x{image_size}, vs the document's CNN step alone",
                f"pipeline {delivered:.0f}/s vs model {consumed:.0f}/s; resident memory "
                f"{rss_mib():.0f} MiB (before the first: {before:.0f} MiB)",
                ratio(delivered, consumed),
            )
            del data


def run_predict_batch(rows, sizes=(1_000, 10_000, 100_000), data_dir=None):
    """Rows/s and resident memory of `predict_batch` over each size, with a tiny run."""
    from bench.common import rss_mib
    from multimodal_tf.cli import main
    from multimodal_tf.runs import predict_batch

    with tempfile.TemporaryDirectory(prefix="bench-predict-batch-") as folder:
        arguments = [
            "train",
            "--architecture=tiny",
            "--epochs=1",
            "--limit=64",
            "--test-limit=32",
            "--text-length=16",
            "--quiet",
            f"--output={folder}",
            "--run=tiny",
        ]
        if data_dir:
            arguments.append(f"--data-dir={data_dir}")
        if main(arguments) != 0:
            raise RuntimeError("the tiny run for predict-batch did not train")
        names = write_pool(folder, size=72)
        run = os.path.join(folder, "tiny")
        before = rss_mib()
        for count in sizes:
            path = os.path.join(folder, f"rows{count}.csv")
            write_rows(path, names, count)
            started, done, bad, first = time.perf_counter(), 0, 0, None
            for result in predict_batch(run, path):
                if first is None:
                    first = time.perf_counter() - started
                done += 1
                bad += "error" in result
            seconds = time.perf_counter() - started
            rows.add(
                f"predict-batch-{count // 1000}k",
                f"predict --batch over {count:,} rows (image + text, tiny twemoji run)",
                f"{done / seconds:.0f} rows/s, first row after {first:.1f} s, {bad} bad; "
                f"resident memory {rss_mib():.0f} MiB (before the first: {before:.0f} MiB)",
            )
