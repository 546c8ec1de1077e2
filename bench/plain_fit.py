"""Benchmark: the plain Keras path against the CLI on rt_snippets (issue 28 item 4).

`python -m bench plain-fit [--limit N] [--record]` fine-tunes the packaged
MiniLM on rt_snippets twice from seed 0, each in its own process:

- `cli`: `multimodal-tf train --dataset rt_snippets` (the engine: precision
  `auto`, AdamW with warmup and decay, the dataset's 3 epochs, batch 32,
  64 tokens, mean pooling);
- `plain`: what a notebook user writes without the engine:
  `build_bert_classifier(2, checkpoint=..., sequence_length=64)` with its
  default compile, then `model.fit` on `load_split`'s raw-text batches for the
  same epochs and batch size, in Keras' default float32.

Both score the whole test split. The row gives both accuracies and the
difference; the aim is the plain path within 1 point of the CLI.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

EPOCHS, BATCH_SIZE, TEXT_LENGTH = 3, 32, 64


def plain(checkpoint=None, limit=None, test_limit=None, data_dir=None, epochs=EPOCHS, seed=0):
    """The plain path in this process: `{"test_accuracy", "train_seconds"}`."""
    import keras

    from multimodal_tf import build_bert_classifier, build_text_preprocessor
    from multimodal_tf.data.pipeline import load_split
    from multimodal_tf.pretrained import minilm_checkpoint

    keras.utils.set_random_seed(seed)
    checkpoint = checkpoint or minilm_checkpoint()
    preprocessor = build_text_preprocessor(checkpoint, sequence_length=TEXT_LENGTH)
    data = dict(
        batch_size=BATCH_SIZE, text_preprocessor=preprocessor, presence=False, data_dir=data_dir
    )
    train_split = f"train[:{limit}]" if limit else "train"
    train = load_split("rt_snippets", train_split, shuffle=True, **data)
    test = load_split("rt_snippets", f"test[:{test_limit}]" if test_limit else "test", **data)
    model = build_bert_classifier(2, checkpoint=checkpoint, sequence_length=TEXT_LENGTH)
    started = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - started
    accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    return {"test_accuracy": float(accuracy), "train_seconds": seconds}


def run(rows, limit=None, data_dir=None, cli_extra=(), **plain_options):
    """Trains both sides once, from seed 0, and adds the row.

    Args:
        rows: the `bench.common.Rows` to add to.
        limit: the first N training snippets only (both sides).
        data_dir: the TFDS data folder.
        cli_extra: more `multimodal-tf train` arguments (tests).
        **plain_options: `checkpoint`, `test_limit`, `epochs` for the plain side (tests).

    Returns:
        `{"cli": ..., "plain": ...}`, each `{"test_accuracy", "train_seconds"}`.
    """
    from bench.common import side_in_a_process
    from bench.seeds import train_seed

    extra = [*cli_extra, *(["--limit", str(limit)] if limit else [])]
    extra += ["--data-dir", data_dir] if data_dir else []
    with tempfile.TemporaryDirectory(prefix="multimodal_tf-plain-fit-") as output:
        metrics = train_seed("rt_snippets", 0, output, extra)
    results = {
        "cli": {
            "test_accuracy": metrics["test_accuracy"]["all"],
            "train_seconds": metrics["train_seconds"],
            "precision": metrics["precision"],
        }
    }
    print(f"cli: {json.dumps(results['cli'])}", flush=True)
    options = {"limit": limit, "data_dir": data_dir, **plain_options}
    results["plain"] = side_in_a_process("bench.plain_fit", "plain", options)
    print(f"plain: {json.dumps(results['plain'])}", flush=True)
    cli, mine = results["cli"], results["plain"]
    rows.add(
        "plain-fit-rt-snippets",
        f"MiniLM on rt_snippets{f', first {limit} snippets' if limit else ''}, seed 0: test "
        "accuracy of build_bert_classifier's default compile + model.fit (float32) against "
        f"`multimodal-tf train --dataset rt_snippets` ({cli['precision']})",
        f"plain {mine['test_accuracy'] * 100:.2f}% ({mine['train_seconds']:.0f} s) vs CLI "
        f"{cli['test_accuracy'] * 100:.2f}% ({cli['train_seconds']:.0f} s)",
        f"{(mine['test_accuracy'] - cli['test_accuracy']) * 100:+.2f} pt",
        slug="",
    )
    return results


if __name__ == "__main__":
    print(json.dumps(plain(**json.loads(sys.argv[2]))))
