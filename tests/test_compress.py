"""Knowledge distillation (multimodal_tf.compress)."""

import keras
import numpy as np
import pytest

from multimodal_tf.compress import Distiller, distill
from tests.helpers import build_tiny, make_data


@pytest.fixture(scope="module")
def teacher():
    keras.utils.set_random_seed(0)
    model = build_tiny("bert")
    inputs, labels = make_data("bert", n=128)
    model.fit(inputs, labels, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(inputs, labels, verbose=0, return_dict=True)["accuracy"] > 0.9
    return model


def test_the_loss_is_the_weighted_sum_of_hard_and_softened_terms(teacher):
    keras.utils.set_random_seed(1)
    student = build_tiny("bert", num_layers=1, compile=False)
    inputs, labels = make_data("bert", n=8, seed=3)
    distiller = Distiller(teacher, student, temperature=3.0, alpha=0.25)
    y_pred = np.asarray(student(inputs, training=False), "float64")
    t = np.asarray(teacher(inputs, training=False), "float64")

    def soften(p):
        z = np.log(np.clip(p, 1e-7, 1.0)) / 3.0
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    hard = -np.mean(np.log(y_pred[np.arange(8), labels]))
    soft = np.mean(np.sum(soften(t) * np.log(soften(t) / soften(y_pred)), axis=1)) * 9.0
    loss = float(distiller.compute_loss(inputs, labels, student(inputs, training=False)))
    assert np.isclose(loss, 0.25 * hard + 0.75 * soft, rtol=1e-4)


def test_distilling_teaches_the_student_and_leaves_the_teacher_alone(teacher):
    keras.utils.set_random_seed(2)
    student = build_tiny("bert", num_layers=1)
    inputs, labels = make_data("bert", n=128, seed=5)
    before = [weight.copy() for weight in teacher.get_weights()]
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(32)
    student, history = distill(
        teacher, student, data, epochs=12, learning_rate=1e-2, temperature=2.0, alpha=0.5, verbose=0
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    test_inputs, test_labels = make_data("bert", n=64, seed=9)
    assert student.evaluate(test_inputs, test_labels, verbose=0, return_dict=True)["accuracy"] > 0.8
    for old, new in zip(before, teacher.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(temperature=0), "`temperature` must be a number > 0"),
        (dict(alpha=1.5), r"`alpha` must be a number in \[0, 1\]"),
    ],
)
def test_bad_arguments(teacher, arguments, match):
    with pytest.raises(ValueError, match=match):
        Distiller(teacher, build_tiny("bert", num_layers=1), **arguments)


def test_teacher_and_student_must_agree_on_the_classes(teacher):
    from multimodal_tf import build_bert_classifier
    from tests.helpers import TINY_TEXT

    three = build_bert_classifier(3, **TINY_TEXT)
    with pytest.raises(ValueError, match="2 classes and `student` 3"):
        Distiller(teacher, three)
