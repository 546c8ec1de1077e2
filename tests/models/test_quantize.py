"""Keras' `model.quantize(mode)` through the life cycle, for every builder's model.

Each model is quantized in this process, saved to `.keras`, and loaded back
in one fresh process per tier (`multimodal_tf.load_model`, safe mode on) that
predicts on the same inputs: the reloaded model must predict what the
in-memory quantized one did.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from multimodal_tf.choices import QUANTIZATION_MODES
from multimodal_tf.models import MODALITIES, quantize_model
from tests.helpers import build_tiny, make_data

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The reloaded model runs the same kernels on the same weights in the same compute dtypes
# (checked layer by layer): it predicts what the quantized model predicted, under every policy.
TOLERANCE = 1e-6

SUBSETS = [
    ("image",),
    ("sequence",),
    ("text",),
    ("image", "sequence"),
    ("image", "text"),
    ("sequence", "text"),
]
CASES = {
    f"{kind}-{mode}": (kind, {}, mode)
    for kind in ("cnn", "lstm", "bert")
    for mode in QUANTIZATION_MODES
}
CASES.update(
    {
        f"multimodal_{fusion}-{mode}": ("multimodal", {"fusion": fusion}, mode)
        for fusion in ("concat", "gated", "attention")
        for mode in QUANTIZATION_MODES
    }
)
# Each subset of modalities once, the fusion modes taken in turn.
CASES.update(
    {
        f"multimodal_{fusion}_{'+'.join(subset)}-int8": (
            "multimodal",
            {
                "fusion": fusion,
                **{modality: None for modality in MODALITIES if modality not in subset},
            },
            "int8",
        )
        for index, subset in enumerate(SUBSETS)
        for fusion in [("concat", "gated", "attention")[index % 3]]
    }
)
# Quantized from a mixed-precision model (Keras' "int8_from_mixed_bfloat16" policies).
CASES.update(
    {
        "bert-mixed_bfloat16-int8": ("bert", {"dtype": "mixed_bfloat16"}, "int8"),
        "cnn-mixed_bfloat16-float8": ("cnn", {"dtype": "mixed_bfloat16"}, "float8"),
        # keras-hub's backbone config loses its mixed policy once quantized (it reloaded float32)
        "bert-mixed_float16-float8": ("bert", {"dtype": "mixed_float16"}, "float8"),
        "multimodal_attention-mixed_bfloat16-int8": (
            "multimodal",
            {"fusion": "attention", "dtype": "mixed_bfloat16"},
            "int8",
        ),
        "multimodal_gated-mixed_float16-int4": (
            "multimodal",
            {"fusion": "gated", "dtype": "mixed_float16"},
            "int4",
        ),
    }
)

LOAD_AND_PREDICT = """
import json, sys
import numpy as np
import multimodal_tf
from multimodal_tf.keras_internals import all_layers
from tests.models.test_quantize import compute_dtypes

folder = sys.argv[1]
for name in sys.argv[2:]:
    model = multimodal_tf.load_model(f"{folder}/{name}.keras")
    inputs = dict(np.load(f"{folder}/{name}.npz"))
    inputs = inputs.pop("inputs") if "inputs" in inputs else inputs
    predicted = model.predict(inputs, verbose=0)
    modes = sorted({layer.quantization_mode for layer in all_layers(model)} - {None})
    np.save(f"{folder}/{name}.reloaded.npy", predicted)
    print(json.dumps({"name": name, "modes": modes, "compute": compute_dtypes(model)}))
"""


def compute_dtypes(model) -> list:
    """Each computing layer's type and compute dtype, in order (not the functional models)."""
    import keras

    from multimodal_tf.keras_internals import all_layers

    return [
        [type(layer).__name__, layer.compute_dtype]
        for layer in all_layers(model)
        if not isinstance(layer, keras.Model)
    ]


def _inputs(kind, model):
    inputs, _ = make_data(kind, n=8, seed=3)
    if isinstance(inputs, dict):
        inputs = {name: value for name, value in inputs.items() if name in model.input}
    return inputs


