"""The package's house rules: a lazy root, no import cycle, no module over 400 lines."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "multimodal_tf"
_spec = importlib.util.spec_from_file_location(
    "check_import_cycles", ROOT / "scripts" / "check_import_cycles.py"
)
check_import_cycles = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_import_cycles)


def test_importing_the_package_loads_no_tensorflow_until_a_name_is_used():
    script = (
        "import sys, multimodal_tf\n"
        "assert not [m for m in sys.modules if m.startswith(('tensorflow', 'keras'))]\n"
        "assert 'build_cnn_classifier' in dir(multimodal_tf)\n"
        "print(multimodal_tf.build_cnn_classifier().count_params())\n"
        "assert 'keras' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "93322"


def test_an_unknown_name_is_an_attribute_error():
    import multimodal_tf

    with pytest.raises(AttributeError, match="has no attribute 'build_everything'"):
        multimodal_tf.build_everything  # noqa: B018


def test_the_package_has_no_import_cycle():
    assert check_import_cycles.find_cycle(check_import_cycles.import_graph(PACKAGE)) is None


def test_the_cycle_check_names_a_circle(tmp_path, capsys):
    package = tmp_path / "circle"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle.inner import b\n")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "b.py").write_text(
        "import os\n\ndef later():\n    import circle.a\n\nfrom circle import c\n"
    )
    (package / "c.py").write_text("if True:\n    from . import a\n")
    assert check_import_cycles.main([str(package)]) == 1
    assert "circle.a -> circle.inner.b -> circle.c -> circle.a" in capsys.readouterr().err
    (package / "c.py").write_text("def later():\n    from . import a\n")
    assert check_import_cycles.main([str(package)]) == 0


def test_no_package_module_is_over_400_lines():
    long = {
        str(path.relative_to(PACKAGE)): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text().splitlines())) > 400
    }
    assert not long, long


def test_git_ignores_no_source_file():
    """A .gitignore pattern once hid `multimodal_tf/tuning/`: the split never reached CI."""
    sources = [
        str(path.relative_to(ROOT))
        for folder in ("multimodal_tf", "tests", "bench", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(sources),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode == 128:
        pytest.skip(f"not a git checkout: {result.stderr.strip()}")
    assert result.stdout.split() == []
