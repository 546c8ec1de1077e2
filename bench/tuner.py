"""Benchmark 5: memory over keras-tuner trials (it must not grow trial to trial).

Ten trials of the fusion hypermodel (small encoders, synthetic data made
here, one epoch each) under RandomSearch; the resident memory is read after
every trial. keras-tuner clears the Keras session before each build, and our
engine keeps no reference to finished models.
"""

from __future__ import annotations

import tempfile


def run(rows, trials: int = 10):
    import numpy as np
    import tensorflow as tf

    from bench.common import ratio, rss_mib
    from multimodal_tf.training import TrainingConfig
    from multimodal_tf.tuning import MultimodalHyperModel, make_tuner

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    images = rng.uniform(0, 1, (256, 32, 32, 3)).astype("float32")
    images[labels == 1, :, :16] += 1.0
    features = {"image": images, "image_present": np.ones(256, "float32")}
    data = tf.data.Dataset.from_tensor_slices((features, labels.astype("int32"))).batch(32)
    hypermodel = MultimodalHyperModel(
        2, image={"input_shape": (32, 32, 3)}, training=TrainingConfig(epochs=1, verbose=0)
    )
    memory = []
    with tempfile.TemporaryDirectory() as directory:
        tuner = make_tuner("random", hypermodel, max_trials=trials, directory=directory, project_name="memory")
        record = tuner.on_trial_end

        def on_trial_end(trial):
            record(trial)
            memory.append(rss_mib())
            print(f"trial {len(memory)}: {memory[-1]:.0f} MiB", flush=True)

        tuner.on_trial_end = on_trial_end
        tuner.search(data, validation_data=data, verbose=0)
    rows.add(
        "tuner-memory", f"resident memory after trials 1, 2, 5, {trials} of a RandomSearch over the fusion model",
        ", ".join(f"{memory[index]:.0f} MiB" for index in (0, 1, 4, len(memory) - 1)),
        ratio(memory[-1], memory[1]),
    )
