"""Chooses the main job's configuration on `twemoji_categories`' validation split, never on test.

Trains each candidate below with `multimodal-tf train` into
`saved_models/select/<name>` (a finished candidate is kept and not
retrained; `--retrain` trains it again), then prints a Markdown table of
validation accuracy (all modalities, image only, text only) with the epoch
at which the validation accuracy of all modalities peaked. Test accuracy is
printed only with `--test`, once the choice is made: docs/results.md shows
both tables and the command that made them.

    python scripts/select_twemoji.py              # train what is missing, print validation
    python scripts/select_twemoji.py --only fusion-aug,text
    python scripts/select_twemoji.py --test       # after choosing: the test columns, and the
                                                  # chosen fusion vs the chosen text-alone model
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join("saved_models", "select")

# name -> the arguments of `multimodal-tf train` (on twemoji_categories, seed 0).
CANDIDATES = {
    # the image side alone: what helps the document's CNN on emoji it never saw
    "image": "--model multimodal --modalities image --epochs 20 --augmentation off --optimizer "
    "auto",
    "image-aug": "--model multimodal --modalities image --epochs 20 --augmentation on --optimizer "
    "auto",
    "image-aug-ls": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--label-smoothing 0.1 --optimizer auto",
    "image-aug-wide": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--image-filters 64,64,64 --optimizer auto",
    "image-aug-bn": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--image-batch-norm on --optimizer auto",
    "image-aug-dropout": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--image-dropout 0.5 --optimizer auto",
    "image-aug-wd": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--optimizer adamw --weight-decay 0.05",
    "image-aug-e40": "--model multimodal --modalities image --epochs 40 --augmentation on "
    "--optimizer auto",
    # twemoji_categories 3.0.0, issue 28: what makes the image side robust to another artist's style
    # (colour, greyscale, erasing, stronger geometry, a deeper or wider CNN)
    "image-aug-wd-colour": "--model multimodal --modalities image --epochs 20 --augmentation "
    "hue=0.5,saturation=0.5 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-grey": "--model multimodal --modalities image --epochs 20 --augmentation "
    "grayscale=0.25 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-erase": "--model multimodal --modalities image --epochs 20 --augmentation "
    "erasing=0.5 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-geo": "--model multimodal --modalities image --epochs 20 --augmentation "
    "translation=0.15,zoom=0.2,rotation=0.05 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-deep": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--image-filters 32,64,128,128 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-wide": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--image-filters 64,128,128 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-seed1": "--model multimodal --modalities image --epochs 20 --augmentation on "
    "--seed 1 --optimizer adamw --weight-decay 0.05",
    "image-aug-wd-deep-seed1": "--model multimodal --modalities image --epochs 20 --augmentation "
    "on --image-filters 32,64,128,128 --seed 1 --optimizer adamw --weight-decay 0.05",
    # the text side alone (the comparison fusion has to beat)
    "text": "--model multimodal --modalities text --epochs 20 --optimizer auto",
    "text-seed1": "--model multimodal --modalities text --epochs 20 --seed 1 --optimizer auto",
    "text-e40": "--model multimodal --modalities text --epochs 40 --optimizer auto",
    "text-wd": "--model multimodal --modalities text --epochs 20 --optimizer adamw --weight-decay "
    "0.05",
    "text-e40-wd": "--model multimodal --modalities text --epochs 40 --optimizer adamw "
    "--weight-decay 0.05",
    # fusion: augmentation, label smoothing, modality dropout, fusion type, epochs
    "fusion": "--epochs 20 --augmentation off --optimizer auto",
    "fusion-aug": "--epochs 20 --augmentation on --optimizer auto",
    "fusion-aug-seed1": "--epochs 20 --augmentation on --seed 1 --optimizer auto",
    "fusion-aug-ls": "--epochs 20 --augmentation on --label-smoothing 0.1 --optimizer auto",
    "fusion-aug-md04": "--epochs 20 --augmentation on --modality-dropout 0.4 --optimizer auto",
    "fusion-aug-concat": "--epochs 20 --augmentation on --fusion concat --optimizer auto",
    "fusion-aug-gated": "--epochs 20 --augmentation on --fusion gated --optimizer auto",
    "fusion-aug-lr3e-4": "--epochs 20 --augmentation on --learning-rate 3e-4 --optimizer auto",
    "fusion-aug-lr3e-3": "--epochs 20 --augmentation on --learning-rate 3e-3 --optimizer auto",
    "fusion-aug-wd": "--epochs 20 --augmentation on --optimizer adamw --weight-decay 0.05",
    # twemoji_categories 3.0.0 has three styles of each training emoji: 7 epochs are about the
    # steps 20 were on 2.0.0
    "fusion-aug-wd-e7": "--epochs 7 --augmentation on --optimizer adamw --weight-decay 0.05",
    "fusion-aug-wd-deep": "--epochs 20 --augmentation on --image-filters 32,64,128,128 "
    "--optimizer adamw --weight-decay 0.05",
    "fusion-aug-e40": "--epochs 40 --augmentation on --optimizer auto",
    "fusion-aug-md04-e40": "--epochs 40 --augmentation on --modality-dropout 0.4 --optimizer auto",
    # not a candidate: the chosen model without modality dropout, for the missing-modality curve
    "fusion-aug-wd-md0": "--epochs 20 --augmentation on --optimizer adamw --weight-decay 0.05 "
    "--modality-dropout 0",
}
SUBSETS = ("all", "image only", "text only")
# Chosen on the validation column (docs/results.md says why); the main job's defaults are CHOSEN.
CHOSEN = "fusion-aug-wd"
CHOSEN_TEXT = "text-e40"


def train(name: str, retrain: bool) -> None:
    command = [
        sys.executable,
        "-m",
        "multimodal_tf.cli",  # the `multimodal-tf` command
        "train",
        *CANDIDATES[name].split(),
        "--output",
        OUTPUT,
        "--run",
        name,
        # the recorded tables are float32's; `auto` picks mixed_bfloat16 on bfloat16 CPUs
        "--precision",
        "float32",
        "--quiet",
        *(["--overwrite"] if retrain else []),
    ]
    print("$ multimodal-tf", " ".join(command[3:]), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def row(name: str, with_test: bool) -> str:
    with open(os.path.join(ROOT, OUTPUT, name, "metrics.json"), encoding="utf-8") as file:
        metrics = json.load(file)
    cells = [f"`{name}`", f"`{CANDIDATES[name]}`"]
    for split in ("validation_accuracy", *(("test_accuracy",) if with_test else ())):
        cells += [
            f"{100 * metrics[split][subset]:.2f}%" if subset in metrics[split] else "—"
            for subset in SUBSETS
        ]
    by_artist = metrics.get("validation_accuracy_by_artist")  # twemoji_categories 3.0.0 on
    image_subset = "all" if list(metrics["config"]["modalities"]) == ["image"] else "image only"
    cells.append(
        " / ".join(f"{100 * scores[image_subset]:.1f}%" for scores in by_artist.values())
        if by_artist
        else "—"
    )
    curve = metrics.get("history", {}).get("val_accuracy", [])
    best = max(range(len(curve)), key=curve.__getitem__) if curve else None
    cells.append(f"{best + 1} ({100 * curve[best]:.2f}%)" if curve else "—")
    cells.append(f"{metrics['train_seconds']:.0f} s")
    return "| " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="comma-separated candidate names")
    parser.add_argument("--retrain", action="store_true", help="train finished candidates again")
    parser.add_argument("--test", action="store_true", help="also print test accuracy")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = [name for name in names if name not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidate(s) {unknown}; choose from {', '.join(CANDIDATES)}")
    for name in names:
        if args.retrain or not os.path.isfile(os.path.join(ROOT, OUTPUT, name, "metrics.json")):
            train(name, args.retrain)
    columns = ["candidate", "arguments"]
    columns += [f"validation: {subset}" for subset in SUBSETS]
    columns += [f"test: {subset}" for subset in SUBSETS] if args.test else []
    columns += ["validation image only: twitter / google / openmoji"]
    columns += ["best validation epoch (all)", "training time"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for name in names:
        print(row(name, args.test))
    if args.test:  # the chosen fusion against the chosen text-alone model, on the same test rows
        sys.path.insert(0, ROOT)
        from multimodal_tf.runs.comparison import compare_runs

        comparison = compare_runs(
            os.path.join(ROOT, OUTPUT, CHOSEN),
            os.path.join(ROOT, OUTPUT, CHOSEN_TEXT),
            names=("fusion", "text alone"),
        )
        print(f"\n{comparison.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