# The default run quantizes one case of each builder and mode family; the
# slow run (`-m slow`) the rest of the matrix.
DEFAULT_CASES = (
    "cnn-int8",
    "lstm-int4",
    "bert-float8",
    "multimodal_attention-int8",
    "multimodal_gated_image+text-int8",
    "multimodal_attention-mixed_bfloat16-int8",
    "bert-mixed_float16-float8",
)
SLOW_CASES = tuple(name for name in CASES if name not in DEFAULT_CASES)


def _quantize_and_save(folder, names):
    """Builds, quantizes and saves each case; its inputs and in-memory predictions."""
    results = {}
    for name in names:
        kind, overrides, mode = CASES[name]
        model = build_tiny(kind, **overrides)
        float_predictions = model.predict(_inputs(kind, model), verbose=0)
        report = quantize_model(model, mode)
        inputs = _inputs(kind, model)
        predictions = model.predict(inputs, verbose=0)
        model.save(folder / f"{name}.keras")
        if isinstance(inputs, dict):
            np.savez(folder / f"{name}.npz", **inputs)
        else:
            np.savez(folder / f"{name}.npz", inputs=inputs)
        results[name] = {
            "model": model,
            "report": report,
            "float": float_predictions,
            "quantized": predictions,
        }
    return results


def _reload_in_a_fresh_process(folder, names):
    """One fresh process loads every saved case and predicts."""
    process = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(folder), *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    reports = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    return {
        report["name"]: {
            **report,
            "predictions": np.load(folder / f"{report['name']}.reloaded.npy"),
        }
        for report in reports
    }


def _tier(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("quantized")
    results = _quantize_and_save(folder, names)
    return results, _reload_in_a_fresh_process(folder, names)


@pytest.fixture(scope="module")
def default_tier(tmp_path_factory):
    return _tier(tmp_path_factory, DEFAULT_CASES)


@pytest.fixture(scope="module")
def slow_tier(tmp_path_factory):
    return _tier(tmp_path_factory, SLOW_CASES)


@pytest.mark.parametrize(
    "name",
    [
        *DEFAULT_CASES,
        *(pytest.param(name, marks=pytest.mark.slow) for name in sorted(SLOW_CASES)),
    ],
)
def test_a_quantized_model_reloads_in_a_fresh_process_and_predicts_the_same(name, request):
    tier = "default_tier" if name in DEFAULT_CASES else "slow_tier"
    results, reloaded = request.getfixturevalue(tier)
    _, _, mode = CASES[name]
    result = results[name]
    assert result["report"].quantized, name
    assert reloaded[name]["modes"] == [mode]
    assert reloaded[name]["compute"] == compute_dtypes(result["model"])
    np.testing.assert_allclose(
        reloaded[name]["predictions"], result["quantized"], rtol=0, atol=TOLERANCE
    )
    # Quantized, not broken: probabilities, close to the float model's.
    assert np.allclose(result["quantized"].sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(result["quantized"] - result["float"]).max() < 0.25


def test_the_report_says_which_layers_stay_float(default_tier):
    results, _ = default_tier
    cnn = results["cnn-int8"]["report"]
    assert all("Conv2D" in reason for reason in cnn.kept_float.values())
    assert len(cnn.quantized) == 2  # the hidden Dense and the head
    bert = results["bert-float8"]["report"]
    assert any("not float8" in reason for reason in bert.kept_float.values())  # embeddings
    assert "keep float weights" in str(bert)


def test_quantize_model_refuses_bad_modes_and_a_second_quantization(default_tier):
    results, _ = default_tier
    model = build_tiny("cnn")
    with pytest.raises(ValueError, match="`mode` must be one of 'int8', 'int4', 'float8'"):
        quantize_model(model, "int2")
    with pytest.raises(ValueError, match=r"`model` must be a built keras\.Model"):
        quantize_model("model.keras", "int8")
    with pytest.raises(ValueError, match="`mode` 'int8' needs float32 or bfloat16 compute"):
        quantize_model(build_tiny("cnn", dtype="mixed_float16"), "int8")
    with pytest.raises(ValueError, match=r"`model` is already quantized \(int8\)"):
        quantize_model(results["cnn-int8"]["model"], "int4")
