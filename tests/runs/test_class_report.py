"""`runs.class_report`: per-class precision, recall and F1 and the confusion matrix."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from multimodal_tf.runs.class_report import (
    PRINTED_CONFUSION_LIMIT,
    class_report,
    confusion_file,
    format_class_report,
    save_confusion_matrix,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_report_agrees_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=200)
    predicted = np.where(rng.random(200) < 0.6, labels, rng.integers(0, 4, size=200))
    predicted[predicted == 3] = 2  # class 3 is never predicted: precision 0, not NaN
    report = class_report(labels, predicted, ["a", "b", "c", "d"])
    for average in (None, "macro", "weighted"):
        expected = precision_recall_fscore_support(
            labels, predicted, labels=range(4), average=average, zero_division=0
        )
        if average is None:
            got = [[row[name] for row in report["classes"]] for name in ("precision", "recall")]
            got += [[row["f1"] for row in report["classes"]]]
            np.testing.assert_allclose(got, expected[:3], atol=1e-4)
            assert [row["support"] for row in report["classes"]] == list(expected[3])
        else:
            scores = report[average]
            np.testing.assert_allclose(
                [scores["precision"], scores["recall"], scores["f1"]], expected[:3], atol=1e-4
            )
    assert (
        report["confusion_matrix"] == confusion_matrix(labels, predicted, labels=range(4)).tolist()
    )
    assert report["accuracy"] == round(float(np.mean(labels == predicted)), 4)


def test_bad_ids_name_the_argument_and_the_range():
    with pytest.raises(ValueError, match=r"`labels` must be class ids in \[0, 2\).*got 2"):
        class_report([0, 2], [0, 1], ["cat", "dog"])
    with pytest.raises(ValueError, match=r"`predicted` must be class ids in \[0, 2\).*got -1"):
        class_report([0, 1], [0, -1], ["cat", "dog"])
    with pytest.raises(ValueError, match=r"one class id per label \(2\), got 3"):
        class_report([0, 1], [0, 1, 1], ["cat", "dog"])


def test_the_printed_report_has_a_row_per_class_the_averages_and_the_matrix():
    lines = format_class_report(class_report([0, 0, 1, 1], [0, 1, 1, 1], ["cat", "dog"]))
    assert lines[0].split() == ["class", "precision", "recall", "f1", "support"]
    assert lines[1].split() == ["cat", "1.0000", "0.5000", "0.6667", "2"]
    assert lines[2].split() == ["dog", "0.6667", "1.0000", "0.8000", "2"]
    assert lines[3].startswith("macro avg") and lines[4].startswith("weighted avg")
    assert lines[-2].split() == ["cat", "1", "1"] and lines[-1].split() == ["dog", "0", "2"]
    many = [f"class{index}" for index in range(PRINTED_CONFUSION_LIMIT + 1)]
    ids = list(range(len(many)))
    assert "drawn in the run's PNG" in format_class_report(class_report(ids, ids, many))[-1]


def test_the_confusion_matrix_is_drawn_as_a_png(tmp_path):
    path = tmp_path / confusion_file("test[:100]")
    assert path.name == "confusion_test_100.png"
    save_confusion_matrix(class_report([0, 1, 2, 2], [0, 2, 2, 1], ["a", "b", "c"]), str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [item.name for item in tmp_path.iterdir()] == [path.name]  # no temporary left
