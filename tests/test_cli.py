import json

import keras
import numpy as np
import pytest

from multimodal_tf.cli import main
from multimodal_tf.data import load_fashion_mnist_arrays


def test_train_builds_the_models_trains_the_cnn_and_writes_the_run(tmp_path, capsys):
    assert main(["train", "--limit", "2000", "--quiet", "--output", str(tmp_path), "--run", "r1"]) == 0
    printed = capsys.readouterr().out
    assert "built cnn (document §4.1)" in printed and "93,322 parameters" in printed
    assert "test accuracy:" in printed
    metrics = json.loads((tmp_path / "r1" / "metrics.json").read_text())
    assert metrics["train_examples"] == 2000 and metrics["test_examples"] == 10000
    assert len(metrics["parameters"]) == 4
    assert metrics["test_accuracy"] > 0.5  # 10 classes: chance is 0.1
    model = keras.saving.load_model(tmp_path / "r1" / "model.keras")
    images, labels = load_fashion_mnist_arrays("test")
    accuracy = np.mean(model.predict(images[:2000] / 255.0, verbose=0).argmax(axis=1) == labels[:2000])
    assert abs(accuracy - metrics["test_accuracy"]) < 0.05


@pytest.mark.parametrize("arguments", [["train", "--epochs", "0"], ["train", "--precision", "float8"], []])
def test_bad_command_lines_exit_with_a_usage_message(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert "usage: multimodal-tf" in capsys.readouterr().err
