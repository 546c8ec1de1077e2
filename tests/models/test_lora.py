"""LoRA fine-tuning of BERT (`lora_rank=`): what trains, and the life cycle.

Only the LoRA factors and the head train; the model saves, reloads in a
fresh process and predicts the same; a reloaded model trains on (Keras alone
would zero both factors, which then get no gradient); a backed-up run
resumes to the weights of an uninterrupted one; the adapter file carries
the trained part to a model built as the saved one was.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from multimodal_tf import TextEncoderConfig, build_bert_classifier, build_multimodal_model
from multimodal_tf.models import (
    LoraBackbone,
    load_lora_weights,
    quantize_model,
    save_lora_weights,
)
from multimodal_tf.models.lora import LORA_LEARNING_RATE
from multimodal_tf.pretrained import minilm_checkpoint
from multimodal_tf.training import TrainingConfig, train
from tests.helpers import TINY_IMAGE, TINY_TEXT, make_data
from tests.training.common import dataset, quiet
from tests.training.test_callbacks import Interrupt, deterministic_ops  # noqa: F401 (fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RANK = 2


def lora_classifier(seed=0):
    keras.utils.set_random_seed(seed)
    return build_bert_classifier(2, lora_rank=RANK, learning_rate=1e-2, **TINY_TEXT)


def backbone_of(model):
    return model.get_layer("text_encoder").get_layer("lora_backbone").layer


@pytest.fixture(scope="module")
def trained():
    """A tiny LoRA classifier before and after two epochs, and its data."""
    model = lora_classifier()
    inputs, labels = make_data("bert", n=32)
    before = {weight.path: weight.numpy().copy() for weight in model.weights}
    model.fit(inputs, labels, epochs=2, batch_size=8, verbose=0)
    return model, inputs, labels, before


def test_only_the_lora_factors_and_the_head_are_trainable(trained):
    model = trained[0]
    expected = [
        f"transformer_layer_0/self_attention_layer/{name}/lora_kernel_{factor}"
        for name in ("query", "value")
        for factor in ("a", "b")
    ] + ["predictions/kernel", "predictions/bias"]
    assert [weight.path for weight in model.trainable_weights] == expected
    # keras-hub's query and value kernels are (hidden, heads, head size): `a` is
    # (hidden, heads, rank), `b` (rank, head size).
    hidden, heads = TINY_TEXT["hidden_dim"], TINY_TEXT["num_heads"]
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == (
        2 * (hidden * heads * RANK + RANK * hidden // heads) + hidden * 2 + 2
    )


def test_training_moves_the_factors_and_the_head_only(trained):
    model, _, _, before = trained
    trainable = {weight.path for weight in model.trainable_weights}
    for weight in model.weights:
        if "seed_generator" in weight.path or weight.path.startswith("adam"):
            continue
        changed = not np.array_equal(before[weight.path], weight.numpy())
        assert changed == (weight.path in trainable), weight.path


LOAD_AND_PREDICT = """
import json, sys
import numpy as np
import multimodal_tf

folder = sys.argv[1]
for name in sys.argv[2:]:
    model = multimodal_tf.load_model(f"{folder}/{name}.keras")
    inputs = dict(np.load(f"{folder}/inputs.npz"))
    np.save(f"{folder}/{name}.npy", model.predict(inputs, verbose=0))
    print(json.dumps([weight.path for weight in model.trainable_weights]))
