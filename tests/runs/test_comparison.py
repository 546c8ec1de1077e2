"""Paired comparison of two runs: discordant counts and the exact McNemar test."""

import numpy as np
import pytest
from scipy import stats

from multimodal_tf.runs import comparison
from multimodal_tf.runs.comparison import compare_runs, mcnemar_exact


@pytest.mark.parametrize("only_first, only_second", [(23, 14), (31, 12), (5, 0), (40, 40), (1, 9)])
def test_exact_mcnemar_is_the_two_sided_binomial_test(only_first, only_second):
    expected = stats.binomtest(only_first, only_first + only_second, 0.5).pvalue
    assert mcnemar_exact(only_first, only_second) == pytest.approx(expected, rel=1e-9)
    assert mcnemar_exact(only_second, only_first) == mcnemar_exact(only_first, only_second)


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_mcnemar_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match="`only_first` must be a count"):
        mcnemar_exact(bad, 3)


def test_compare_counts_the_rows_only_one_run_gets_right(monkeypatch):
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    predictions = {
        "fusion": np.array([0, 1, 2, 0, 1, 2, 1, 0]),  # 6 right
        "text": np.array([0, 1, 0, 1, 1, 2, 0, 0]),  # 5 right
    }
    monkeypatch.setattr(
        comparison, "run_predictions", lambda path, split, data_dir: (predictions[path], labels)
    )
    result = compare_runs("fusion", "text", names=("fusion", "text alone"))
    assert (result.only_first, result.only_second, result.examples) == (2, 1, 8)
    assert (result.first_accuracy, result.second_accuracy) == (0.75, 0.625)
    assert result.p_value == pytest.approx(1.0)
    assert result.line().startswith(
        "fusion vs text alone: +12.50 points (75.00% vs 62.50%), exact McNemar p = 1 "
    )


def test_compare_refuses_runs_scored_on_other_rows(monkeypatch):
    rows = {"a": np.array([0, 1, 2]), "b": np.array([0, 1])}
    monkeypatch.setattr(
        comparison, "run_predictions", lambda path, split, data_dir: (rows[path], rows[path])
    )
    with pytest.raises(ValueError, match="not scored on the same test rows"):
        compare_runs("a", "b")
