"""Tiny user files the tests write: PIL images of 20-80 px and tables of 10-30 rows."""

import numpy as np
from PIL import Image

ANIMALS = ("cat", "dog", "bird")


def write_image(path, size=32, value=100, fmt=None):
    """A small RGB picture (its size and brightness vary by the arguments)."""
    pixels = np.full((size, size + 3, 3), value, np.uint8)
    pixels[: size // 2, :, 0] = 255 - value
    Image.fromarray(pixels).save(path, fmt)
    return path


def write_rows(path, header, rows, delimiter=",", encoding="utf-8", bom=False):
    """A CSV-like file of `rows` (lists of cells) under `header`."""
    lines = [delimiter.join(header)] + [delimiter.join(map(str, row)) for row in rows]
    data = ("\n".join(lines) + "\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def animal_files(folder, count=12, **options):
    """`count` rows of photo (PNG and JPEG, 20-80 px), caption and a string label."""
    rows = []
    for index in range(count):
        name = f"photo{index}.{'png' if index % 2 else 'jpg'}"
        write_image(folder / name, size=20 + (index * 7) % 60, value=20 * (index % 12))
        animal = ANIMALS[index % 3]
        rows.append([name, f"a {animal} photo number {index}", animal])
    return write_rows(folder / "train.csv", ["photo", "caption", "species"], rows, **options)


def train_run_on(data, csv, label, run, flags, tmp_path_factory):
    """`(run folder, what train printed, data)`: `multimodal-tf train --data csv --label label`
    with `flags` into a new output folder, its exit code checked."""
    import contextlib
    import io

    from multimodal_tf.cli import main

    output = tmp_path_factory.mktemp("runs")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        arguments = ["--data", str(csv), "--label", label, "--output", str(output), "--run", run]
        code = main(["train", *arguments, *flags])
    assert code == 0, printed.getvalue()
    return output / run, printed.getvalue(), data
