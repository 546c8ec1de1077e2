"""The notebooks run top to bottom in their QUICK setting, so they can never rot."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


# The default run keeps the first notebook (the document's CNN, about half a
# minute); the others train BERT, fusion and tuning trials: `-m slow`.
QUICK_BY_DEFAULT = {"01_cnn_fashion_mnist"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
            id=path.stem,
            marks=() if path.stem in QUICK_BY_DEFAULT else pytest.mark.slow,
        )
        for path in NOTEBOOKS
    ],
)
def test_notebook_runs_in_quick_mode(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    assert "QUICK = True" in notebook.cells[1].source, (
        "the second cell must be the QUICK switch, set to True"
    )
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "strip outputs"
    )
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert not errors
