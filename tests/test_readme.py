"""The README's examples, and those of the docs pages it sends users to, run as written.

The pages are read in the order of `PAGES` (the README first, then the pages
whose code continues one another: training defines what tuning and explain
use). Every ```python block runs, in that order, in one fresh process; every
`multimodal-tf evaluate|predict|export` line of their ```bash blocks (indented
ones too) runs against quick runs this test trains. QUICK substitutions shrink
epochs, trials and rows and nothing else.
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from multimodal_tf.cli import main
from tests.helpers import cli_args

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = (
    "README.md",
    "docs/commands.md",
    "docs/document.md",
    "docs/training.md",
    "docs/tuning.md",
    "docs/explain.md",
    "docs/data.md",
)
README = "\n".join(open(os.path.join(ROOT, page), encoding="utf-8").read() for page in PAGES)
QUICK = [
    ("epochs=12", "epochs=1"),
    ("epochs=5", "epochs=1"),
    ("max_trials=20", "max_trials=1"),
    (
        '"twemoji_categories", "train", shuffle=True',
        '"twemoji_categories", "train[:48]", shuffle=True',
    ),
    ('"twemoji_categories", "validation")', '"twemoji_categories", "validation[:16]")'),
]


def blocks(language):
    """The code of every ```language block, indented ones (in list items) unindented."""
    found = re.findall(rf"(?m)^( *)```{language}\n(.*?)^ *```", README, flags=re.S)
    return [
        textwrap.dedent("\n".join(line[len(indent) :] for line in code.splitlines()) + "\n")
        for indent, code in found
    ]


def quick(code):
    for long, short in QUICK:
        code = code.replace(long, short)
    return code


def test_the_readme_has_what_this_test_runs():
    assert len(blocks("python")) >= 4
    assert all(long in README for long, _ in QUICK), (
        "a QUICK substitution no longer matches the README"
    )


PRODUCTS = [("shoe", (200, 30, 30)), ("bag", (30, 200, 30)), ("hat", (30, 30, 200))]


def write_products(folder):
    """The README's `products.csv`: 24 photos in three colours, a category per colour, a price
    and a brand (the tabular columns)."""
    (folder / "photos").mkdir()
    rows = ["image,price,brand,category"]
    for index in range(24):
        category, colour = PRODUCTS[index % 3]
        Image.new("RGB", (48 + index, 40), colour).save(folder / "photos" / f"{index}.png")
        price, brand = 10 * (index % 3) + index / 10, ("acme", "zenith")[index % 2]
        rows.append(f"photos/{index}.png,{price:.1f},{brand},{category}")
    (folder / "products.csv").write_text("\n".join(rows) + "\n")


def test_every_python_block_runs_in_order_in_one_fresh_process(data_dir, tmp_path):
    write_products(tmp_path)
    code = "\n".join(quick(block) for block in blocks("python"))
    environment = {**os.environ, "TFDS_DATA_DIR": data_dir, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "runs" / "fusion" / "best.keras").is_file() and (
        tmp_path / "tuning" / "fusion"
    ).is_dir()


def command_lines():
    """The README's `multimodal-tf evaluate|predict|export` lines, comments dropped."""
    lines = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if re.match(r"multimodal-tf (evaluate|predict|export) ", line):
                lines.append(line)
    return lines


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory, data_dir):
    output = tmp_path_factory.mktemp("readme-runs")
    common = [
        "--epochs",
        "1",
        "--test-limit",
        "16",
        "--quiet",
        "--data-dir",
        data_dir,
        "--output",
        str(output),
    ]
    assert (
        main(
            [
                *cli_args("train", limit=48, architecture="tiny", text_length=16, run="fusion"),
                *common,
            ]
        )
        == 0
    )
    assert (
        main(["train", "--dataset", "fashion_mnist", "--limit", "256", "--run", "cnn", *common])
        == 0
    )
    return output


@pytest.mark.slow
def test_every_command_line_runs(quick_runs, data_dir, tmp_path):
    lines = command_lines()
    assert len(lines) >= 5
    Image.new("RGB", (40, 40), (240, 200, 20)).save(tmp_path / "smile.png")
    (tmp_path / "rows.csv").write_text("image,text\nsmile.png,a red apple\n,grinning face\n")
    for line in lines:
        line = (
            line.replace("saved_models/<run>", str(quick_runs / "fusion"))
            .replace("saved_models/<cnn-run>", str(quick_runs / "cnn"))
            .replace("exported/<name>/1", str(tmp_path / f"exported-{len(line)}" / "1"))
        )
        arguments = shlex.split(line)[1:]
        if arguments[0] in ("evaluate", "export"):
            arguments += ["--data-dir", data_dir]
        result = subprocess.run(
            [sys.executable, "-m", "multimodal_tf.cli", *arguments],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (line, result.stderr[-3000:])


def test_the_readme_is_a_front_door():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().splitlines()
    assert len(readme) <= 150, f"README.md has {len(readme)} lines; keep it at 150 or fewer"
    first = "\n".join(readme[:30])
    assert "bash scripts/main.sh" in first and "bash scripts/test.sh" in first
    for page in PAGES[1:]:
        assert f"({page})" in "\n".join(readme), f"README.md does not link {page}"
