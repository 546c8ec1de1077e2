"""`"auto"` precision per machine and per model, and training under every policy."""

import functools

import keras
import numpy as np
import pytest

from multimodal_tf import training
from multimodal_tf.models.dtypes import model_policy
from multimodal_tf.training import train
from tests.helpers import build_tiny
from tests.training.common import dataset, quiet


def test_auto_precision_follows_the_device(monkeypatch):
    monkeypatch.setattr(training.devices, "has_gpu", lambda: False)
    monkeypatch.setattr(training.devices, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert training.resolve_precision("auto") == "float32"
    monkeypatch.setattr(training.devices, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert training.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(training.devices, "has_gpu", lambda: True)
    assert training.resolve_precision("auto") == "mixed_float16"
    assert training.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


@pytest.mark.parametrize(
    "flags, gpu, expected",
    [
        ({"avx2", "fma"}, False, {"cnn": "float32", "lstm": "float32", "multimodal": "float32"}),
        (
            {"avx2", "avx512_bf16"},
            False,
            {"cnn": "mixed_bfloat16", "lstm": "float32", "multimodal": "mixed_bfloat16"},
        ),
        (
            {"avx2", "avx512_bf16", "amx_bf16"},
            False,
            {"cnn": "mixed_bfloat16", "lstm": "float32", "multimodal": "mixed_bfloat16"},
        ),
        (
            {"avx2"},
            True,
            {"cnn": "mixed_float16", "lstm": "mixed_float16", "multimodal": "mixed_float16"},
        ),
    ],
)
def test_auto_precision_is_chosen_per_model_from_the_injected_device(
    monkeypatch, flags, gpu, expected
):
    """The measured rule (bench/RESULTS.md): recurrent models stay float32 on bfloat16 CPUs;
    the tiny multimodal model has an LSTM, so it is built without its sequence modality here."""
    monkeypatch.setattr(training.devices, "has_gpu", lambda: gpu)
    monkeypatch.setattr(training.devices, "cpu_flags", lambda: frozenset(flags))
    for kind, policy in expected.items():
        build = functools.partial(
            build_tiny, kind, **({"sequence": None} if kind == "multimodal" else {})
        )
        model, chosen = training.build_under_precision(build, "auto", seed=0)
        assert chosen == policy == model_policy(model), kind
        forced, forced_policy = training.build_under_precision(build, "mixed_bfloat16")
        assert (
            forced_policy == model_policy(forced) == "mixed_bfloat16"
        )  # an explicit choice is kept
    assert keras.config.dtype_policy().name == "float32"


def test_auto_precision_on_this_machine_matches_its_cpu_flags():
    """No assumption about the host: the expectation is derived from its own flags."""
    native = training.fast_bfloat16(training.cpu_flags())
    expected = (
        "mixed_float16" if training.has_gpu() else ("mixed_bfloat16" if native else "float32")
    )
    assert training.resolve_precision("auto") == expected


def test_cpu_flags_can_be_forced_from_the_environment(monkeypatch):
    monkeypatch.setenv(training.CPU_FLAGS_VARIABLE, "avx2 fma")
    assert training.cpu_flags() == {"avx2", "fma"}
    monkeypatch.setattr(training.devices, "has_gpu", lambda: False)
    assert training.resolve_precision("auto") == "float32"
    monkeypatch.setenv(training.CPU_FLAGS_VARIABLE, "avx2 avx512_bf16")
    assert training.resolve_precision("auto") == "mixed_bfloat16"
    # an Intel Xeon whose AMX is not exposed: bfloat16 measured slower there
    monkeypatch.setenv(training.CPU_FLAGS_VARIABLE, "avx2 avx512_bf16 avx512_fp16")
    assert training.resolve_precision("auto") == "float32"
    monkeypatch.setenv(training.CPU_FLAGS_VARIABLE, "avx2 avx512_bf16 avx512_fp16 amx_bf16")
    assert training.resolve_precision("auto") == "mixed_bfloat16"


def test_precision_scope_restores_the_policy():
    with training.precision_scope("mixed_bfloat16") as name:
        assert name == keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError, match="`precision`"):
        with training.precision_scope("float8"):
            pass


@pytest.mark.parametrize("precision", training.PRECISIONS)
def test_train_under_each_precision(precision):
    data = dataset()
    result = train(lambda: build_tiny("cnn"), data, quiet(precision=precision, epochs=1))
    model = result.model
    assert result.precision == precision
    assert model.dtype_policy.name == precision
    assert model(next(iter(data))[0]).dtype == "float32"  # softmax and loss in float32
    is_scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert is_scaled == (precision == "mixed_float16")
    assert np.isfinite(result.history.history["loss"]).all()
    assert keras.config.dtype_policy().name == "float32"
