"""tf.distribute strategies: one device, every local device, or a cluster of workers.

The batch size of the data is the global batch: each of the N replicas gets
1/N of it, and gradients are averaged (see `docs/distributed.md`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os

import keras

from multimodal_tf.keras_internals import build_from_batch_instead
from multimodal_tf.training.config import STRATEGIES
from multimodal_tf.validation import check_choice

MULTIWORKER_HELP = (
    "set TF_CONFIG on every worker, e.g. "
    '\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": '
    "0}}' "
    "(index 1 on the second host); see docs/distributed.md."
)


def make_strategy(name: str = "default"):
    """Creates the `tf.distribute` strategy called `name`.

    Args:
        name: `"default"` (the current strategy, one device), `"mirrored"`
            (every GPU, or every logical CPU when there is no GPU) or
            `"multiworker"` (the cluster named by `TF_CONFIG`; create it
            first thing in the program: TensorFlow sets up the cluster's
            collective ops only before it runs its first op).

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        ValueError: unknown name, a backend other than TensorFlow, or
            `"multiworker"` without a valid `TF_CONFIG`.
    """
    check_choice("strategy", name, STRATEGIES)
    if keras.backend.backend() != "tensorflow":
        if name == "default":
            return None
        raise ValueError(
            f"`strategy` {name!r} needs KERAS_BACKEND=tensorflow, got {keras.backend.backend()!r}."
        )
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [device.name for device in tf.config.list_logical_devices("GPU")]
        devices = devices or [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    return _multiworker_strategy()


@functools.lru_cache(maxsize=1)
def _multiworker_strategy():
    """The process' one MultiWorkerMirroredStrategy (it cannot be made twice)."""
    import tensorflow as tf

    check_tf_config(os.environ.get("TF_CONFIG"))
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        if "program startup" not in str(error):
            raise
        raise ValueError(
            "`strategy` 'multiworker' must be created before TensorFlow runs any op: call "
            "multimodal_tf.training.make_strategy('multiworker') at the start of the program, "
            "before building datasets or models."
        ) from None


def check_tf_config(text: str | None):
    """Raises ValueError naming what is wrong with a `TF_CONFIG` value."""
    if not text:
        raise ValueError(
            f"`strategy` 'multiworker' needs the TF_CONFIG environment variable: {MULTIWORKER_HELP}"
        )
    try:
        tf_config = json.loads(text)
        workers = tf_config["cluster"]["worker"]
        task = tf_config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not valid ({error!r}): {MULTIWORKER_HELP}") from None
    if not isinstance(workers, list) or not 0 <= index < len(workers):
        raise ValueError(
            f"TF_CONFIG task index {index} is not one of its {len(workers)} workers: "
            f"{MULTIWORKER_HELP}"
        )


def strategy_scope(strategy):
    """`strategy.scope()`, or no scope for None (a backend without tf.distribute)."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def build_before_multiworker_fit(model, train_data):
    """Works around Keras 3 fit under MultiWorkerMirroredStrategy (keras#20585).

    Before its first step, Keras builds the optimizer and metrics from one
    batch, which it gets by all-reducing a distributed batch eagerly; that
    all-reduce fails under MultiWorkerMirroredStrategy. One local batch
    gives the same shapes, so the model builds from it instead.
    """
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    strategy = model.distribute_strategy
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    build_from_batch_instead(model, next(iter(train_data)), strategy)
    # Keras then averages each step's logged metrics over the workers with
    # an all-reduce along axis 0, which fails for scalars: give them that axis.
    for step in ("train_step", "test_step"):
        setattr(model, step, _with_leading_axis(getattr(model, step)))


def _with_leading_axis(step_function):
    def step(data):
        return keras.tree.map_structure(
            lambda value: keras.ops.reshape(value, (1,)), step_function(data)
        )

    return step
