"""Benchmark 2: what the tf.data pipelines deliver vs what the models consume.

For images (Fashion-MNIST, batch 64) and tokenised texts (RT snippets,
MiniLM's WordPiece in-graph, 64 tokens, batch 32): the pipeline alone,
iterated to the end, against the training step alone, fed one batch held in
memory. The ratio says how many times faster than the model the pipeline
is (it must never be the bottleneck). Then memory: the image pipeline
streams 1x, 2x and 4x the training split (cache off, as `cache="auto"` does
for datasets over 1 GiB) and the resident memory is read after each.
"""

from __future__ import annotations

import gc


def _pipeline_rate(make_dataset, batch_size, repeats):
    from bench.common import median_rate

    dataset = make_dataset()
    count = sum(1 for _ in dataset) * batch_size  # first pass: warms files and graph
    return median_rate(lambda: [None for _ in dataset], count, repeats)[0]


def _model_rate(model, dataset, steps, repeats):
    """Training samples/s of `model` on one batch of `dataset`, repeated (median step)."""
    import statistics

    import tensorflow as tf

    from bench.common import fit_step_seconds
    from multimodal_tf.data.pipeline import prefetched

    features, labels = next(iter(dataset))
    batch = prefetched(tf.data.Dataset.from_tensors((features, labels)).repeat(steps).cache())
    seconds = fit_step_seconds(model, batch, epochs=repeats + 1)
    return int(labels.shape[0]) / statistics.median(seconds)


def run(rows, data_dir=None, repeats: int = 3, text_steps: int = 4):
    from bench.common import ratio, rss_mib
    from multimodal_tf.data.pipeline import load_split, prepare
    from multimodal_tf.models import (
        build_bert_classifier,
        build_cnn_classifier,
        build_text_preprocessor,
    )
    from multimodal_tf.pretrained import minilm_checkpoint
    from multimodal_tf.training import TrainingConfig, compile_model

    config = TrainingConfig(verbose=0)
    prepare("fashion_mnist", data_dir)
    images = lambda: load_split(  # noqa: E731
        "fashion_mnist", "train", batch_size=64, data_dir=data_dir, presence=False, shuffle=True
    )
    delivered = _pipeline_rate(images, 64, repeats)
    consumed = _model_rate(compile_model(build_cnn_classifier(), config), images(), 100, repeats)
    rows.add(
        "pipeline-images",
        "Fashion-MNIST images/s: tf.data pipeline alone vs CNN training step alone",
        f"pipeline {delivered:.0f}/s vs model {consumed:.0f}/s",
        ratio(delivered, consumed),
    )

    prepare("rt_snippets", data_dir)
    checkpoint = minilm_checkpoint()
    preprocessor = build_text_preprocessor(checkpoint, sequence_length=64)
    texts = lambda: load_split(  # noqa: E731
        "rt_snippets",
        "train",
        batch_size=32,
        data_dir=data_dir,
        presence=False,
        shuffle=True,
        text_preprocessor=preprocessor,
    )
    delivered = _pipeline_rate(texts, 32, repeats)
    bert = compile_model(
        build_bert_classifier(2, checkpoint=checkpoint, sequence_length=64),
        config,
        steps_per_epoch=100,
    )
    consumed = _model_rate(bert, texts(), text_steps, repeats)
    rows.add(
        "pipeline-texts",
        "RT texts/s tokenised in-graph (64 tokens): pipeline alone vs MiniLM fine-tuning step "
        "alone",
        f"pipeline {delivered:.0f}/s vs model {consumed:.1f}/s",
        ratio(delivered, consumed),
    )

    memory = []
    for passes in (1, 2, 4):
        gc.collect()
        stream = load_split(
            "fashion_mnist", "train", batch_size=64, data_dir=data_dir, presence=False, cache=False
        ).repeat(passes)
        for _ in stream:
            pass
        del stream
        gc.collect()
        memory.append(rss_mib())
    rows.add(
        "pipeline-memory",
        "resident memory after streaming 60k, 120k, 240k images (cache off)",
        ", ".join(f"{value:.0f} MiB" for value in memory),
        ratio(memory[-1], memory[0]),
    )
