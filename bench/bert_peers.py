"""Benchmark: fine-tuning BERT with us against what a user would pick instead (issue 27).

Every side fine-tunes the same checkpoint (the packaged MiniLM) for one
epoch of the first `--limit` rt_snippets (1,600), 64 tokens, batch 32, Adam
at 5e-5, then scores the whole test split (2,111 snippets):

- `ours`: `training.train(build_bert_classifier)` on
  `load_split(..., text_preprocessor=...)`, raw strings tokenised in the
  graph, precision and XLA as `auto` decides;
- `keras-hub-float32`, `keras-hub-bfloat16`: keras-hub's
  `BertTextClassifier` with its plain `compile()` and `fit`, under that
  global policy, on token ids made beforehand;
- `torch-float32`, `torch-bfloat16`: transformers'
  `BertForSequenceClassification` in a plain torch loop, the second under
  `torch.autocast("cpu", torch.bfloat16)`; only where torch imports (it is
  never a dependency: install it into a folder of its own and put that on
  `PYTHONPATH`, docs/benchmarks.md).

The peers' token ids are transformers' `BertTokenizer`'s, which equal ours
(tests/models/test_bert_tokenizer.py). Each side runs in a fresh process, so
its peak resident memory is its own; the order alternates between
repetitions. Figures per side: steady samples/s (the median step after the
first `STEADY_AFTER`), the epoch's wall time (the whole training call:
tracing, compiling and the first steps included; loading the model not),
the seconds from the process' start to a trained model (imports and
loading included), peak resident memory and test accuracy. The rows give
medians, and ours against the fastest peer.

`python -m bench bert-peers [--limit 1600] [--repeats 3] [--record]`
"""

from __future__ import annotations

import json
import statistics
import sys
import time

PROCESS_STARTED = time.perf_counter()
STEADY_AFTER = 5  # the first steps trace, compile and warm caches
LEARNING_RATE = 5e-5
KERAS_SIDES = ("ours", "keras-hub-float32", "keras-hub-bfloat16")
TORCH_SIDES = ("torch-float32", "torch-bfloat16")
FIGURES = (
    # (name, label, format, higher is better, the ratio's words: ours against the best peer)
    ("samples_per_second", "steady training samples/s", "{:.1f}", True, "the rate of"),
    ("epoch_seconds", "epoch wall time (s, tracing included)", "{:.1f}", False, "the speed of"),
    (
        "start_to_trained_seconds",
        "process start to trained model (s)",
        "{:.1f}",
        False,
        "the speed of",
    ),
    ("peak_rss_mib", "peak resident memory (MiB)", "{:.0f}", False, "the memory of"),
    ("test_accuracy", "test accuracy", "{:.4f}", True, None),
)


def torch_available() -> bool:
    """Whether torch imports in a fresh process with this environment."""
    from bench.common import importable_in_a_process

    return importable_in_a_process("torch")


def _snippets(split: str, data_dir=None) -> tuple:
    """`(texts, labels)` of an rt_snippets split, as lists and a numpy array."""
    import numpy as np
    import tensorflow_datasets as tfds

    from multimodal_tf.data.pipeline import prepare

    builder = prepare("rt_snippets", data_dir)
    rows = list(tfds.as_numpy(builder.as_dataset(split=split)))
    return [row["text"].decode("utf-8") for row in rows], np.array([row["label"] for row in rows])


def _token_ids(checkpoint: str, texts, length: int):
    """transformers' BertTokenizer's ids, padded and truncated to `length` (numpy)."""
    from transformers import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(checkpoint)
    return tokenizer(texts, padding="max_length", truncation=True, max_length=length)["input_ids"]


def _result(steps, batch_size, epoch_seconds, trained_at, accuracy, **more) -> dict:
    from bench.common import peak_rss_mib

    return {
        "samples_per_second": batch_size / statistics.median(steps[STEADY_AFTER:] or steps),
        "epoch_seconds": epoch_seconds,
        "start_to_trained_seconds": trained_at - PROCESS_STARTED,
        "peak_rss_mib": peak_rss_mib(),
        "test_accuracy": float(accuracy),
        "steps": len(steps),
        **more,
    }


