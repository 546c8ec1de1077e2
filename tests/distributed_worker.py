"""Trains one tiny CNN in a fresh process, for the tf.distribute tests.

Run as `python -m tests.distributed_worker MODE OUTPUT`:

- `mirrored`: splits this machine's CPU into two logical devices, trains the
  same model from the same seed on one device and under `mirrored`, and writes
  both runs' losses and weights to OUTPUT (`.npz`).
- `single` / `multiworker`: trains once under that strategy (`multiworker`
  reads TF_CONFIG) and writes the losses and weights.

A fresh process is needed because logical devices and a multi-worker cluster
must be set up before TensorFlow first runs an op.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

GLOBAL_BATCH = 8
EPOCHS = 2


def data():
    from tests.helpers import make_data

    images, labels = make_data("cnn", n=64, seed=3)
    return tf.data.Dataset.from_tensor_slices((images, labels.astype("int32"))).batch(GLOBAL_BATCH)


def run(strategy):
    from multimodal_tf.training import TrainingConfig, train
    from tests.helpers import build_tiny

    config = TrainingConfig(
        epochs=EPOCHS, strategy=strategy, precision="float32", verbose=0, seed=7
    )
    result = train(lambda: build_tiny("cnn"), data(), config)
    weights = [np.asarray(w) for w in result.model.get_weights()]
    return result, np.array(result.history.history["loss"]), weights


def main(mode, output):
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        _single, single_loss, single_weights = run("default")
        mirrored, mirrored_loss, mirrored_weights = run("mirrored")
        np.savez(
            output,
            replicas=mirrored.replicas,
            single_loss=single_loss,
            mirrored_loss=mirrored_loss,
            **{f"single_{i}": w for i, w in enumerate(single_weights)},
            **{f"mirrored_{i}": w for i, w in enumerate(mirrored_weights)},
        )
    else:
        from multimodal_tf.training import make_strategy

        make_strategy("default" if mode == "single" else "multiworker")  # before any op
        result, loss, weights = run("default" if mode == "single" else "multiworker")
        np.savez(
            output,
            replicas=result.replicas,
            loss=loss,
            **{f"w_{i}": w for i, w in enumerate(weights)},
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
