"""Every custom layer of `multimodal_tf.models` through Keras' own `run_layer_test`.

Keras' harness (`keras.src.testing.TestCase.run_layer_test`) checks the
config round trip, a symbolic call against `compute_output_spec`, an eager
call, a training step (one-input layers: its model passes the inputs as one
positional argument, so Keras' own multi-input layers, e.g. attention,
turn it off, as we do; the builders' models train in tests/training/) and
a `mixed_float16` build whose outputs match
`compute_output_spec` called with the argument names of `call`.

keras-hub's `run_precision_test` and `run_serialization_test` run in
tests/models/test_keras_hub_harness.py (keras-hub's harness imports `grain`,
which scripts/setup.sh installs with `--no-deps`); `tests/layer_harness.py`
runs our versions of those two checks on every builder
(`tests/models/test_layers_and_builders.py`).
"""

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase

from multimodal_tf.models import InputGuard, MaskedMeanPooling, ModalityDropout, ModalityFusion
from multimodal_tf.models.frozen import FrozenInference

RNG = np.random.default_rng(0)
PRESENCE = np.array([[1, 1], [1, 0], [0, 1], [1, 1]], "float32")
FEATURES = [RNG.normal(size=(4, 5)).astype("float32"), RNG.normal(size=(4, 3)).astype("float32")]


class LayerConformance(TestCase):
    def runTest(self):  # TestCase needs a test method to be instantiated outside unittest
        pass


@pytest.fixture
def harness():
    case = LayerConformance()
    case.setUp()
    yield case
    case.tearDown()


@pytest.mark.parametrize("mode", ["concat", "gated", "attention"])
def test_modality_fusion(harness, mode):
    fusion_dim = 8
    harness.run_layer_test(
        ModalityFusion,
        init_kwargs={"mode": mode, "fusion_dim": fusion_dim, "num_heads": 2},
        input_data={"features": FEATURES, "presence": PRESENCE},
        expected_output_shape=(4, 2 * (fusion_dim + 1)) if mode == "concat" else (4, fusion_dim),
        expected_num_trainable_weights={"concat": 4, "gated": 6, "attention": 15}[mode],
        expected_num_non_trainable_weights=0,
        run_training_check=False,
    )


def test_modality_fusion_output_spec_takes_call_argument_names():
    layer = ModalityFusion("gated", fusion_dim=8)
    spec = layer.compute_output_spec(
        features=[keras.KerasTensor((None, 5)), keras.KerasTensor((None, 3))],
        presence=keras.KerasTensor((None, 2)),
    )
    assert tuple(spec.shape) == (None, 8)


def test_modality_dropout(harness):
    harness.run_layer_test(
        ModalityDropout,
        init_kwargs={"rate": 0.3, "seed": 1},
        input_data=PRESENCE,
        expected_output_shape=(4, 2),
        expected_num_trainable_weights=0,
        expected_num_seed_generators=1,
    )
    spec = ModalityDropout(0.3).compute_output_spec(presence=keras.KerasTensor((None, 2)))
    assert tuple(spec.shape) == (None, 2)


def test_input_guard(harness):
    # Several inputs go by shape, keyed `<call argument>_shape` (Keras' convention).
    harness.run_layer_test(
        InputGuard,
        init_kwargs={"field": "image"},
        input_shape={"content_shape": (4, 3, 2), "presence_shape": (4,)},
        input_dtype={"content_shape": "float32", "presence_shape": "float32"},
        expected_output_shape=(4, 3, 2),
        expected_output_dtype="float32",
        expected_num_trainable_weights=0,
        run_training_check=False,
    )
    harness.run_layer_test(
        InputGuard,
        init_kwargs={"field": "sequence"},
        input_data=RNG.uniform(size=(4, 3, 2)).astype("float32"),
        expected_output_shape=(4, 3, 2),
    )


def test_masked_mean_pooling(harness):
    harness.run_layer_test(
        MaskedMeanPooling,
        init_kwargs={},
        input_shape={"sequence_output_shape": (4, 5, 6), "padding_mask_shape": (4, 5)},
        input_dtype={"sequence_output_shape": "float32", "padding_mask_shape": "int32"},
        expected_output_shape=(4, 6),
        expected_num_trainable_weights=0,
        run_training_check=False,
    )


def test_frozen_inference(harness):
    harness.run_layer_test(
        FrozenInference,
        init_kwargs={"layer": keras.layers.Dropout(0.5)},
        input_data=RNG.normal(size=(4, 5)).astype("float32"),
        expected_output_shape=(4, 5),
        expected_num_trainable_weights=0,
    )


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_layers_given_a_policy_object_save(policy, tmp_path):
    """Builders pass a `keras.DTypePolicy` object as `dtype`; each layer's config serialises."""
    dtype = keras.DTypePolicy(policy)
    sequence = keras.Input((5, 6))
    mask = keras.Input((5,), dtype="int32")
    presence = keras.Input((2,))
    pooled = MaskedMeanPooling(dtype=dtype)(sequence, mask)
    flags = ModalityDropout(0.1, dtype=dtype)(presence)
    fused = ModalityFusion("gated", fusion_dim=4, dtype=dtype)([pooled, pooled], flags)
    model = keras.Model([sequence, mask, presence], fused)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert [layer.dtype_policy.name for layer in reloaded.layers[3:]] == [policy] * 3
