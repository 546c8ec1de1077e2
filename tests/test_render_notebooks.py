"""scripts/render_notebooks.py turns an executed notebook into Markdown and PNGs; the pages
exist."""

import base64
import pathlib
import re
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import render_notebooks  # noqa: E402

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e5270de40000000049454e44ae426082"
    )
).decode()


def test_an_executed_notebook_becomes_markdown_with_its_figures(tmp_path):
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print('hi')")
    code.outputs = [
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text="I0000 00:00:1795794834.676825    2163 port.cc:153] oneDNN\n",
        ),
        nbformat.v4.new_output("stream", name="stdout", text="epoch 1\rdone 1/1\n"),
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
    ]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    figures = tmp_path / "page_files"
    page = render_notebooks.to_markdown(notebook, "page", figures, "> header")
    assert page.startswith("> header\n\n# Title\n\n```python\nprint('hi')\n```")
    assert (
        "```text\ndone 1/1\n```" in page and "port.cc" not in page
    )  # \r rewrites applied, C++ log dropped
    assert (
        "![page cell 1](page_files/cell01_2.png)" in page and (figures / "cell01_2.png").is_file()
    )


def test_a_failed_cell_stops_the_render(tmp_path):
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("1/0")
    code.outputs = [
        nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[]
        )
    ]
    notebook.cells = [code]
    with pytest.raises(RuntimeError, match="page cell 0 failed: ZeroDivisionError"):
        render_notebooks.to_markdown(notebook, "page", tmp_path, "> header")


def test_every_notebook_has_a_rendered_page_with_its_figures_and_the_readme_links_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = ROOT / "docs" / "notebooks" / f"{notebook.stem}.md"
        assert page.is_file(), f"render it: python scripts/render_notebooks.py {notebook.stem[:2]}"
        text = page.read_text(encoding="utf-8")
        assert f"Rendered from notebooks/{notebook.name}" in text
        for figure in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
            assert (page.parent / figure).is_file(), figure
        assert f"docs/notebooks/{notebook.stem}.md" in readme
