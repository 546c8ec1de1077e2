"""Every custom layer and every builder through the harness, under every dtype policy."""

import functools

import keras
import numpy as np
import pytest

from multimodal_tf.models import (
    InputGuard,
    MaskedMeanPooling,
    ModalityDropout,
    ModalityFusion,
    build_image_encoder,
    build_sequence_encoder,
    build_text_encoder,
)
from multimodal_tf.models.frozen import FrozenInference
from tests.helpers import (
    BUILDERS,
    IMAGE_SHAPE,
    SEQUENCE_SHAPE,
    TINY_IMAGE,
    TINY_SEQUENCE,
    TINY_TEXT,
    build_tiny,
    make_data,
)
from tests.layer_harness import POLICIES, global_policy, run_component_tests

RNG = np.random.default_rng(0)
PRESENCE = np.array([[1, 1], [1, 0], [0, 1], [1, 1]], "float32")
FEATURES = [RNG.normal(size=(4, 5)).astype("float32"), RNG.normal(size=(4, 3)).astype("float32")]


def _with_dtype(layer_class, **kwargs):
    return lambda dtype: layer_class(**kwargs, dtype=dtype)


def _as_builders_make_it(dtype, layer_class, *args):
    """A layer made as a builder makes it: no `dtype=` (it keeps float32 by design)."""
    return layer_class(*args)


LAYERS = {
    "modality_dropout": (_with_dtype(ModalityDropout, rate=0.3, seed=1), PRESENCE),
    "fusion_concat": (
        _with_dtype(ModalityFusion, mode="concat", fusion_dim=8),
        (FEATURES, PRESENCE),
    ),
    "fusion_gated": (_with_dtype(ModalityFusion, mode="gated", fusion_dim=8), (FEATURES, PRESENCE)),
    "fusion_attention": (
        _with_dtype(ModalityFusion, mode="attention", fusion_dim=8, num_heads=2),
        (FEATURES, PRESENCE),
    ),
    "input_guard": (
        lambda dtype: _as_builders_make_it(dtype, InputGuard, "image"),
        (RNG.uniform(size=(4, 3, 2)).astype("float32"), PRESENCE[:, 0]),
    ),
    "frozen_inference": (
        lambda dtype: FrozenInference(keras.layers.Dense(4, dtype=dtype), dtype=dtype),
        RNG.normal(size=(4, 5)).astype("float32"),
    ),
    "masked_mean_pooling": (
        _with_dtype(MaskedMeanPooling),
        (RNG.normal(size=(4, 5, 6)).astype("float32"), np.array([[1, 1, 0, 0, 0]] * 4, "int32")),
    ),
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_custom_layer(name, policy):
    make, inputs = LAYERS[name]
    run_component_tests(make, inputs, policy)


def _tiny_encoder(kind, dtype):
    from multimodal_tf.models import ImageEncoderConfig, SequenceEncoderConfig, TextEncoderConfig

    if kind == "image_encoder":
        return build_image_encoder(ImageEncoderConfig(**TINY_IMAGE), dtype=dtype)
    if kind == "sequence_encoder":
        return build_sequence_encoder(SequenceEncoderConfig(**TINY_SEQUENCE), dtype=dtype)
    freeze = kind == "frozen_text_encoder"
    return build_text_encoder(TextEncoderConfig(**TINY_TEXT, freeze=freeze), dtype=dtype)


ENCODER_INPUTS = {
    "image_encoder": RNG.uniform(size=(4, *IMAGE_SHAPE)).astype("float32"),
    "sequence_encoder": RNG.normal(size=(4, *SEQUENCE_SHAPE)).astype("float32"),
    "text_encoder": make_data("bert", n=4)[0],
    "frozen_text_encoder": make_data("bert", n=4)[0],
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("kind", sorted(ENCODER_INPUTS))
def test_encoder_builder(kind, policy):
    run_component_tests(functools.partial(_tiny_encoder, kind), ENCODER_INPUTS[kind], policy)


CLASSIFIERS = {kind: {} for kind in BUILDERS if kind != "multimodal"}
CLASSIFIERS.update(
    {f"multimodal_{fusion}": {"fusion": fusion} for fusion in ("concat", "gated", "attention")}
)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_builder(name, policy):
    kind = name.split("_")[0]
    inputs, _ = make_data(kind, n=4)
    model = run_component_tests(
        lambda dtype: build_tiny(kind, dtype=dtype, **CLASSIFIERS[name]), inputs, policy
    )
    assert model.dtype_policy.name == policy


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("policy", POLICIES)
def test_the_tokeniser_layer_is_integer_under_any_policy_and_its_config_round_trips(policy):
    """The in-graph tokeniser is the one custom layer the harness cannot build by policy: its
    output is int32 ids whatever the policy, and its vocabulary travels as an asset (keras-hub's
    convention), not in its config; so: same ids under every policy, config round trip, and the
    clone given the vocabulary gives the same ids."""
    import copy

    import tensorflow as tf

    from multimodal_tf.models.bert_tokenizer import WordPieceBertTokenizer
    from tests.models.test_bert_tokenizer import TINY_VOCAB

    texts = tf.constant(["The quick [SEP] fox", "a dog"])
    with global_policy(policy):
        tokenizer = WordPieceBertTokenizer(vocabulary=TINY_VOCAB, lowercase=True)

    def ids_of(layer):  # keras-hub hands back a RaggedTensor or, eagerly, lists
        ids = layer(texts)
        return ids.to_list() if hasattr(ids, "to_list") else ids

    assert tokenizer.compute_dtype == "int32"
    assert ids_of(tokenizer) == [[14, 1, 3, 1], [57, 1]]
    config = tokenizer.get_config()
    clone = WordPieceBertTokenizer.from_config(copy.deepcopy(config))
    clone.set_vocabulary(tokenizer.get_vocabulary())
    assert clone.get_config() == config
    assert ids_of(clone) == ids_of(tokenizer)
