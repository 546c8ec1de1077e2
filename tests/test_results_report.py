"""bench/results.jsonl is the one copy of every measurement; the pages made from it are fresh."""

import hashlib
import json
import os
import subprocess
import sys

import pytest

from bench import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_generated_file_is_what_the_rows_give(tmp_path):
    assert report.main(["--output", str(tmp_path)]) == 0
    stale = []
    for name in report.generate(ROOT):
        with open(os.path.join(ROOT, name), encoding="utf-8") as committed:
            if committed.read() != (tmp_path / name).read_text(encoding="utf-8"):
                stale.append(name)
    assert not stale, f"stale: {stale}; run `python -m bench.report` and commit the result"
    assert (tmp_path / "docs" / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_plot_was_drawn_from_the_current_rows():
    rows = report.read_rows(os.path.join(ROOT, report.RESULTS))
    by_id = {row["id"]: row for row in rows}
    with open(os.path.join(ROOT, "docs", "results.png.sha"), encoding="utf-8") as sidecar:
        assert sidecar.read().strip() == report.rows_hash(report.plot_rows(by_id))
    assert os.path.getsize(os.path.join(ROOT, "docs", "results.png")) > 10_000


def test_the_report_imports_no_tensorflow():
    code = (
        "import sys; from bench import report; code = report.main(['--check']); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_rows_have_every_field_and_superseded_rows_name_a_row():
    rows = report.read_rows(os.path.join(ROOT, report.RESULTS))
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert {row["machine_class"] for row in rows} >= {"avx2", "avx512_bf16", "amx", "gpu"}
    assert all(row["superseded_by"] in (None, *ids) for row in rows)


def test_a_bad_row_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"id": "a", "benchmark": "guard-cnn"}) + "\n")
    with pytest.raises(ValueError, match="`command` is missing"):
        report.read_rows(str(path))
    row = {field: None for field in report.REQUIRED} | {"id": "a", "superseded_by": "b"}
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match="`superseded_by` of 'a' is 'b'"):
        report.read_rows(str(path))


def test_a_citation_is_filled_from_its_row_and_an_unknown_one_refused():
    rows = {"r": {"figures": {"ratio": "1.50x", "test: all": "90%"}}}
    assert report.cite("{ratio:r} and {test: all:r}", rows) == "1.50x and 90%"
    with pytest.raises(ValueError, match="cites 'q'"):
        report.cite("{ratio:q}", rows)


def test_the_hash_changes_with_the_rows():
    rows = [{"id": "a", "figures": {"ratio": "1.00x"}}]
    changed = [{"id": "a", "figures": {"ratio": "1.01x"}}]
    assert report.rows_hash(rows) != report.rows_hash(changed)
    assert len(report.rows_hash(rows)) == len(hashlib.sha256().hexdigest())
