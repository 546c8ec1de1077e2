"""A keras-hub-style test harness for every custom layer and every builder.

Modelled on `run_layer_test`, `run_precision_test` and
`run_serialization_test` of `keras_hub/src/tests/test_case.py`. A component
is given as `make(dtype)`, a function that builds it with that dtype policy
passed explicitly (`dtype=`, keras-hub's one mechanism). The global policy
is whatever the caller has; :func:`global_policy` sets another one, so a
sublayer that reads the global policy instead of its parent's shows up.

- `run_precision_test`: every sublayer (nested ones included) carries the
  policy's compute and variable dtypes, but for the layers kept in float32
  on purpose; the outputs have the policy's compute dtype (models: float32
  probabilities).
- `run_serialization_test`: `get_config` → `from_config` gives the same
  config, and `serialize_keras_object` round-trips it; the clone, given the
  same weights, computes the same outputs.
- `run_layer_test`: a symbolic call (on `keras.KerasTensor`s with an unknown
  batch) and an eager call agree on output structure, shape and dtype.

`run_component_tests` runs all three for one policy.
"""

from __future__ import annotations

import contextlib
import copy

import keras
import numpy as np

from multimodal_tf.keras_internals import all_layers
from multimodal_tf.models.guards import InputGuard

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
# Relative tolerance of a clone's outputs against the original's, per compute dtype.
TOLERANCE = {"float32": 1e-5, "float16": 1e-2, "bfloat16": 5e-2}


def float32_by_design(layer) -> bool:
    """The layers this library keeps in float32 whatever the policy (models/dtypes.py)."""
    return isinstance(layer, InputGuard) or layer.name == "predictions"


def sublayers(layer) -> list:
    """`layer` and every layer nested in it, as keras-hub's harness walks them."""
    return all_layers(layer)


def _as_list(inputs) -> list:
    return list(inputs) if isinstance(inputs, tuple) else [inputs]


def _call(component, inputs, **kwargs):
    return component(*_as_list(inputs), **kwargs)


def _floating(value) -> bool:
    return keras.backend.is_float_dtype(keras.backend.standardize_dtype(value.dtype))


@contextlib.contextmanager
def global_policy(name: str):
    """Keras' global dtype policy set to `name` inside the block (a test's fixture)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def other_policy(name: str) -> str:
    """A policy of `POLICIES` other than `name`, to set globally while building under `name`."""
    return "float32" if name != "float32" else "mixed_bfloat16"


def run_precision_test(make, inputs, policy: str):
    """Builds with `dtype=policy` under another global policy and checks every dtype."""
    policy = keras.DTypePolicy(policy)
    with global_policy(other_policy(policy.name)):
        component = make(policy.name)
    outputs = _call(component, inputs)
    wrong = []
    for layer in sublayers(component):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        expected = keras.DTypePolicy("float32") if float32_by_design(layer) else policy
        if (layer.compute_dtype, layer.variable_dtype) != (
            expected.compute_dtype,
            expected.variable_dtype,
        ):
            wrong.append(f"{layer.path} ({type(layer).__name__}): {layer.dtype_policy.name}")
    assert not wrong, f"sublayers without the {policy.name} policy: {wrong}"
    for weight in component.weights:
        if _floating(weight):
            assert weight.dtype == policy.variable_dtype, (weight.path, weight.dtype)
    last = component.layers[-1] if isinstance(component, keras.Model) else component
    expected_output = "float32" if float32_by_design(last) else policy.compute_dtype
    for output in keras.tree.flatten(outputs):
        if _floating(output):
            assert keras.backend.standardize_dtype(output.dtype) == expected_output, (
                output.dtype,
                expected_output,
            )
    return component, outputs


def run_serialization_test(component, inputs, outputs=None):
    """Config and `serialize_keras_object` round trips; the clone computes the same."""
    config = component.get_config()
    clone = component.__class__.from_config(copy.deepcopy(config))  # from_config may consume it
    assert _comparable(clone.get_config(), component) == _comparable(config, component)
    serialized = keras.saving.serialize_keras_object(component)
    revived = keras.saving.deserialize_keras_object(copy.deepcopy(serialized))
    assert _comparable(keras.saving.serialize_keras_object(revived)) == _comparable(serialized)
    outputs = _call(component, inputs) if outputs is None else outputs
    clone_outputs = _call(clone, inputs)  # builds the clone
    clone.set_weights(component.get_weights())
    clone_outputs = _call(clone, inputs)
    tolerance = TOLERANCE[component.compute_dtype]
    for expected, actual in zip(keras.tree.flatten(outputs), keras.tree.flatten(clone_outputs)):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras.ops.cast(actual, "float32")),
            keras.ops.convert_to_numpy(keras.ops.cast(expected, "float32")),
            rtol=tolerance,
            atol=tolerance,
        )
    return clone


def _comparable(config, component=None):
    """The config, less what Keras itself does not restore.

    `keras.Sequential.from_config` (Keras 3.15) drops the container's own
    `dtype`, at the top or nested in a functional model; its layers keep
    theirs, and they are what computes (`multimodal_tf.models.dtypes.
    model_policy` reads the policy off the layers for that reason).
    """
    if isinstance(config, list):
        return [_comparable(item) for item in config]
    if not isinstance(config, dict):
        return config
    sequential = isinstance(component, keras.Sequential) or config.get("class_name") == "Sequential"
    config = {key: _comparable(value) for key, value in config.items()}
    if sequential and isinstance(config.get("config"), dict):
        config["config"] = {key: value for key, value in config["config"].items() if key != "dtype"}
    if isinstance(component, keras.Sequential):
        config.pop("dtype", None)
    return config


def _symbolic(value):
    if isinstance(value, dict):
        return {name: _symbolic(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_symbolic(item) for item in value]
    value = keras.ops.convert_to_tensor(value)
    shape = (None, *tuple(value.shape)[1:])
    return keras.KerasTensor(shape, dtype=keras.backend.standardize_dtype(value.dtype))


def run_layer_test(component, inputs, outputs=None):
    """A symbolic call agrees with an eager one on structure, shape and dtype."""
    outputs = _call(component, inputs) if outputs is None else outputs
    symbolic_inputs = [_symbolic(value) for value in _as_list(inputs)]
    symbolic_outputs = component(*symbolic_inputs)
    eager, symbolic = keras.tree.flatten(outputs), keras.tree.flatten(symbolic_outputs)
    assert len(eager) == len(symbolic)
    for eager_output, symbolic_output in zip(eager, symbolic):
        assert tuple(symbolic_output.shape)[1:] == tuple(eager_output.shape)[1:], (
            symbolic_output.shape,
            eager_output.shape,
        )
        assert symbolic_output.shape[0] in (None, eager_output.shape[0])
        assert keras.backend.standardize_dtype(
            symbolic_output.dtype
        ) == keras.backend.standardize_dtype(eager_output.dtype)


def run_component_tests(make, inputs, policy: str):
    """All three checks for one component under one policy."""
    component, outputs = run_precision_test(make, inputs, policy)
    run_serialization_test(component, inputs, outputs)
    run_layer_test(component, inputs, outputs)
    return component
