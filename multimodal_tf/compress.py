"""Model compression (the document's §5.1.4): knowledge distillation.

(Post-training int8 quantisation is in `multimodal_tf.runs.export`.)

:func:`distill` trains a small *student* to reproduce a large *teacher*
(Hinton et al., 2015): the loss is

    alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(teacher_T || student_T)

where `_T` are the two models' distributions softened by the temperature
`T` (their logits divided by `T`; our classifiers output probabilities, and
`log(p)` equals the logits up to a constant, which the softmax ignores).
The `T^2` keeps the soft term's gradients on the scale of the hard term's.

Teacher and student take the same inputs (e.g. the fine-tuned MiniLM and a
2-layer BERT over the same WordPiece tokens). The teacher runs in inference
mode and is never updated. :class:`Distiller` is a Keras model that
overrides only `compute_loss`, so it trains on any backend with `fit`.

Example (a trained teacher and training data assumed; `scripts/distill_rt.py` runs it)::

    teacher = load_model("saved_models/rt-snippets-bert/model.keras")
    student = build_bert_classifier(
        2, sequence_length=64, num_layers=2, hidden_dim=128, compile=False
    )
    student, history = distill(teacher, student, train_data, temperature=2.0, alpha=0.5, epochs=3)
"""

from __future__ import annotations

import keras

from multimodal_tf.validation import check_positive_int

_EPSILON = 1e-7


class Distiller(keras.Model):
    """Trains `student` on the labels and on `teacher`'s softened outputs.

    Args:
        teacher: a trained classifier (outputs probabilities); frozen here.
        student: the classifier to train; same inputs and classes.
        temperature: softening temperature `T` (> 0; 1 is no softening).
        alpha: weight of the hard-label loss; `1 - alpha` weighs the
            distillation loss.

    Calling the distiller calls the student, so `evaluate` and `predict`
    report the student.
    """

    def __init__(self, teacher, student, temperature: float = 2.0, alpha: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        if (
            not isinstance(temperature, (int, float))
            or isinstance(temperature, bool)
            or temperature <= 0
        ):
            raise ValueError(f"`temperature` must be a number > 0, got {temperature!r}.")
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 <= alpha <= 1:
            raise ValueError(f"`alpha` must be a number in [0, 1], got {alpha!r}.")
        self.alpha = float(alpha)
        self.temperature = float(temperature)
        teacher_classes, student_classes = (
            teacher.outputs[0].shape[-1],
            student.outputs[0].shape[-1],
        )
        if teacher_classes != student_classes:
            raise ValueError(
                f"`teacher` has {teacher_classes} classes and `student` {student_classes}; they "
                "must match."
            )
        teacher.trainable = False
        self.teacher = teacher
        self.student = student

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def softened(self, probabilities):
        """`softmax(log(p) / T)`: the distribution at temperature T."""
        logits = keras.ops.log(
            keras.ops.clip(keras.ops.cast(probabilities, "float32"), _EPSILON, 1.0)
        )
        return keras.ops.softmax(logits / self.temperature, axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_probabilities = keras.ops.stop_gradient(self.teacher(x, training=False))
        y_pred = keras.ops.cast(y_pred, "float32")
        hard = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, y_pred))
        soft = (
            keras.ops.mean(
                keras.losses.kl_divergence(
                    self.softened(teacher_probabilities),
                    self.softened(y_pred),
                )
            )
            * self.temperature**2
        )
        return self.alpha * hard + (1.0 - self.alpha) * soft


def distill(
    teacher,
    student,
    data,
    *,
    temperature: float = 2.0,
    alpha: float = 0.5,
    epochs: int = 3,
    learning_rate: float = 1e-3,
    validation_data=None,
    jit_compile="auto",
    verbose: int = 1,
):
    """Distils `teacher` into `student` (trained in place).

    Args:
        teacher: a trained classifier of this library (or any Keras model
            returning class probabilities).
        student: a classifier with the same inputs and classes (compiled or
            not; it is compiled afresh, with accuracy, for integer labels).
        data: a `tf.data.Dataset` (or anything `fit` takes) of
            `(inputs, integer labels)`.
        temperature: softening temperature (Hinton et al. use 2-20).
        alpha: weight of the hard-label loss in [0, 1].
        epochs: training epochs.
        learning_rate: Adam's learning rate.
        validation_data: optional, reported per epoch (student accuracy).
        jit_compile: `"auto"` (the engine's rule: XLA on CPUs unless the
            models have convolutions), True or False.
        verbose: Keras' progress display.

    Returns:
        `(student, history)`; the student is compiled like the document's
        classifiers, ready to evaluate and save.
    """
    from multimodal_tf.fused_adam import FusedAdam
    from multimodal_tf.models.heads import compile_classifier
    from multimodal_tf.training import resolve_jit_compile

    epochs = check_positive_int("epochs", epochs)
    distiller = Distiller(teacher, student, temperature=temperature, alpha=alpha)
    jit = resolve_jit_compile(distiller, jit_compile)
    distiller.compile(
        optimizer=FusedAdam(learning_rate),
        metrics=["accuracy"],
        jit_compile=jit,
    )
    history = distiller.fit(data, epochs=epochs, validation_data=validation_data, verbose=verbose)
    compile_classifier(student, learning_rate=learning_rate)
    return student, history
