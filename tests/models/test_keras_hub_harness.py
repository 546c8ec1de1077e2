"""keras-hub's own `run_serialization_test` and `run_precision_test` for our layers.

`keras_hub.src.tests.test_case.TestCase` imports `grain` (and through it
`array_record`, `cloudpickle`; `portpicker` for its distribution tests):
scripts/setup.sh installs them with `--no-deps` beside the dev extras. Where
they are missing this module is skipped; `tests/layer_harness.py` keeps
our own versions of both checks for every builder.

Where a check does not apply:

- `run_precision_test` builds under `mixed_float16`, `mixed_bfloat16` and
  `bfloat16` and wants every weight, output and sublayer in the policy's
  dtypes. `InputGuard` computes in float32 on purpose (it must see NaN and
  infinity as they came), and LoRA's factors are float32 whatever the policy
  (Keras' `enable_lora`: no under- or overflow in fine-tuning), so neither
  is run through it.
"""

import keras
import keras_hub
import numpy as np
import pytest

pytest.importorskip("grain", reason="keras-hub's test harness imports grain (scripts/setup.sh)")
from keras_hub.src.tests import test_case as keras_hub_test_case

from multimodal_tf.models import (
    InputGuard,
    LoraBackbone,
    MaskedMeanPooling,
    ModalityDropout,
    ModalityFusion,
)
from multimodal_tf.models.frozen import FrozenInference

RNG = np.random.default_rng(0)
PRESENCE = np.array([[1, 1], [1, 0], [0, 1], [1, 1]], "float32")
FEATURES = [RNG.normal(size=(4, 5)).astype("float32"), RNG.normal(size=(4, 3)).astype("float32")]
SEQUENCE = RNG.normal(size=(4, 5, 6)).astype("float32")
MASK = np.array([[1, 1, 1, 0, 0]] * 4, "int32")
TOKENS = {
    "token_ids": np.array([[2, 5, 7, 3]] * 2, "int32"),
    "padding_mask": np.ones((2, 4), "int32"),
    "segment_ids": np.zeros((2, 4), "int32"),
}


class KerasHubHarness(keras_hub_test_case.TestCase):
    __test__ = False  # a harness, not tests of its own

    def runTest(self):  # instantiated outside unittest, as tests/models/test_layer_conformance
        pass


@pytest.fixture
def harness():
    case = KerasHubHarness()
    case.setUp()
    yield case
    case.tearDown()


def tiny_backbone(dtype=None):
    return keras_hub.models.BertBackbone(
        vocabulary_size=10,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=4,
        dtype=dtype,
    )


# (class, init_kwargs, input_data, precision test applies)
CASES = {
    **{
        f"fusion-{mode}": (
            ModalityFusion,
            {"mode": mode, "fusion_dim": 8, "num_heads": 2},
            {"features": FEATURES, "presence": PRESENCE},
            True,
        )
        for mode in ("concat", "gated", "attention")
    },
    "modality_dropout": (ModalityDropout, {"rate": 0.3, "seed": 1}, PRESENCE, True),
    "mean_pooling": (
        MaskedMeanPooling,
        {},
        {"sequence_output": SEQUENCE, "padding_mask": MASK},
        True,
    ),
    "frozen_inference": (
        FrozenInference,
        {"layer": keras.layers.Dense(3)},
        FEATURES[0],
        True,
    ),
    "input_guard": (InputGuard, {"field": "sequence"}, SEQUENCE, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_hub_serialization(harness, name):
    cls, init_kwargs, _, _ = CASES[name]
    harness.run_serialization_test(cls(**init_kwargs))  # unbuilt, as keras-hub's run_layer_test


@pytest.mark.parametrize("name", sorted(name for name, case in CASES.items() if case[3]))
def test_keras_hub_precision(harness, name):
    cls, init_kwargs, input_data, _ = CASES[name]
    # Backend tensors, as keras-hub's own tests give (`compute_output_spec` is called on them).
    tensors = keras.tree.map_structure(keras.ops.convert_to_tensor, input_data)
    harness.run_precision_test(cls, dict(init_kwargs), tensors)


def test_keras_hub_serialization_of_the_lora_backbone(harness):
    lora = LoraBackbone(tiny_backbone(), rank=2)
    lora(TOKENS)
    harness.run_serialization_test(lora)
    revived = LoraBackbone.from_config(lora.get_config())
    assert [weight.path for weight in revived.trainable_weights] == [
        weight.path for weight in lora.trainable_weights
    ]


def test_the_lora_backbone_keeps_its_factors_float32_under_a_16_bit_policy():
    """Why `run_precision_test` does not apply: Keras' LoRA factors stay float32."""
    lora = LoraBackbone(tiny_backbone(dtype="mixed_bfloat16"), rank=2)
    outputs = lora(TOKENS)
    assert outputs["sequence_output"].dtype == "bfloat16"
    assert {weight.dtype for weight in lora.trainable_weights} == {"float32"}
