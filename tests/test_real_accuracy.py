"""Slow: the document's models reach sensible accuracy on the real datasets.

Run with `bash scripts/test.sh -m slow`. The full numbers, with their
commands and times, are in docs/results.md.
"""

import pytest

from multimodal_tf.runs import RunConfig, train_run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "dataset, epochs, floor",
    [
        ("fashion_mnist", 2, 0.85),  # document CNN; 92.11% after the default 30 epochs
        ("japanese_vowels", 60, 0.95),  # stacked LSTM, standardised: 97.0%; published 97-99%
    ],
)
def test_document_classifiers_on_real_data(dataset, epochs, floor, data_dir, tmp_path):
    metrics = train_run(
        RunConfig(dataset=dataset, epochs=epochs, data_dir=data_dir),
        output=str(tmp_path),
        verbose=0,
    )
    assert metrics["test_accuracy"]["all"] >= floor, metrics["test_accuracy"]


def test_fusion_on_the_paired_set_uses_both_modalities(data_dir, tmp_path):
    metrics = train_run(RunConfig(epochs=3, data_dir=data_dir), output=str(tmp_path), verbose=0)
    accuracy = metrics["test_accuracy"]
    assert accuracy["image only"] > 0.5 and accuracy["text only"] > 0.8  # 9 classes
    assert accuracy["all"] >= max(accuracy["image only"], accuracy["text only"]) - 0.01, accuracy