def _ours(checkpoint, limit, length, batch_size, test_limit, data_dir):
    from bench.common import step_timer
    from multimodal_tf import build_bert_classifier, build_text_preprocessor
    from multimodal_tf.data.pipeline import load_split
    from multimodal_tf.training import TrainingConfig, train

    preprocessor = build_text_preprocessor(checkpoint, sequence_length=length)
    data = dict(
        batch_size=batch_size, text_preprocessor=preprocessor, presence=False, data_dir=data_dir
    )
    steps = []
    result = train(
        lambda: build_bert_classifier(2, checkpoint=checkpoint, sequence_length=length),
        load_split("rt_snippets", f"train[:{limit}]", shuffle=True, **data),
        TrainingConfig(epochs=1, optimizer="adam", learning_rate=LEARNING_RATE, verbose=0),
        callbacks=[step_timer(steps)],
    )
    trained_at = time.perf_counter()
    test = load_split("rt_snippets", f"test[:{test_limit}]" if test_limit else "test", **data)
    accuracy = result.model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    return _result(
        steps,
        batch_size,
        result.seconds,
        trained_at,
        accuracy,
        precision=result.precision,
        jit_compile=result.jit_compile,
    )


def _keras_hub(policy, checkpoint, limit, length, batch_size, test_limit, data_dir):
    import keras
    import keras_hub
    import numpy as np

    from bench.common import step_timer

    def inputs(split):
        texts, labels = _snippets(split, data_dir)
        ids = np.asarray(_token_ids(checkpoint, texts, length), dtype="int32")
        return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": ids != 0}, (
            labels
        )

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone.from_preset(checkpoint)
    classifier = keras_hub.models.BertTextClassifier(
        backbone=backbone, num_classes=2, preprocessor=None
    )
    classifier.compile()  # keras-hub's defaults: Adam at 5e-5, sparse cross-entropy, accuracy
    x, y = inputs(f"train[:{limit}]")
    steps = []
    started = time.perf_counter()
    classifier.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=[step_timer(steps)])
    trained_at = time.perf_counter()
    x, y = inputs(f"test[:{test_limit}]" if test_limit else "test")
    probabilities = classifier.predict(x, batch_size=64, verbose=0)
    accuracy = np.mean(np.argmax(probabilities, axis=-1) == y)
    return _result(steps, batch_size, trained_at - started, trained_at, accuracy, precision=policy)


def _torch(bfloat16, checkpoint, limit, length, batch_size, test_limit, data_dir):
    import numpy as np
    import torch
    from transformers import BertForSequenceClassification

    def tensors(split):
        texts, labels = _snippets(split, data_dir)
        return torch.tensor(_token_ids(checkpoint, texts, length)), torch.tensor(labels)

    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    ids, labels = tensors(f"train[:{limit}]")
    order = torch.randperm(len(ids))
    steps = []
    started = time.perf_counter()
    model.train()
    for start in range(0, len(ids), batch_size):
        step_started = time.perf_counter()
        batch = order[start : start + batch_size]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            loss = model(
                input_ids=ids[batch], attention_mask=(ids[batch] != 0).long(), labels=labels[batch]
            ).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        float(loss)
        steps.append(time.perf_counter() - step_started)
    trained_at = time.perf_counter()
    ids, labels = tensors(f"test[:{test_limit}]" if test_limit else "test")
    model.eval()
    predictions = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        for start in range(0, len(ids), 64):
            batch = ids[start : start + 64]
            logits = model(input_ids=batch, attention_mask=(batch != 0).long()).logits
            predictions.append(logits.float().argmax(-1).numpy())
    accuracy = np.mean(np.concatenate(predictions) == labels.numpy())
    return _result(
        steps,
        batch_size,
        trained_at - started,
        trained_at,
        accuracy,
        precision="bfloat16 autocast" if bfloat16 else "float32",
    )


