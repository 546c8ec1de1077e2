"""Distils the fine-tuned MiniLM (a `train --dataset rt_snippets` run) into a 2-layer BERT.

    python scripts/distill_rt.py [TEACHER_RUN] [--epochs 5] [--output saved_models]

Trains the same small student twice from the same initial weights: once by
distillation from the teacher, once on the labels alone, and prints
parameters, file size, inference speed (median of 3 passes over the test
split) and test accuracy of teacher, distilled student and student alone.
Writes both students as run-like folders (`model.keras` + `metrics.json`).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import time

import keras

from multimodal_tf import build_bert_classifier, build_text_preprocessor, load_model
from multimodal_tf.compress import distill
from multimodal_tf.data.pipeline import load_split, prepare
from multimodal_tf.pretrained import minilm_checkpoint

STUDENT = dict(num_layers=2, num_heads=2, hidden_dim=128, intermediate_dim=512, pooling="mean")


def examples_per_second(model, data, count):
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        model.predict(data, verbose=0)
        seconds.append(time.perf_counter() - started)
    return count / statistics.median(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "teacher",
        nargs="?",
        default=None,
        help="the teacher's run folder (default: the newest finished "
        "saved_models/rt_snippets-classifier-* run)",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--output", default="saved_models")
    args = parser.parse_args(argv)
    if args.teacher is None:
        finished = sorted(
            folder
            for folder in glob.glob("saved_models/rt_snippets-classifier-*")
            if os.path.isfile(os.path.join(folder, "metrics.json"))
        )
        if not finished:
            parser.error(
                "no finished rt_snippets run in saved_models/: train the teacher with "
                "`multimodal-tf train --dataset rt_snippets`, or pass its run folder"
            )
        args.teacher = finished[-1]  # the names end in a sortable timestamp
        print(f"teacher: {args.teacher}")

    teacher = load_model(os.path.join(args.teacher, "model.keras"))
    teacher_metrics = json.load(open(os.path.join(args.teacher, "metrics.json"), encoding="utf-8"))
    length = teacher_metrics["config"]["text_length"]
    prepare("rt_snippets")
    preprocessor = build_text_preprocessor(minilm_checkpoint(), sequence_length=length)

    def split(name, **kwargs):
        return load_split(
            "rt_snippets",
            name,
            batch_size=32,
            text_preprocessor=preprocessor,
            presence=False,
            **kwargs,
        )

    train, test = split("train", shuffle=True), split("test")
    test_count = sum(int(labels.shape[0]) for _, labels in test)
    rows = {
        "teacher (MiniLM, 6 layers, fine-tuned)": (
            teacher,
            os.path.join(args.teacher, "model.keras"),
            None,
        )
    }
    for name, distilled in (("student distilled", True), ("student alone", False)):
        keras.utils.set_random_seed(0)  # both students start from the same weights
        student = build_bert_classifier(
            2, sequence_length=length, learning_rate=args.learning_rate, **STUDENT
        )
        started = time.perf_counter()
        if distilled:
            student, _ = distill(
                teacher,
                student,
                train,
                temperature=args.temperature,
                alpha=args.alpha,
                epochs=args.epochs,
                learning_rate=args.learning_rate,
                verbose=2,
            )
        else:
            student.fit(train, epochs=args.epochs, verbose=2)
        seconds = time.perf_counter() - started
        folder = os.path.join(args.output, "rt-" + name.replace(" ", "-"))
        os.makedirs(folder, exist_ok=True)
        student.save(os.path.join(folder, "model.keras"))
        rows[name] = (student, os.path.join(folder, "model.keras"), seconds)

    results = {}
    for name, (model, path, seconds) in rows.items():
        accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
        results[name] = {
            "parameters": model.count_params(),
            "file_bytes": os.path.getsize(path),
            "test_examples_per_second": round(examples_per_second(model, test, test_count), 1),
            "test_accuracy": round(float(accuracy), 4),
            "train_seconds": None if seconds is None else round(seconds, 1),
        }
        print(json.dumps({name: results[name]}), flush=True)
    settings = {k: v for k, v in vars(args).items()}
    for name in ("student distilled", "student alone"):
        folder = os.path.join(args.output, "rt-" + name.replace(" ", "-"))
        with open(os.path.join(folder, "metrics.json"), "w", encoding="utf-8") as file:
            json.dump(
                {"settings": settings, "student": STUDENT, "results": results}, file, indent=2
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
