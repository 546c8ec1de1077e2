"""The training engine: precision, XLA, strategies, callbacks, resume, schedules."""

import glob
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf import training
from multimodal_tf.models.dtypes import model_policy
from multimodal_tf.training import TrainingConfig, WarmupLinearDecay, adamw_with_warmup, train
from tests.helpers import build_tiny, make_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dataset(kind="cnn", n=64, batch_size=8, seed=0):
    inputs, labels = make_data(kind, n=n, seed=seed)
    return tf.data.Dataset.from_tensor_slices((inputs, labels.astype("int32"))).batch(batch_size)


def quiet(**overrides):
    return TrainingConfig(**{"epochs": 2, "precision": "float32", "verbose": 0, **overrides})


# ----------------------------------------------------------------- precision


def test_auto_precision_follows_the_device(monkeypatch):
    monkeypatch.setattr(training, "has_gpu", lambda: False)
    monkeypatch.setattr(training, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert training.resolve_precision("auto") == "float32"
    monkeypatch.setattr(training, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert training.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(training, "has_gpu", lambda: True)
    assert training.resolve_precision("auto") == "mixed_float16"
    assert training.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


@pytest.mark.parametrize("flags, gpu, expected", [
    ({"avx2", "fma"}, False, {"cnn": "float32", "lstm": "float32", "multimodal": "float32"}),
    ({"avx2", "avx512_bf16"}, False, {"cnn": "mixed_bfloat16", "lstm": "float32", "multimodal": "float32"}),
    ({"avx2", "avx512_bf16", "amx_bf16"}, False,
     {"cnn": "mixed_bfloat16", "lstm": "float32", "multimodal": "mixed_bfloat16"}),
    ({"avx2"}, True, {"cnn": "mixed_float16", "lstm": "mixed_float16", "multimodal": "mixed_float16"}),
])
def test_auto_precision_is_chosen_per_model_from_the_injected_device(monkeypatch, flags, gpu, expected):
    """The measured rule (bench/RESULTS.md): recurrent models stay float32 on bfloat16 CPUs,
    the fusion model too where there is no AMX; the tiny multimodal model has an LSTM, so it
    is built without its sequence modality here."""
    monkeypatch.setattr(training, "has_gpu", lambda: gpu)
    monkeypatch.setattr(training, "cpu_flags", lambda: frozenset(flags))
    for kind, policy in expected.items():
        options = {"sequence": None} if kind == "multimodal" else {}
        model, chosen = training.build_under_precision(lambda: build_tiny(kind, **options), "auto", seed=0)
        assert chosen == policy == model_policy(model), kind
        forced, forced_policy = training.build_under_precision(lambda: build_tiny(kind, **options), "mixed_bfloat16")
        assert forced_policy == model_policy(forced) == "mixed_bfloat16"  # an explicit choice is kept
    assert keras.config.dtype_policy().name == "float32"


def test_auto_precision_on_this_machine_matches_its_cpu_flags():
    """No assumption about the host: the expectation is derived from its own flags."""
    native = bool(training.cpu_flags() & training.NATIVE_BFLOAT16_FLAGS)
    expected = "mixed_float16" if training.has_gpu() else ("mixed_bfloat16" if native else "float32")
    assert training.resolve_precision("auto") == expected


def test_xla_stays_off_for_16_bit_models_on_a_cpu(monkeypatch):
    monkeypatch.setattr(training, "has_gpu", lambda: False)
    assert training.resolve_jit_compile(build_tiny("bert"), "auto") is True
    assert training.resolve_jit_compile(build_tiny("bert", dtype="mixed_bfloat16"), "auto") is False


def test_cpu_flags_can_be_forced_from_the_environment(monkeypatch):
    monkeypatch.setenv(training.CPU_FLAGS_VARIABLE, "avx2 fma")
    assert training.cpu_flags() == {"avx2", "fma"}
    monkeypatch.setattr(training, "has_gpu", lambda: False)
    assert training.resolve_precision("auto") == "float32"
    monkeypatch.setenv(training.CPU_FLAGS_VARIABLE, "avx2 avx512_bf16")
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


def test_jit_compile_auto_follows_the_cpu_measurements():
    data = dataset()
    assert train(lambda: build_tiny("cnn"), data, quiet(epochs=1)).jit_compile is False  # convolutions
    forced = train(lambda: build_tiny("cnn"), data, quiet(epochs=1, jit_compile=True))
    assert forced.jit_compile is True
    assert np.isfinite(forced.history.history["loss"]).all()
    assert train(lambda: build_tiny("bert"), dataset("bert"), quiet(epochs=1)).jit_compile is True


def test_xla_keeps_lstm_masking_exact():
    sequences, labels = make_data("lstm", n=32)
    data = tf.data.Dataset.from_tensor_slices((sequences, labels.astype("int32"))).batch(8)
    model = train(lambda: build_tiny("lstm"), data, quiet(epochs=1)).model
    assert model.jit_compile is True
    padded = np.concatenate([sequences[:4], np.zeros((4, 5, sequences.shape[2]), "float32")], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(sequences[:4], verbose=0), atol=1e-5)


# ----------------------------------------------------------------- optimizer


def test_warmup_linear_decay_values():
    schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110)
    values = [float(schedule(step)) for step in (0, 5, 10, 60, 110, 200)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)
    assert WarmupLinearDecay.from_config(schedule.get_config()).get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupLinearDecay(1e-3, warmup_steps=20, total_steps=10)


def test_adamw_leaves_biases_and_norms_out_of_weight_decay():
    model = build_tiny("bert")
    optimizer = adamw_with_warmup(5e-5, total_steps=100)
    optimizer.build(model.trainable_variables)
    decayed = {v.path for v in model.trainable_variables if optimizer._use_weight_decay(v)}
    assert decayed, "some weights must decay"
    assert not any(path.endswith(("/bias", "/gamma", "/beta")) for path in decayed)
    assert any(path.endswith("/kernel") for path in decayed)


def test_bert_fine_tuning_gets_adamw_with_warmup_and_saves(tmp_path):
    model = build_tiny("bert")
    model.compile(optimizer=keras.optimizers.AdamW(3e-4), loss="sparse_categorical_crossentropy")
    data = dataset("bert")
    training.compile_model(model, quiet(epochs=3), steps_per_epoch=8)
    schedule = model.optimizer._learning_rate
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert isinstance(schedule, WarmupLinearDecay)
    assert (schedule.peak_learning_rate, schedule.warmup_steps, schedule.total_steps) == (3e-4, 2, 24)
    model.fit(data, epochs=1, verbose=0)
    path = str(tmp_path / "bert.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.optimizer._learning_rate.get_config() == schedule.get_config()


def test_adam_builders_keep_their_learning_rate():
    model = build_tiny("cnn")  # the helper compiles Adam(1e-2)
    training.compile_model(model, quiet())
    assert type(model.optimizer) is keras.optimizers.Adam
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-2)


def test_a_warmup_schedule_needs_the_number_of_steps():
    model = build_tiny("cnn")
    with pytest.raises(ValueError, match="steps per epoch"):
        training.compile_model(model, quiet(warmup_fraction=0.1))


# ----------------------------------------------------------------- callbacks


def test_callbacks_write_logs_and_the_best_model(tmp_path):
    output = str(tmp_path / "run")
    data = dataset()
    result = train(lambda: build_tiny("cnn"), data, quiet(output_dir=output), validation_data=data)
    assert glob.glob(os.path.join(output, "logs", "train", "events.out.tfevents.*"))
    assert glob.glob(os.path.join(output, "logs", "validation", "events.out.tfevents.*"))
    best = keras.saving.load_model(os.path.join(output, training.CHECKPOINT_FILE))
    best_loss = min(result.history.history["val_loss"])
    assert best.evaluate(data, verbose=0, return_dict=True)["loss"] == pytest.approx(best_loss, rel=1e-4)
    assert not os.path.exists(os.path.join(output, "backup"))  # removed once training ends


def test_early_stopping_stops_and_keeps_the_best_weights():
    inputs, labels = make_data("cnn", n=64)
    flipped = tf.data.Dataset.from_tensor_slices((inputs, (1 - labels).astype("int32"))).batch(8)
    # Learning the training labels makes the flipped validation loss worse
    # every epoch, so the best epoch is the first and training stops at 3.
    result = train(
        lambda: build_tiny("cnn"), dataset(), quiet(epochs=20, early_stopping_patience=2),
        validation_data=flipped,
    )
    losses = result.history.history["val_loss"]
    assert len(losses) == 3 and losses[0] == min(losses)
    restored = result.model.evaluate(flipped, verbose=0, return_dict=True)["loss"]
    assert restored == pytest.approx(losses[0], rel=1e-5)


class Interrupt(keras.callbacks.Callback):
    """Raises in the middle of an epoch, like a killed job."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("interrupted for the test")


@pytest.fixture
def deterministic_ops():
    """TensorFlow's deterministic kernels for one test (multi-threaded CPU
    reductions otherwise vary in the last bits from run to run)."""
    from tensorflow.python.framework import config as tf_config

    tf.config.experimental.enable_op_determinism()
    yield
    tf_config.disable_op_determinism()


@pytest.mark.parametrize("kind", ["cnn", "multimodal"])
def test_backup_and_restore_resumes_to_the_same_weights(tmp_path, kind, deterministic_ops):
    data = dataset(kind)
    config = quiet(epochs=3, checkpoint=False, tensorboard=False)
    uninterrupted = train(lambda: build_tiny(kind, dropout=0.25), data, config)

    resumable = TrainingConfig(**{**config.__dict__, "output_dir": str(tmp_path)})
    with pytest.raises(KeyboardInterrupt):
        train(lambda: build_tiny(kind, dropout=0.25), data, resumable, callbacks=[Interrupt(epoch=1, batch=3)])
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1  # the first epoch was backed up
    resumed = train(lambda: build_tiny(kind, dropout=0.25), data, resumable)
    assert resumed.history.epoch == [1, 2]  # continued from the saved epoch
    for expected, actual in zip(uninterrupted.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(expected, actual)


# ------------------------------------------------------------- distribution


def _run_worker(mode, output, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.distributed_worker", mode, str(output)],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(process, timeout=240):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]


def _weights(archive, prefix):
    keys = [key for key in archive.files if key.startswith(prefix) and key[len(prefix):].isdigit()]
    return [archive[key] for key in sorted(keys, key=lambda key: int(key[len(prefix):]))]


def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path):
    output = tmp_path / "mirrored.npz"
    _finish(_run_worker("mirrored", output))
    result = np.load(output)
    assert int(result["replicas"]) == 2
    np.testing.assert_allclose(result["mirrored_loss"], result["single_loss"], rtol=1e-5)
    for single, mirrored in zip(_weights(result, "single_"), _weights(result, "mirrored_")):
        np.testing.assert_allclose(mirrored, single, rtol=1e-4, atol=1e-6)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_workers_on_loopback_match_one_device(tmp_path):
    workers = [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(_run_worker("multiworker", tmp_path / f"worker{index}.npz", {"TF_CONFIG": json.dumps(tf_config)}))
    single = _run_worker("single", tmp_path / "single.npz")
    try:
        for process in (*processes, single):
            _finish(process)
    finally:
        for process in (*processes, single):
            process.kill()
    first, second, alone = (np.load(tmp_path / name) for name in ("worker0.npz", "worker1.npz", "single.npz"))
    assert int(first["replicas"]) == 2
    np.testing.assert_allclose(first["loss"], alone["loss"], rtol=1e-5)
    for a, b, c in zip(_weights(first, "w_"), _weights(second, "w_"), _weights(alone, "w_")):
        np.testing.assert_array_equal(a, b)  # the workers stay in sync
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-6)


def test_multiworker_without_tf_config_names_the_recipe(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        training.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}')
    with pytest.raises(ValueError, match="index 3"):
        training._check_tf_config(os.environ["TF_CONFIG"])


# --------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0), ("precision", "float16"), ("jit_compile", "yes"), ("strategy", "tpu"),
        ("optimizer", "sgd"), ("learning_rate", -1.0), ("warmup_fraction", 1.5), ("weight_decay", -0.1),
        ("steps_per_execution", 0), ("early_stopping_patience", 0), ("verbose", 3),
    ],
)
def test_bad_configuration_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"`{field}`"):
        TrainingConfig(**{field: value})


def test_build_model_must_return_a_model():
    with pytest.raises(ValueError, match="`build_model`"):
        train(lambda: "not a model", dataset(), quiet())
    with pytest.raises(ValueError, match="`build_model`"):
        train(build_tiny("cnn"), dataset(), quiet())
