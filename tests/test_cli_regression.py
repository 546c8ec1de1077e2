"""`multimodal-tf train --data FILE --label price`: a numeric label trains a regressor.

One tiny run (30 rows of 16-px photos and captions whose price grows with
the photo's brightness, the tiny architecture, two epochs) is trained once,
then evaluated, evaluated on a new file, predicted with, exported and
quantized; compare and tune refuse it in one line.
"""

import json
import re

import numpy as np
import pytest

from multimodal_tf.cli import main
from tests.data.user.helpers import train_run_on, write_image, write_rows

TINY = ["--architecture", "tiny", "--epochs", "2", "--batch-size", "8", "--quiet"]
NUMBER = r"-?\d+\.\d{4}"


def price_files(folder, count=30, name="train.csv"):
    """`count` rows of photo, caption and a price that grows with the photo's brightness."""
    rows = []
    for index in range(count):
        value = (8 * index) % 240
        write_image(folder / f"p{index}.png", size=20, value=value)
        rows.append([f"p{index}.png", f"item number {index}", round(2.5 + value / 10, 2)])
    return write_rows(folder / name, ["photo", "caption", "price"], rows)


@pytest.fixture(scope="module")
def price_run(tmp_path_factory):
    """`(run folder, what train printed, data folder)` of one tiny regression run."""
    data = tmp_path_factory.mktemp("prices")
    flags = ["--image-size", "16", *TINY]
    return train_run_on(data, price_files(data), "price", "prices", flags, tmp_path_factory)


def test_a_numeric_label_trains_a_regressor_and_reports_mae_and_rmse(price_run):
    from multimodal_tf.models import is_regressor
    from multimodal_tf.runs import load_run

    run, printed, _ = price_run
    assert "task: regression on 'price'" in printed
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "regression" and metrics["class_names"] is None
    assert "test_accuracy" not in metrics and "class_report" not in metrics
    assert set(metrics["test_error"]) == {"all", "image only", "text only"}
    assert set(metrics["validation_error"]) == {"all", "image only", "text only"}
    for split in ("validation", "test"):
        for subset, errors in metrics[f"{split}_error"].items():
            assert 0 <= errors["mae"] <= errors["rmse"]
            line = f"{split} MAE ({subset}): {errors['mae']:.4f}, RMSE: {errors['rmse']:.4f}"
            assert line in printed
    prices = [round(2.5 + ((8 * i) % 240) / 10, 2) for i in range(30)]
    assert 2.5 <= metrics["target_mean"] <= 26.5 and 0 < metrics["target_std"] < np.std(prices) * 2
    assert f"training targets: mean {metrics['target_mean']:.4g}" in printed
    assert {"mae", "rmse", "val_mae", "val_rmse"} <= set(metrics["history"])
    assert not list(run.glob("confusion_*.png"))
    model, _, config = load_run(str(run))  # metrics.json passes its schema
    assert is_regressor(model) and config.kind == "multimodal"


def test_evaluate_prints_errors_per_subset_and_with_modalities_missing(price_run, capsys):
    run, _, data = price_run
    assert main(["evaluate", str(run)]) == 0
    printed = capsys.readouterr().out
    errors = json.loads((run / "metrics.json").read_text())["test_error"]
    for subset, value in errors.items():
        assert f"test MAE ({subset}): {value['mae']:.4f}, RMSE: {value['rmse']:.4f}" in printed
    assert "per class" not in printed
    assert main(["evaluate", str(run), "--missing-rates", "0,0.5"]) == 0
    printed = capsys.readouterr().out
    assert re.search(rf"test MAE \(rows missing a modality: 50%\): {NUMBER}, RMSE: ", printed)
    new = price_files(data, count=6, name="new.csv")
    assert main(["evaluate", str(run), "--data", str(new)]) == 0
    printed = capsys.readouterr().out
    assert re.search(rf"new\.csv MAE \(all\): {NUMBER}, RMSE: {NUMBER}", printed)


def test_predict_prints_values(price_run, capsys):
    run, _, data = price_run
    image = str(data / "p3.png")
    assert main(["predict", str(run), "--image", image, "--text", "item three"]) == 0
    assert re.fullmatch(r"-?[\d.e+-]+", capsys.readouterr().out.strip())
    assert main(["predict", str(run), image, "--json"]) == 0
    prediction = json.loads(capsys.readouterr().out)
    assert isinstance(prediction["value"], float) and "class" not in prediction
    assert main(["predict", str(run), "--batch", str(data / "train.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 30 and all(re.fullmatch(r"row \d+: -?[\d.e+-]+", line) for line in lines)


def test_the_savedmodel_returns_the_value(price_run, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the tokeniser's ops)

    from multimodal_tf.runs import predict_example

    run, _, _ = price_run
    exported = tmp_path / "exported" / "1"
    assert main(["export", str(run), "--output", str(exported)]) == 0
    serve = tf.saved_model.load(str(exported)).signatures["serving_default"]
    served = serve(
        image=tf.zeros([2, 16, 16, 3], tf.uint8),
        text=tf.constant(["item one", "item two"]),
        image_present=tf.constant([1.0, 0.0]),
        text_present=tf.constant([1.0, 1.0]),
    )
    assert set(served) == {"value"} and served["value"].shape == (2,)
    alone = predict_example(str(run), text="item two")["value"]
    np.testing.assert_allclose(served["value"].numpy()[1], alone, rtol=1e-4, atol=1e-4)


def test_quantize_prints_errors_beside_the_float_run(price_run, tmp_path, capsys):
    run, _, _ = price_run
    assert main(["quantize", str(run), "--mode", "int8", "--output", str(tmp_path / "q")]) == 0
    printed = capsys.readouterr().out
    assert re.search(
        rf"test MAE \(all\): {NUMBER}, RMSE: {NUMBER} \(float: {NUMBER}, RMSE", printed
    )


def test_compare_and_tune_refuse_a_regressor_in_one_line(price_run, tmp_path, capsys):
    run, _, data = price_run
    assert main(["compare", str(run), str(run)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "is a regression run" in error and "MAE and RMSE" in error
    flags = ["--data", str(data / "train.csv"), "--label", "price", "--image-size", "16"]
    assert main(["tune", *flags, "--output", str(tmp_path), *TINY]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "'price' is a regression target" in error
    assert not list(tmp_path.iterdir())


def test_one_numeric_modality_trains_the_regression_head_too(tmp_path, capsys):
    rows = [[f"p{i}.png", round(1.5 * i, 2)] for i in range(30)]
    for index in range(30):
        write_image(tmp_path / f"p{index}.png", size=20, value=8 * index)
    csv = write_rows(tmp_path / "train.csv", ["photo", "price"], rows)
    flags = ["--data", str(csv), "--label", "price", "--image-size", "16", *TINY]
    assert main(["train", *flags, "--model", "classifier", "--output", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "cannot train `task` 'regression'" in error
    assert not (tmp_path / "runs").exists()
    assert main(["train", *flags, "--output", str(tmp_path / "runs"), "--run", "one"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"training multimodal on \S*train\.csv \(image\): ", printed), printed
    metrics = json.loads((tmp_path / "runs" / "one" / "metrics.json").read_text())
    assert metrics["config"]["data"]["task"] == "regression" and set(metrics["test_error"]) == {
        "all"
    }
