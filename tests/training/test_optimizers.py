"""Adam, AdamW and the warmup-then-decay schedule."""

import keras
import numpy as np
import pytest

from multimodal_tf import training
from multimodal_tf.fused_adam import FusedAdam
from multimodal_tf.training import WarmupLinearDecay, adamw_with_warmup
from tests.helpers import build_tiny
from tests.training.common import dataset, quiet


def test_warmup_linear_decay_values():
    schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110)
    values = [float(schedule(step)) for step in (0, 5, 10, 60, 110, 200)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)
    assert (
        WarmupLinearDecay.from_config(schedule.get_config()).get_config() == schedule.get_config()
    )
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


@pytest.mark.slow
def test_bert_fine_tuning_gets_adamw_with_warmup_and_saves(tmp_path):
    model = build_tiny("bert")
    model.compile(optimizer=keras.optimizers.AdamW(3e-4), loss="sparse_categorical_crossentropy")
    data = dataset("bert")
    training.compile_model(model, quiet(epochs=3), steps_per_epoch=8)
    schedule = training.learning_rate_schedule(model.optimizer)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert isinstance(schedule, WarmupLinearDecay)
    assert (schedule.peak_learning_rate, schedule.warmup_steps, schedule.total_steps) == (
        3e-4,
        2,
        24,
    )
    model.fit(data, epochs=1, verbose=0)
    path = str(tmp_path / "bert.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert training.learning_rate_schedule(reloaded.optimizer).get_config() == schedule.get_config()


def test_adam_builders_keep_their_learning_rate():
    model = build_tiny("cnn")  # the helper compiles Adam(1e-2)
    training.compile_model(model, quiet())
    assert type(model.optimizer) is FusedAdam  # Adam, not AdamW: the builder's choice
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-2)


def test_a_warmup_schedule_needs_the_number_of_steps():
    model = build_tiny("cnn")
    with pytest.raises(ValueError, match="steps per epoch"):
        training.compile_model(model, quiet(warmup_fraction=0.1))
