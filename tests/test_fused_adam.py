"""The fused Adam: Keras' arithmetic, one kernel per weight, saved and reloaded by name."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf.fused_adam import FusedAdam, FusedAdamW


def _trained_weights(optimizer, dense_gradients=False):
    """An embedding and two dense layers after five steps of `optimizer`."""
    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(50, 8)
    dense = keras.layers.Dense(8, activation="tanh")
    head = keras.layers.Dense(3)
    ids = keras.Input((5,), dtype="int32")
    model = keras.Model(ids, head(dense(keras.layers.GlobalAveragePooling1D()(embedding(ids)))))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rng = np.random.RandomState(0)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            value = loss(y, model(x))
        gradients = tape.gradient(value, model.trainable_variables)
        if dense_gradients:
            gradients = [tf.convert_to_tensor(g) for g in gradients]
        optimizer.apply(gradients, model.trainable_variables)

    for _ in range(5):
        # token ids repeat within a batch: the embedding's gradient has repeated rows
        step(rng.randint(0, 10, (16, 5)), rng.randint(0, 3, 16))
    return [w.numpy() for w in model.trainable_variables]


@pytest.mark.parametrize(
    "fused, keras_class, options",
    [
        (FusedAdam, keras.optimizers.Adam, {}),
        (FusedAdam, keras.optimizers.Adam, {"learning_rate": 0.05, "beta_1": 0.5}),
        (FusedAdamW, keras.optimizers.AdamW, {"weight_decay": 0.1, "clipnorm": 0.5}),
    ],
)
def test_the_fused_update_is_keras_arithmetic(fused, keras_class, options):
    options = {"learning_rate": 0.01, **options}
    ours = _trained_weights(fused(**options))
    # Keras' Adam on the same summed gradients (it would square an embedding's
    # repeated rows one by one, unlike Adam's definition, PyTorch and Keras on JAX)
    theirs = _trained_weights(keras_class(**options), dense_gradients=True)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, atol=2e-6)


def test_one_kernel_per_weight_in_the_training_step():
    variable = tf.Variable(tf.ones((4, 3)))
    optimizer = FusedAdam(0.1)
    optimizer.build([variable])
    graph = (
        tf.function(lambda g: optimizer.apply([g], [variable]))
        .get_concrete_function(tf.TensorSpec((4, 3)))
        .graph
    )
    kinds = [op.type for op in graph.get_operations()]
    assert kinds.count("ResourceApplyAdam") == 1
    assert "AssignSubVariableOp" not in kinds


def test_amsgrad_takes_keras_own_update():
    ours = _trained_weights(FusedAdam(0.01, amsgrad=True), dense_gradients=True)
    theirs = _trained_weights(keras.optimizers.Adam(0.01, amsgrad=True), dense_gradients=True)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, atol=1e-7)


def test_trains_under_a_distribution_strategy_through_keras_update():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(FusedAdam(0.1), "mse")
    before = model.get_weights()[0].copy()
    model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=1, verbose=0)
    assert not np.allclose(before, model.get_weights()[0])


def test_saved_and_reloaded_with_its_state(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = np.random.rand(32, 4), np.random.randint(0, 2, 32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(FusedAdamW(0.01, weight_decay=0.05), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(reloaded.optimizer) is FusedAdamW
    assert reloaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(reloaded.optimizer.iterations) == int(model.optimizer.iterations) == 2
    model.fit(x, y, epochs=1, verbose=0)
    reloaded.fit(x, y, epochs=1, verbose=0)
    for mine, theirs in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
