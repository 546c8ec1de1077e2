"""`train` and `TrainingConfig` refuse bad arguments by name."""

import pytest

from multimodal_tf.training import TrainingConfig, train
from tests.helpers import build_tiny
from tests.training.common import dataset, quiet


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0),
        ("precision", "float16"),
        ("jit_compile", "yes"),
        ("strategy", "tpu"),
        ("optimizer", "sgd"),
        ("learning_rate", -1.0),
        ("warmup_fraction", 1.5),
        ("weight_decay", -0.1),
        ("steps_per_execution", 0),
        ("early_stopping_patience", 0),
        ("verbose", 3),
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


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("kind", ["cnn", "bert"])
def test_the_training_step_is_traced_once(kind):
    # Keras builds the optimizer inside the first trace when no strategy is set, and
    # tf.function then traces the step again; `fit` builds it first (engine.build_optimizer).
    traces = []

    def build():
        model = build_tiny(kind)
        step = model.train_step

        def counted(data):
            traces.append(1)
            return step(data)

        model.train_step = counted
        return model

    result = train(build, dataset(kind), quiet())
    assert len(traces) == 1
    assert result.model.optimizer.built and result.model.optimizer.iterations.numpy() == 16


def test_a_model_whose_layers_are_built_by_its_first_batch_still_trains():
    # No `Input`: the layers get their weights on the first step, so the optimizer is left
    # to Keras to build then (building it before would miss those weights).
    import keras

    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    result = train(lambda: model, dataset("cnn"), quiet(epochs=1))
    assert result.model.optimizer.iterations.numpy() == 8
    assert len(result.model.trainable_weights) == 2
