"""Every private Keras API this library relies on, in one place.

Checked against Keras 3.15.1. Each function says why no public API serves;
when Keras changes, this module is the one to fix. (The other use is
`training.backup.BackupAndRestore`, which replaces the hook `_save_model`
and reads the paths `_weights_path`, `_training_metadata_path` and
`_prev_weights_path` (and `_current_epoch`) of the Keras callback it subclasses, and
`training.callbacks.ResumableEarlyStopping`, which reads and sets the
public-looking attributes of Keras' `EarlyStopping`: a
subclass cannot move here.)
"""

from __future__ import annotations

import contextlib


def all_layers(model) -> list:
    """`model` and every layer nested in it, at any depth, each once.

    Public `Model.layers` lists only the top level, and a custom layer's
    sublayers (ModalityFusion's, a BertBackbone's inside a functional
    model) are reachable only through `_flatten_layers`.
    """
    return list(model._flatten_layers(include_self=True, recursive=True))


def distribute_strategy_of(model):
    """The `tf.distribute` strategy `model` was built under, or None.

    The public `Model.distribute_strategy` falls back to the ambient default
    strategy, so it cannot tell "built under no strategy" apart.
    """
    return getattr(model, "_distribute_strategy", None)


def adam_slots(optimizer, variable) -> tuple:
    """The first and second moments (`m`, `v`) that Keras' `Adam` keeps for `variable`.

    Keras stores them in the private lists `_momentums` and `_velocities`,
    at the index `_get_variable_index` gives; no public API returns a
    weight's slots (`multimodal_tf.fused_adam` hands them to one kernel).
    """
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]


def resumed_epoch(model) -> int:
    """The epoch `fit` starts from, as Keras' `BackupAndRestore` set it on resuming (0: none).

    `BackupAndRestore.on_train_begin` writes it to the private
    `Model._initial_epoch`, which `fit` reads after the callbacks' `on_train_begin`.
    """
    return int(getattr(model, "_initial_epoch", None) or 0)


def start_fit_at_epoch(model, epoch: int) -> None:
    """Makes the running `fit` start at `epoch` (from an `on_train_begin`), as a resumption does.

    There is no public way for a callback to skip epochs; Keras'
    `BackupAndRestore` sets `Model._initial_epoch` the same way.
    """
    model._initial_epoch = epoch


def weights_file_bytes(model, attributes: dict | None = None) -> memoryview:
    """The bytes of the `.weights.h5` file `model.save_weights` would write, made in memory.

    `save_weights` takes a path only, and its h5py (libhdf5) writes into the
    file itself: when the disk fills during that write (another process
    filling it after our free-space check), libhdf5 crashes the process
    instead of raising. Keras' own `H5IOStore` also writes to an
    `io.BytesIO`; the caller then writes the bytes with Python, whose full
    disk is an `OSError`. `saving_lib._save_state` is the walk over the
    model's objects that `save_weights` makes (no public function takes a
    store).
    """
    import io

    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    store = saving_lib.H5IOStore(buffer, mode="w")
    try:
        saving_lib._save_state(
            model,
            weights_store=store,
            assets_store=None,
            inner_path="",
            visited_saveables=set(),
        )
        for name, value in (attributes or {}).items():  # the file's own attributes
            store.h5_file.attrs[name] = value
    finally:
        store.close()
    return buffer.getbuffer()  # no copy: a model's weights can be gigabytes


def build_from_batch_instead(model, batch, strategy) -> None:
    """Makes `fit` build the model's optimizer and metrics from `batch`, under `strategy`.

    Keras builds them before the first step from a batch it fetches itself
    (`_maybe_symbolic_build` calling `_symbolic_build`); there is no public
    hook to hand it one (see `training.distribute`, keras#20585).
    """

    def build(iterator=None, data_batch=None):
        with strategy.scope():
            model._symbolic_build(data_batch=batch)

    model._maybe_symbolic_build = build


def call_tensors(layer) -> tuple:
    """`(inputs, outputs)`: the flat tensors of `layer`'s one call inside `model`'s graph.

    For a nested functional model, the public `input` and `output` are its own
    graph's tensors, not those it was called on: only its inbound node knows.

    Raises:
        ValueError: the layer is called more than once (or never).
    """
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        raise ValueError(f"layer {layer.name!r} is called {len(nodes)} times; expected once.")
    return list(nodes[0].input_tensors), list(nodes[0].output_tensors)


@contextlib.contextmanager
def replaced_call(layer, call):
    """Within the block, `layer` runs `call(original_call, *args, **kwargs)`.

    Relies on `Layer.__call__` calling `self.call`, looked up on the instance.
    """
    original = layer.call
    layer.__dict__["call"] = lambda *args, **kwargs: call(original, *args, **kwargs)
    try:
        yield
    finally:
        layer.__dict__.pop("call", None)
