"""Adam and AdamW whose update is one fused TensorFlow kernel per weight.

Keras 3's `Adam.update_step` writes the update as about twenty small
operations per weight (powers, casts, three assignments). On the
TensorFlow backend each is a graph node: MiniLM's training step has 7,802
nodes with it and 5,536 with one `ResourceApplyAdam` node per weight, the
kernel Keras 2's Adam used. Fewer nodes trace, optimise and run faster, for
every model (docs/benchmarks.md, "Fine-tuning BERT: where the time goes").

The arithmetic is Keras' own: `m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
`w -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + epsilon)`.
Keras' own update runs instead where the kernel does not apply: other
backends, `amsgrad`, and a `tf.distribute` strategy (whose replicas update
through Keras). Weight decay, gradient clipping and loss scaling happen
before the update, as in Keras.

Example:

    model.compile(optimizer=FusedAdam(1e-3), loss="sparse_categorical_crossentropy")
"""

from __future__ import annotations

import keras

from multimodal_tf.keras_internals import adam_slots


def _fused_update(optimizer, gradient, variable, learning_rate) -> bool:
    """Applies Adam's update with `ResourceApplyAdam`; False where it does not apply."""
    if keras.backend.backend() != "tensorflow" or optimizer.amsgrad:
        return False
    import tensorflow as tf

    if tf.distribute.has_strategy():
        return False
    weight, m, v = (
        slot.value if isinstance(slot, keras.Variable) else slot
        for slot in (variable, *adam_slots(optimizer, variable))
    )
    dtype = weight.dtype
    step = tf.cast(optimizer.iterations + 1, dtype)
    beta_1 = tf.cast(optimizer.beta_1, dtype)
    beta_2 = tf.cast(optimizer.beta_2, dtype)
    tf.raw_ops.ResourceApplyAdam(
        var=weight.handle,
        m=m.handle,
        v=v.handle,
        beta1_power=tf.pow(beta_1, step),
        beta2_power=tf.pow(beta_2, step),
        lr=tf.cast(learning_rate, dtype),
        beta1=beta_1,
        beta2=beta_2,
        epsilon=tf.cast(optimizer.epsilon, dtype),
        # Keras' update makes a sparse gradient (an embedding's) dense too.
        grad=tf.cast(tf.convert_to_tensor(gradient), dtype),
        use_locking=False,
    )
    return True


@keras.saving.register_keras_serializable(package="multimodal_tf")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with one fused update kernel per weight on TensorFlow.

    Same arguments, configuration and results as `keras.optimizers.Adam`.
    """

    def update_step(self, gradient, variable, learning_rate):
        if not _fused_update(self, gradient, variable, learning_rate):
            super().update_step(gradient, variable, learning_rate)


@keras.saving.register_keras_serializable(package="multimodal_tf")
class FusedAdamW(keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with one fused update kernel per weight on TensorFlow.

    Same arguments, configuration and results as `keras.optimizers.AdamW`
    (its decoupled weight decay is applied before the update, by Keras).
    """

    def update_step(self, gradient, variable, learning_rate):
        if not _fused_update(self, gradient, variable, learning_rate):
            super().update_step(gradient, variable, learning_rate)
