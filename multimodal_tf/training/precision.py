"""Which dtype policy a model trains under: `"auto"` decided per machine and per model.

See the package doc for the rule and `bench/RESULTS.md` for the measurements.
"""

from __future__ import annotations

import contextlib

import keras

from multimodal_tf.keras_internals import all_layers
from multimodal_tf.models.dtypes import PRECISIONS
from multimodal_tf.training import devices
from multimodal_tf.validation import check_choice


def best_precision() -> str:
    """The fastest safe dtype policy of this machine for most models (see the module doc)."""
    if devices.has_gpu():
        return "mixed_float16"
    return "mixed_bfloat16" if fast_bfloat16(devices.cpu_flags()) else "float32"


def resolve_precision(precision: str) -> str:
    """`precision`, with `"auto"` replaced by `best_precision()`."""
    check_choice("precision", precision, ("auto", *PRECISIONS))
    return best_precision() if precision == "auto" else precision


# CPU flags of native bfloat16 arithmetic, which oneDNN uses for mixed_bfloat16.
NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def fast_bfloat16(flags) -> bool:
    """Whether mixed_bfloat16 measured faster than float32 on a CPU with these flags.

    Yes with AMX (Intel Xeon) and with AVX512-BF16 on AMD EPYC (no
    AVX512-FP16). No on an Intel Xeon whose AMX the machine does not expose
    (AVX512-BF16 and AVX512-FP16, no `amx_bf16`): oneDNN's AVX512-BF16
    kernels there ran BERT's step at 0.66x float32's and the CNN's at 0.84x
    (#precision-bert-bfloat16-step-xla-off-avx512fp16-2026-12-08,
    #precision-cnn-bfloat16-step-xla-off-avx512fp16-2026-12-08).

    Args:
        flags: the CPU's flags (`devices.cpu_flags()`).

    Returns:
        True where `auto` picks mixed_bfloat16 on this CPU.

    Example:
    >>> fast_bfloat16({"avx512_bf16"}), fast_bfloat16({"avx512_bf16", "avx512_fp16"})
    (True, False)
    """
    if "amx_bf16" in flags:
        return True
    return "avx512_bf16" in flags and "avx512_fp16" not in flags


def _slower_in_bfloat16_on_cpu() -> tuple:
    """The layers whose models measured slower in mixed_bfloat16 on CPUs with native bfloat16.

    From `python -m bench precision`, each policy's step against float32's
    (rows of bench/results.jsonl, shown in bench/RESULTS.md): on AMX (Intel
    Xeon) and on AVX512-BF16 without AMX (AMD EPYC), 2 cores each, the CNN,
    BERT and the fusion model gain (#precision-cnn-bfloat16-amx-issue13 and
    its siblings; #precision-cnn-bfloat16-xla-off-avx512bf16-2026-11-28,
    #precision-bert-bfloat16-xla-off-avx512bf16-2026-11-28,
    #precision-fusion-bfloat16-xla-off-avx512bf16-2026-11-28; the main job
    whole: #main-job-precision-avx512bf16-2026-11-28), but the stacked LSTM
    loses on both (#precision-lstm-bfloat16-amx-issue13,
    #precision-lstm-bfloat16-xla-off-avx512bf16-2026-11-28): a recurrence is
    many small matrix products, where the casts cost more than bfloat16
    saves. Until 2026-12-07 the fusion model stayed in float32 on
    AVX512-BF16 so that results reported in float32 reproduced; `auto` now
    follows the measurements alone (issue 27), and `precision="float32"`
    reproduces those results.
    """
    return (keras.layers.RNN,)


def precision_for_model(model, precision: str) -> str:
    """The policy `"auto"` trains `model` under, given the machine's `precision`.

    `model` was built under `precision` (from `best_precision()`). On a CPU
    with native bfloat16, a model holding a layer that measured slower in
    mixed_bfloat16 on such CPUs (see `_slower_in_bfloat16_on_cpu`) gets
    float32 instead. Every other model keeps `precision`.
    """
    if precision != "mixed_bfloat16" or devices.has_gpu():
        return precision
    slow = _slower_in_bfloat16_on_cpu()
    layers = all_layers(model)
    return "float32" if any(isinstance(layer, slow) for layer in layers) else precision


def build_under_precision(build_model, precision: str, seed: int | None = None) -> tuple:
    """Calls `build_model()` under `precision`, deciding `"auto"` for the model built.

    The library's builders take `dtype=` and pass it to every layer; a
    function of no arguments cannot be given it, so it runs inside
    :func:`precision_scope`: the builders it calls read Keras' global policy
    once (`models.dtypes.resolve_dtype`) and pass that on.

    Args:
        build_model: a function of no arguments returning a `keras.Model`.
        precision: `"auto"` or one of `PRECISIONS`.
        seed: the random seed set before each build, so a model rebuilt
            under another policy starts from the same weights.

    Returns:
        `(model, policy name)`.
    """
    policy = resolve_precision(precision)
    for _ in range(2):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        with precision_scope(policy):
            model = build_model()
        if not isinstance(model, keras.Model):
            raise ValueError(
                f"`build_model` must return a keras.Model, got {type(model).__name__}."
            )
        chosen = precision_for_model(model, policy) if precision == "auto" else policy
        if chosen == policy:
            return model, policy
        policy = chosen
    return model, policy


@contextlib.contextmanager
def precision_scope(precision: str):
    """Sets Keras' global dtype policy inside the block, restores it after.

    Keras' own mixed-precision switch (`keras.config.set_dtype_policy`), for
    the user's code that training runs: a `build_model` of no arguments,
    `fit`. Builders never switch it.

    Args:
        precision: `"auto"` or one of `PRECISIONS`.

    Yields:
        The policy name in force.
    """
    name = resolve_precision(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)