def measure(side: str, checkpoint=None, test_limit=None, data_dir=None, **options) -> dict:
    """Trains and scores one side in this process; returns its figures (a dict).

    Args:
        side: one of `KERAS_SIDES` or `TORCH_SIDES`.
        checkpoint: a Hugging Face BERT folder (default: the packaged MiniLM).
        test_limit: score the first N test snippets only (tests).
        data_dir: the TFDS data folder.
        **options: `limit`, `text_length`, `batch_size`.
    """
    from multimodal_tf.pretrained import minilm_checkpoint

    arguments = (
        checkpoint or minilm_checkpoint(),
        options["limit"],
        options["text_length"],
        options["batch_size"],
        test_limit,
        data_dir,
    )
    if side == "ours":
        figures = _ours(*arguments)
    elif side.startswith("keras-hub-"):
        figures = _keras_hub(
            "float32" if side.endswith("float32") else "mixed_bfloat16", *arguments
        )
    elif side in TORCH_SIDES:
        figures = _torch(side == "torch-bfloat16", *arguments)
    else:
        raise ValueError(f"`side` must be one of {KERAS_SIDES + TORCH_SIDES}, got {side!r}.")
    return {"side": side, **figures}


def run(rows, limit=None, repeats: int = 3, data_dir=None, sides=None, **more):
    """Runs every side `repeats` times, each in a fresh process, the order rotating.

    Args:
        rows: the `bench.common.Rows` to add to.
        limit: training snippets (default 1,600).
        repeats: repetitions of each side.
        data_dir: the TFDS data folder.
        sides: the sides (default: the Keras ones, and torch's where it imports).
        **more: `checkpoint`, `test_limit`, `text_length` (tests).
    """
    from bench.common import side_in_a_process

    if sides is not None and "ours" not in sides:
        raise ValueError(f"`sides` must include 'ours', got {sides!r}.")
    if sides is None:
        sides = KERAS_SIDES + (TORCH_SIDES if torch_available() else ())
        if len(sides) == len(KERAS_SIDES):
            print("torch does not import here: the torch sides are left out", flush=True)
    options = {"limit": limit or 1600, "text_length": 64, "batch_size": 32, "data_dir": data_dir}
    options.update(more)
    results = {side: [] for side in sides}
    for repeat in range(repeats):
        shift = repeat % len(sides)
        for side in sides[shift:] + sides[:shift]:
            figures = side_in_a_process("bench.bert_peers", side, options)
            results[side].append(figures)
            print(f"repetition {repeat + 1}: {json.dumps(figures)}", flush=True)
    add_rows(rows, results, options)
    return results


def add_rows(rows, results: dict, options: dict):
    """One row per figure: every side's median, and ours against the best peer."""
    ours = results["ours"][0]
    setting = (
        f"MiniLM on rt_snippets, first {options['limit']} snippets, 1 epoch, "
        f"{options['text_length']} tokens, batch {options['batch_size']}, Adam {LEARNING_RATE}; "
        f"ours under {ours['precision']}"
    )
    medians = {
        side: {name: statistics.median(f[name] for f in figures) for name, *_ in FIGURES}
        for side, figures in results.items()
    }
    repeats = min(len(figures) for figures in results.values())
    for name, label, form, higher, words in FIGURES:
        peers = {side: values[name] for side, values in medians.items() if side != "ours"}
        values = "; ".join(f"{side} {form.format(value[name])}" for side, value in medians.items())
        ratio_text = ""
        if peers:
            best = (max if higher else min)(peers, key=peers.get)
            mine, theirs = medians["ours"][name], peers[best]
            if words is None:
                ratio_text = f"{(mine - theirs) * 100:+.1f} pt vs {best}"
            else:  # a speed is the inverse of a time: above 1x, ours is faster
                quotient = theirs / mine if words == "the speed of" else mine / theirs
                ratio_text = f"{quotient:.2f}x {words} {best}"
        rows.add(
            f"bert-peers-{name.replace('_', '-')}",
            f"{setting}: {label}, medians of {repeats}",
            values,
            ratio_text,
            slug="",
        )


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], **json.loads(sys.argv[2]))))