"""


@pytest.mark.slow
def test_saved_models_reload_in_a_fresh_process_and_predict_the_same(trained, tmp_path):
    """The trained model, and copies of it quantized to int8 and int4 (LoRA merged first)."""
    model, inputs, _, _ = trained
    model.save(tmp_path / "lora.keras")
    np.savez(tmp_path / "inputs.npz", **inputs)
    expected = {"lora": model.predict(inputs, verbose=0)}
    for mode in ("int8", "int4"):
        copy = keras.saving.load_model(tmp_path / "lora.keras")
        quantize_model(copy, mode)
        expected[mode] = copy.predict(inputs, verbose=0)
        np.testing.assert_allclose(expected[mode], expected["lora"], atol=0.05)
        copy.save(tmp_path / f"{mode}.keras")
    process = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path), *expected],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    for name, predictions in expected.items():
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"), predictions, atol=1e-6)
    trainable = json.loads(process.stdout.splitlines()[0])
    assert trainable == [weight.path for weight in model.trainable_weights]


def test_float8_refuses_a_lora_model(trained, tmp_path):
    with pytest.raises(ValueError, match="`mode` 'float8' cannot quantize a model fine-tuned"):
        quantize_model(lora_classifier(), "float8")


def test_a_reloaded_model_has_the_same_weights_and_trains_on(trained, tmp_path):
    model, inputs, labels, _ = trained
    model.save(tmp_path / "lora.keras")
    reloaded = keras.saving.load_model(tmp_path / "lora.keras")
    for saved, loaded in zip(model.weights, reloaded.weights):
        assert saved.path == loaded.path
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
    before = [weight.numpy().copy() for weight in reloaded.trainable_weights]
    reloaded.fit(inputs, labels, epochs=1, batch_size=8, verbose=0)
    for old, weight in zip(before, reloaded.trainable_weights):
        assert not np.array_equal(old, weight.numpy()), weight.path  # no factor stuck at zero


def test_a_lora_run_resumes_to_the_same_weights(tmp_path, deterministic_ops):  # noqa: F811
    data = dataset("bert", n=32)
    config = quiet(epochs=3, checkpoint=False, tensorboard=False)
    uninterrupted = train(lora_classifier, data, config)
    resumable = TrainingConfig(**{**config.__dict__, "output_dir": str(tmp_path)})
    with pytest.raises(KeyboardInterrupt):
        train(lora_classifier, data, resumable, callbacks=[Interrupt(epoch=1, batch=2)])
    resumed = train(lora_classifier, data, resumable)
    assert resumed.history.epoch == [1, 2]
    for expected, actual in zip(uninterrupted.model.weights, resumed.model.weights):
        np.testing.assert_array_equal(expected.numpy(), actual.numpy(), err_msg=expected.path)


def test_the_adapter_file_carries_the_trained_part(trained, tmp_path):
    model, inputs, _, _ = trained
    path = tmp_path / "text.lora.h5"
    save_lora_weights(model, path)
    assert path.stat().st_size < 20_000
    fresh = lora_classifier()  # the same seed: the same base weights
    assert not np.allclose(fresh.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    load_lora_weights(fresh, path)
    np.testing.assert_array_equal(
        fresh.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    )
    # keras-hub reads its part of the file.
    backbone = backbone_of(lora_classifier())
    backbone.load_lora_weights(str(path))
    for ours, theirs in zip(backbone_of(model).trainable_weights, backbone.trainable_weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_the_adapter_file_refuses_what_does_not_fit(trained, tmp_path):
    model = trained[0]
    with pytest.raises(ValueError, match=r"`filepath` must end in '\.lora\.h5'"):
        save_lora_weights(model, tmp_path / "adapter.h5")
    with pytest.raises(ValueError, match="`model` must have one LoRA text encoder"):
        save_lora_weights(build_bert_classifier(2, **TINY_TEXT), tmp_path / "a.lora.h5")
    save_lora_weights(model, tmp_path / "a.lora.h5")
    other = build_bert_classifier(2, lora_rank=RANK + 1, **TINY_TEXT)
    with pytest.raises(ValueError, match=r"`lora_rank` of the model \(3\) differs"):
        load_lora_weights(other, tmp_path / "a.lora.h5")


def test_the_multimodal_text_branch_with_lora():
    model = build_multimodal_model(
        2,
        image=TINY_IMAGE,
        text={**TINY_TEXT, "lora_rank": RANK},
        fusion="gated",
        fusion_dim=8,
    )
    encoder = model.get_layer("text_encoder")
    assert isinstance(encoder.get_layer("lora_backbone"), LoraBackbone)
    assert {weight.name for weight in encoder.trainable_weights} == {
        "lora_kernel_a",
        "lora_kernel_b",
    }
    assert float(model.optimizer.learning_rate) == pytest.approx(LORA_LEARNING_RATE)
    inputs, labels = make_data("multimodal", n=8)
    inputs = {name: value for name, value in inputs.items() if name in model.input}
    model.fit(inputs, labels, epochs=1, verbose=0)


def test_minilm_with_lora_trains_a_few_thousand_weights():
    model = build_bert_classifier(
        2, checkpoint=minilm_checkpoint(), sequence_length=16, lora_rank=4
    )
    counted = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    # 6 layers' query and value: a (384, 12 heads, 4), b (4, 32); the head.
    assert counted == 6 * 2 * (384 * 12 * 4 + 4 * 32) + 384 * 2 + 2
    assert counted < 0.01 * model.count_params()
    assert float(model.optimizer.learning_rate) == pytest.approx(LORA_LEARNING_RATE)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(lora_rank=0), "`lora_rank` must be a positive integer"),
        (dict(lora_rank=-2), "`lora_rank` must be a positive integer"),
        (dict(lora_rank="4"), "`lora_rank` must be a positive integer"),
        (dict(lora_rank=9), r"`lora_rank` must be at most the encoder's hidden size \(8\)"),
        (dict(lora_rank=2, freeze_encoder=True), "`lora_rank` .* `freeze`=True"),
    ],
)
def test_bad_lora_arguments_name_lora_rank(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_bert_classifier(2, **{**TINY_TEXT, **arguments})


def test_a_rank_above_the_checkpoints_hidden_size_is_refused():
    with pytest.raises(ValueError, match=r"at most the encoder's hidden size \(384\), got 385"):
        build_bert_classifier(2, checkpoint=minilm_checkpoint(), sequence_length=16, lora_rank=385)
    with pytest.raises(ValueError, match="`lora_rank`"):
        TextEncoderConfig(lora_rank=2, freeze=True)
