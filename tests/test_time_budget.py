"""`--time-budget MINUTES` (tests/conftest.py): CI's slow step runs tests while time allows."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pytest(folder, *arguments):
    (folder / "conftest.py").write_text(
        "from tests.conftest import pytest_addoption, pytest_runtest_setup  # noqa: F401\n"
    )
    (folder / "test_probe.py").write_text(
        "import time\n\ndef test_first():\n    time.sleep(0.2)\n\ndef test_second():\n    pass\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q", *arguments],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tests_after_the_budget_are_skipped_saying_why(tmp_path):
    spent = _pytest(tmp_path, "--time-budget", "0")
    assert spent.returncode == 0, spent.stdout + spent.stderr
    assert "2 skipped" in spent.stdout
    assert "--time-budget of 0 min spent before this test could start" in spent.stdout
    ample = _pytest(tmp_path, "--time-budget", "30")
    assert "2 passed" in ample.stdout, ample.stdout + ample.stderr


def test_a_negative_budget_is_a_usage_error(tmp_path):
    refused = _pytest(tmp_path, "--time-budget", "-5")
    assert refused.returncode == 4
    assert "--time-budget" in refused.stderr
