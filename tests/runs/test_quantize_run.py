"""`runs.quantize_run`: a quantized copy of a finished run, read like any other run."""

import json

import numpy as np
import pytest

from multimodal_tf.cli import main
from multimodal_tf.runs import evaluate_run, load_run, quantize_run


@pytest.fixture(scope="module")
def float_run(vowels_runs):
    return vowels_runs


def test_a_quantized_run_records_its_mode_sizes_and_accuracy_and_loads_as_a_run(float_run):
    record = quantize_run(str(float_run / "float"), "int8", str(float_run / "int8"))
    metrics = json.loads((float_run / "int8" / "metrics.json").read_text())
    assert metrics["quantization"] == json.loads(json.dumps(record))
    assert record["mode"] == "int8" and record["layers_quantized"] >= 1
    assert record["file_bytes"] > 0 and record["float_file_bytes"] > 0
    # The optimizer's state stays behind: the float run's file holds Adam's two moments per weight.
    assert 0 < record["float_model_bytes"] < record["float_file_bytes"]
    assert set(record["accuracy"]) == set(record["float_accuracy"]) == {"all"}
    assert any("LSTM" in reason for reason in record["kept_float"].values())
    model, _, _ = load_run(str(float_run / "int8"))
    assert {layer.quantization_mode for layer in model.layers} >= {"int8"}
    assert evaluate_run(str(float_run / "int8")) == record["accuracy"]


def test_bad_quantization_requests_are_refused(float_run):
    with pytest.raises(ValueError, match="`mode` must be one of 'int8', 'int4', 'float8'"):
        quantize_run(str(float_run / "float"), "int2", str(float_run / "bad"))
    (float_run / "taken").mkdir()
    with pytest.raises(ValueError, match=r"`output` .* exists already"):
        quantize_run(str(float_run / "float"), "int8", str(float_run / "taken"))
    quantize_run(str(float_run / "float"), "int4", str(float_run / "int4"))
    with pytest.raises(ValueError, match=r"is a run quantized already \(int4\)"):
        quantize_run(str(float_run / "int4"), "int8", str(float_run / "twice"))
    assert not (float_run / "bad").exists() and not (float_run / "twice").exists()


@pytest.mark.slow
def test_the_quantize_command_writes_a_run_that_predict_and_export_read(
    float_run, tmp_path, capsys
):
    run = str(float_run / "cli-int8")
    assert main(["quantize", str(float_run / "float"), "--mode", "int8", "--output", run]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {run}: int8 weights in" in printed
    assert "test accuracy (all): " in printed and "(float: " in printed
    assert main(["evaluate", run]) == 0
    np.save(tmp_path / "vowel.npy", np.random.default_rng(0).normal(size=(12, 12)))
    assert main(["predict", run, str(tmp_path / "vowel.npy")]) == 0
    assert "vowel.npy: " in capsys.readouterr().out
    exported = str(tmp_path / "exported" / "1")
    assert main(["export", run, "--output", exported]) == 0
    assert (tmp_path / "exported" / "1" / "saved_model.pb").is_file()
    assert main(["quantize", run, "--output", str(float_run / "again")]) == 2
    assert "is a run quantized already (int8)" in capsys.readouterr().err


def test_integrated_gradients_explain_a_quantized_run(float_run):
    """explain works on a quantized run's model as on the float one."""
    from multimodal_tf.explain import integrated_gradients

    if not (float_run / "int8").exists():
        quantize_run(str(float_run / "float"), "int8", str(float_run / "int8"))
    example = np.random.default_rng(0).normal(size=(12, 12)).astype("float32")
    found, target = {}, None
    for name in ("float", "int8"):
        model, _, _ = load_run(str(float_run / name))
        found[name] = integrated_gradients(model, example, target=target, steps=32, verbose=0)
        target = found[name].target
        attributions = found[name].attributions["sequence"]
        assert attributions.shape == (12, 12) and np.isfinite(attributions).all()
        assert np.abs(attributions).sum() > 0
    spread = abs(found["float"].output - found["float"].baseline_output) + 1e-3
    assert abs(found["int8"].convergence_delta) < 0.5 * spread + 0.05
