"""What every builder promises: shapes, learning, saving, every dtype policy."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tests.helpers import BUILDERS, build_tiny, make_data, take


@pytest.fixture(scope="module")
def trained():
    """One tiny model per builder, trained on its synthetic problem."""
    results = {}
    for kind in BUILDERS:
        keras.utils.set_random_seed(0)
        model = build_tiny(kind)
        inputs, labels = make_data(kind)
        before = model.evaluate(inputs, labels, verbose=0, return_dict=True)["loss"]
        model.fit(inputs, labels, epochs=15, batch_size=16, verbose=0)
        after = model.evaluate(inputs, labels, verbose=0, return_dict=True)["loss"]
        results[kind] = (model, inputs, labels, before, after)
    return results


@pytest.mark.parametrize("kind", BUILDERS)
def test_output_shape_and_dtype(trained, kind):
    model, inputs, _, _, _ = trained[kind]
    predictions = model.predict(take(inputs, slice(0, 5)), verbose=0)
    assert predictions.shape == (5, 2)
    assert predictions.dtype == np.float32
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kind", BUILDERS)
def test_training_reduces_loss_clearly(trained, kind):
    _, _, _, before, after = trained[kind]
    assert after < 0.5 * before, (before, after)


@pytest.mark.parametrize("kind", BUILDERS)
def test_keras_round_trip_gives_identical_predictions(trained, kind, tmp_path):
    model, inputs, _, _, _ = trained[kind]
    path = tmp_path / f"{kind}.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    # Identical up to float32 rounding (graph rewrites may reorder sums).
    np.testing.assert_allclose(
        restored.predict(inputs, verbose=0),
        model.predict(inputs, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_multimodal_model_loads_in_a_fresh_process(trained, tmp_path):
    model, inputs, _, _, _ = trained["multimodal"]
    model_path, inputs_path = tmp_path / "model.keras", tmp_path / "inputs.npz"
    model.save(model_path)
    np.savez(inputs_path, expected=model.predict(inputs, verbose=0), **inputs)
    script = textwrap.dedent(
        f"""
        import numpy as np
        from multimodal_tf import load_model
        model = load_model({str(model_path)!r})
        data = dict(np.load({str(inputs_path)!r}))
        expected = data.pop("expected")
        np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)
        print("identical")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "identical" in result.stdout


# mixed_float16 runs 25-50x slower on a CPU: its cases are `-m slow` (float32 and
# mixed_bfloat16 by default; tests/test_precision_matrix.py takes every policy further).
@pytest.mark.parametrize(
    "policy", ["float32", pytest.param("mixed_float16", marks=pytest.mark.slow), "mixed_bfloat16"]
)
@pytest.mark.parametrize("kind", BUILDERS)
def test_every_dtype_policy_builds_and_trains_with_float32_output(kind, policy, dtype_policy):
    dtype_policy(policy)
    keras.utils.set_random_seed(0)
    model = build_tiny(kind)
    inputs, labels = make_data(kind, n=32)
    history = model.fit(inputs, labels, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    compute_dtypes = {layer.compute_dtype for layer in model.layers if layer.name != "predictions"}
    assert keras.config.dtype_policy().compute_dtype in compute_dtypes
    assert model.get_layer("predictions").compute_dtype == "float32"
    assert model.predict(take(inputs, slice(0, 4)), verbose=0).dtype == np.float32
    if policy == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_the_models_import_without_the_tokenizer():
    """The tokeniser (TensorFlow, TensorFlow Text) loads on first use, so the
    builders also load on JAX where TensorFlow is absent (the GPU path)."""
    tokenizer = "multimodal_tf.models.bert_tokenizer"
    script = (
        "import sys, multimodal_tf, multimodal_tf.models, multimodal_tf.training\n"
        "import multimodal_tf.saving\n"
        f"assert {tokenizer!r} not in sys.modules, 'the tokeniser was imported eagerly'\n"
        "assert callable(multimodal_tf.build_text_preprocessor)\n"
        f"assert {tokenizer!r} in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
