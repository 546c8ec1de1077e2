"""Executes the notebooks and renders them to docs/notebooks/ as Markdown with PNG figures.

The committed notebooks stay stripped; this writes what a reader would see
after running them: `docs/notebooks/NAME.md` and `docs/notebooks/NAME_files/*.png`.
Each page says how it was made (QUICK or full, machine, minutes).

Usage:
    python scripts/render_notebooks.py                  # every notebook, QUICK off
    python scripts/render_notebooks.py 01 02            # notebooks whose name starts so
    python scripts/render_notebooks.py --quick 05       # QUICK on (for notebooks too slow in full)
"""

from __future__ import annotations

import argparse
import base64
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUTPUT = ROOT / "docs" / "notebooks"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_QUICK_SWITCH = "QUICK = True"
# Lines the runtime writes to stderr that say nothing about the notebook:
# TensorFlow's C++ log lines (before absl is initialised no setting hides
# them) and tqdm's note that ipywidgets is not installed.
_NOISE = re.compile(
    r"^([IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|.*TqdmWarning: IProgress not found"
    r"|  from \.autonotebook import tqdm as notebook_tqdm)"
)


def clean_stream(text: str, drop_noise: bool = False) -> str:
    """Terminal text as it ends up on screen: ANSI colours dropped, `\\r` rewrites applied.

    Args:
        text: the stream's text.
        drop_noise: also drop the runtime's log lines (for stderr).
    """
    lines = []
    for line in _ANSI.sub("", text).split("\n"):
        line = line.rstrip("\r").split("\r")[-1]
        if not (drop_noise and _NOISE.match(line)):
            lines.append(line)
    return "\n".join(lines).strip("\n")


def fenced(text: str, language: str = "") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text}\n{fence}"


def render_outputs(outputs, stem: str, cell_number: int, figures: pathlib.Path) -> list:
    """The Markdown of one code cell's outputs; PNGs are written to `figures`."""
    parts, streams = [], []
    for output_number, output in enumerate(outputs):
        if output.output_type == "stream":
            streams.append(clean_stream(output.text, drop_noise=output.name == "stderr"))
            continue
        if streams:
            parts.append(fenced("\n".join(part for part in streams if part), "text"))
            streams = []
        if output.output_type == "error":
            raise RuntimeError(f"{stem} cell {cell_number} failed: {output.ename}: {output.evalue}")
        data = output.get("data", {})
        if "image/png" in data:
            figures.mkdir(parents=True, exist_ok=True)
            name = f"cell{cell_number:02d}_{output_number}.png"
            (figures / name).write_bytes(base64.b64decode(data["image/png"]))
            parts.append(f"![{stem} cell {cell_number}]({figures.name}/{name})")
        elif "text/markdown" in data:
            parts.append(data["text/markdown"])
        elif "text/html" in data and "<table" in data["text/html"]:
            parts.append(data["text/html"])
        elif "text/plain" in data:
            parts.append(fenced(clean_stream(data["text/plain"]), "text"))
    if streams:
        parts.append(fenced("\n".join(part for part in streams if part), "text"))
    return [part for part in parts if part.strip() and part != fenced("", "text")]


def to_markdown(notebook, stem: str, figures: pathlib.Path, header: str) -> str:
    """The executed notebook as one Markdown page."""
    parts = [header]
    for cell_number, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code":
            parts.append(fenced(cell.source, "python"))
            parts.extend(render_outputs(cell.get("outputs", []), stem, cell_number, figures))
    return "\n\n".join(parts) + "\n"


def machine() -> str:
    sys.path.insert(0, str(ROOT))
    from bench.common import machine as describe

    return describe()


def render(path: pathlib.Path, quick: bool, timeout: int) -> pathlib.Path:
    """Executes one notebook (QUICK as given) and writes its page; returns the page's path."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    if notebook.cells[1].source.strip() != _QUICK_SWITCH:
        raise ValueError(f"{path.name}: the second cell must be `{_QUICK_SWITCH}`.")
    notebook.cells[1].source = f"QUICK = {quick}"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": workdir}},
        ).execute()
    minutes = (time.perf_counter() - started) / 60
    figures = OUTPUT / f"{path.stem}_files"
    shutil.rmtree(figures, ignore_errors=True)
    mode = "QUICK (reduced data and epochs)" if quick else "full (QUICK = False)"
    header = (
        f"<!-- Rendered from notebooks/{path.name} by scripts/render_notebooks.py; do not edit. "
        "-->\n"
        f"> Executed {time.strftime('%Y-%m-%d')} in {mode} on {machine()}, "
        f"{minutes:.1f} min. Source: [`notebooks/{path.name}`](../../notebooks/{path.name}). "
        "TensorFlow's C++ start-up log lines are left out."
    )
    page = OUTPUT / f"{path.stem}.md"
    page.write_text(to_markdown(notebook, path.stem, figures, header), encoding="utf-8")
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--quick", action="store_true", help="run with QUICK = True")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default 3600)")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [path for path in paths if any(path.name.startswith(name) for name in args.names)]
        if not paths:
            parser.error(f"no notebook starts with {args.names}")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend captures the figures
    for path in paths:
        page = render(path, args.quick, args.timeout)
        print(f"{path.name} -> {page.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
