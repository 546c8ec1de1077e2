"""The training engine: precision, XLA, tf.distribute, callbacks, schedules.

Every model of this library trains through here: `multimodal-tf train`, the
notebooks and the keras-tuner hypermodels. One `TrainingConfig` says how;
`train(build_model, train_data, config)` builds the model under the chosen
dtype policy and distribution strategy, compiles it for the device, and fits
it with the callbacks users expect.

What "auto" means, and why (measured in `bench/RESULTS.md`):

- `precision="auto"`: `mixed_float16` on a CUDA GPU (Tensor Cores);
  `float32` on CPUs without native bfloat16 (there bfloat16 is emulated
  and slower); on CPUs with it (AVX512-BF16 or AMX) `mixed_bfloat16`,
  except for models measured slower in it on that CPU class: recurrent
  models everywhere (stacked LSTM 0.76x on AMX, 0.54x on AVX512-BF16),
  and the fusion model on AVX512-BF16 without AMX (0.65-0.91x). See
  `precision_for_model`; the model is built, checked and, where the rule
  says float32, rebuilt from the same seed. Under `mixed_float16` the
  optimizer is wrapped in a `LossScaleOptimizer`; the softmax and the loss
  stay in float32.
- `jit_compile="auto"`: XLA on accelerators (Keras' rule: unless a layer
  cannot be compiled, such as a cuDNN LSTM). On CPUs it depends on the
  model, as measured: XLA trains the stacked LSTM 2.0-2.2x and the BERT
  classifier 1.4-2.0x faster, but the CNN 0.45-0.49x and the fusion model
  with its CNN 0.46-0.88x as fast, because XLA's CPU convolutions are
  slower than oneDNN's. So on a CPU, auto means on unless the model has a
  convolution or computes in 16-bit floats (XLA's CPU backend has no
  oneDNN bfloat16 kernels: BERT's bfloat16 step took 437 ms with XLA, 259
  ms without). Off under `tf.distribute` (Keras' rule).
- `strategy`: `"default"` (one device), `"mirrored"` (all GPUs of this
  machine, or all logical CPUs when there is no GPU) or `"multiworker"`
  (several machines, described by the `TF_CONFIG` environment variable; see
  `docs/distributed.md`). The batch size of the data is the global batch:
  each of the N replicas gets 1/N of it, and gradients are averaged, so the
  same data and seed train the same weights on one device or on N.

Example:
>>> from multimodal_tf import build_cnn_classifier
>>> from multimodal_tf.training import TrainingConfig, train
>>> result = train(build_cnn_classifier, train_data, TrainingConfig(epochs=10, output_dir="runs/cnn"))
>>> result.model.evaluate(test_data)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import time

import keras
import numpy as np

from multimodal_tf.models.dtypes import PRECISIONS, dtype_policy_scope, model_policy
from multimodal_tf.validation import check_choice, check_positive_int, check_positive_number, check_rate, check_seed

STRATEGIES = ("default", "mirrored", "multiworker")
OPTIMIZERS = ("auto", "adam", "adamw")
# Substrings of variable names AdamW leaves out of weight decay, as Hugging
# Face's create_optimizer does (biases and layer-normalisation scales).
NO_WEIGHT_DECAY = ("bias", "gamma", "beta")
CHECKPOINT_FILE = "best.keras"
LOG_FOLDER = "logs"
BACKUP_FOLDER = "backup"


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How to train.

    Args:
        epochs: passes over the training data.
        precision: `"auto"` or one of `PRECISIONS`.
        jit_compile: `"auto"`, True or False (XLA).
        strategy: one of `STRATEGIES`.
        optimizer: `"auto"` keeps the optimizer the builder chose (Adam for
            the document's models, AdamW for a pretrained BERT); `"adam"` or
            `"adamw"` replaces it.
        learning_rate: peak learning rate; None keeps the builder's.
        warmup_fraction: fraction of all steps spent warming the learning
            rate up linearly from 0, after which it decays linearly to 0 (Hugging
            Face's create_optimizer). None: 0.1 with AdamW, else no schedule.
        weight_decay: AdamW's decoupled weight decay.
        steps_per_execution: batches per compiled call (fewer Python round
            trips for small models).
        output_dir: where TensorBoard logs (`logs/`), the best model
            (`best.keras`) and the backup for resuming (`backup/`) go; None
            writes nothing.
        early_stopping_patience: epochs without improvement before
            stopping (restoring the best weights); None: never stop early.
        tensorboard: write TensorBoard logs (needs `output_dir`).
        checkpoint: save the best model (needs `output_dir`).
        backup: back up every epoch and resume from the backup when the
            same `output_dir` trains again after an interruption.
        keep_backup: keep the backup when training ends (a caller that
            saves results after training removes it once they are saved,
            so a failure in between loses no training).
        verbose: Keras' display: 0 silent, 1 progress bar, 2 a line an epoch.
        seed: seeds weights, dropout and Keras' shuffling.
    """

    epochs: int = 10
    precision: str = "auto"
    jit_compile: bool | str = "auto"
    strategy: str = "default"
    optimizer: str = "auto"
    learning_rate: float | None = None
    warmup_fraction: float | None = None
    weight_decay: float = 0.01
    steps_per_execution: int = 1
    output_dir: str | None = None
    early_stopping_patience: int | None = None
    tensorboard: bool = True
    checkpoint: bool = True
    backup: bool = True
    keep_backup: bool = False
    verbose: int = 1
    seed: int = 0

    def __post_init__(self):
        check_positive_int("epochs", self.epochs)
        check_choice("precision", self.precision, ("auto", *PRECISIONS))
        if self.jit_compile not in ("auto", True, False):
            raise ValueError(f"`jit_compile` must be 'auto', True or False, got {self.jit_compile!r}.")
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive_number("learning_rate", self.learning_rate, allow_none=True)
        if self.warmup_fraction is not None:
            check_rate("warmup_fraction", self.warmup_fraction)
        if not (isinstance(self.weight_decay, (int, float)) and math.isfinite(self.weight_decay)
                and self.weight_decay >= 0):
            raise ValueError(f"`weight_decay` must be a finite number >= 0, got {self.weight_decay!r}.")
        check_positive_int("steps_per_execution", self.steps_per_execution)
        check_positive_int("early_stopping_patience", self.early_stopping_patience, allow_none=True)
        check_choice("verbose", self.verbose, (0, 1, 2))
        check_seed(self.seed)


@dataclasses.dataclass
class TrainingResult:
    """What `train` returns.

    Attributes:
        model: the trained model (the best weights when early stopping).
        history: the `keras.callbacks.History` of the fit.
        precision: the dtype policy trained under.
        jit_compile: whether XLA compiled the train step.
        strategy: the distribution strategy's class name.
        replicas: replicas in sync.
        seconds: wall-clock seconds of `fit`.
    """

    model: keras.Model
    history: keras.callbacks.History
    precision: str
    jit_compile: bool
    strategy: str
    replicas: int
    seconds: float


# ------------------------------------------------------------------- devices


CPU_FLAGS_VARIABLE = "MULTIMODAL_TF_CPU_FLAGS"


def cpu_flags() -> frozenset:
    """The instruction-set flags of this machine's CPU (Linux; empty elsewhere).

    The environment variable `MULTIMODAL_TF_CPU_FLAGS` (space-separated
    flags, e.g. `"avx2 fma"`) replaces them, so `"auto"` can be made to
    choose as on another CPU class (and the suite run that way).
    """
    forced = os.environ.get(CPU_FLAGS_VARIABLE)
    if forced is not None:
        return frozenset(forced.split())
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def has_gpu() -> bool:
    """Whether the Keras backend sees a GPU."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def best_precision() -> str:
    """The fastest safe dtype policy of this machine for most models (see the module doc)."""
    if has_gpu():
        return "mixed_float16"
    if cpu_flags() & NATIVE_BFLOAT16_FLAGS:
        return "mixed_bfloat16"
    return "float32"


def resolve_precision(precision: str) -> str:
    """`precision`, with `"auto"` replaced by `best_precision()`."""
    check_choice("precision", precision, ("auto", *PRECISIONS))
    return best_precision() if precision == "auto" else precision


# CPU flags of native bfloat16 arithmetic, which oneDNN uses for mixed_bfloat16.
NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def _slower_in_bfloat16_on_cpu() -> dict:
    """Per CPU class, the layers whose models measured slower in mixed_bfloat16.

    From `python -m bench precision` (bench/RESULTS.md), each policy's step
    against the fastest float32 step of the same model (XLA as "auto" sets it):

    - AMX (Intel Xeon, 2 cores): CNN 2.07x, fusion 1.29x, BERT 1.12x, but
      the stacked LSTM 0.76x: a recurrence is many small matrix products,
      where the casts cost more than bfloat16 saves.
    - AVX512-BF16 without AMX (AMD EPYC, 2 cores): CNN 1.13x, BERT 1.68x,
      stacked LSTM 0.54x, and the fusion model 0.65-0.91x (its 64x64 CNN and
      frozen MiniLM forward pass gain nothing there).
    """
    from multimodal_tf.models.fusion import ModalityFusion

    return {"amx_bf16": (keras.layers.RNN,), "avx512_bf16": (keras.layers.RNN, ModalityFusion)}


def precision_for_model(model, precision: str) -> str:
    """The policy `"auto"` trains `model` under, given the machine's `precision`.

    `model` was built under `precision` (from `best_precision()`). On a CPU
    with native bfloat16, a model holding a layer that measured slower in
    mixed_bfloat16 on that CPU class (see `_slower_in_bfloat16_on_cpu`) gets
    float32 instead. Every other model keeps `precision`.
    """
    if precision != "mixed_bfloat16" or has_gpu():
        return precision
    flags = cpu_flags()
    cpu_class = "amx_bf16" if "amx_bf16" in flags else "avx512_bf16"
    slow = _slower_in_bfloat16_on_cpu()[cpu_class]
    layers = model._flatten_layers()  # Keras 3.15: the only walk that reaches nested sublayers
    return "float32" if any(isinstance(layer, slow) for layer in layers) else precision


def build_under_precision(build_model, precision: str, seed: int | None = None) -> tuple:
    """Calls `build_model()` under `precision`, deciding `"auto"` for the model built.

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
        with dtype_policy_scope(policy):
            model = build_model()
        if not isinstance(model, keras.Model):
            raise ValueError(f"`build_model` must return a keras.Model, got {type(model).__name__}.")
        chosen = precision_for_model(model, policy) if precision == "auto" else policy
        if chosen == policy:
            return model, policy
        policy = chosen
    return model, policy


@contextlib.contextmanager
def precision_scope(precision: str):
    """Sets Keras' global dtype policy inside the block, restores it after.

    Args:
        precision: `"auto"` or one of `PRECISIONS`.

    Yields:
        The policy name in force.
    """
    name = resolve_precision(precision)
    with dtype_policy_scope(name):
        yield name


# ---------------------------------------------------------------- strategies


MULTIWORKER_HELP = (
    "set TF_CONFIG on every worker, e.g. "
    '\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\' '
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

    _check_tf_config(os.environ.get("TF_CONFIG"))
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


def _check_tf_config(text: str | None):
    if not text:
        raise ValueError(f"`strategy` 'multiworker' needs the TF_CONFIG environment variable: {MULTIWORKER_HELP}")
    try:
        tf_config = json.loads(text)
        workers = tf_config["cluster"]["worker"]
        task = tf_config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not valid ({error!r}): {MULTIWORKER_HELP}") from None
    if not isinstance(workers, list) or not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG task index {index} is not one of its {len(workers)} workers: {MULTIWORKER_HELP}")


def _strategy_scope(strategy):
    return contextlib.nullcontext() if strategy is None else strategy.scope()


# ----------------------------------------------------------------- optimizer


@keras.saving.register_keras_serializable(package="multimodal_tf")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to the peak, then linear decay to `end_learning_rate`.

    The schedule of BERT fine-tuning (Hugging Face's `create_optimizer`).

    Args:
        peak_learning_rate: the learning rate at the end of warmup.
        warmup_steps: steps of warmup (0: start at the peak).
        total_steps: all training steps; the rate reaches the end there.
        end_learning_rate: the rate after `total_steps`.
    """

    def __init__(self, peak_learning_rate, warmup_steps, total_steps, end_learning_rate=0.0):
        if total_steps < 1 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"`warmup_steps` must be in [0, total_steps] and `total_steps` >= 1, "
                f"got {warmup_steps} and {total_steps}."
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.end_learning_rate = float(end_learning_rate)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = keras.ops.maximum(float(self.warmup_steps), 1.0)
        warming = self.peak_learning_rate * step / warmup
        decay_steps = keras.ops.maximum(float(self.total_steps - self.warmup_steps), 1.0)
        progress = keras.ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        decaying = self.peak_learning_rate + (self.end_learning_rate - self.peak_learning_rate) * progress
        return keras.ops.where(step < self.warmup_steps, warming, decaying)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "end_learning_rate": self.end_learning_rate,
        }


def adamw_with_warmup(
    learning_rate: float, total_steps: int, warmup_fraction: float = 0.1, weight_decay: float = 0.01
):
    """AdamW with linear warmup and decay, biases and norms free of decay.

    Args:
        learning_rate: the peak learning rate (5e-5 to 1e-4 for BERT).
        total_steps: all training steps (epochs x steps per epoch).
        warmup_fraction: fraction of `total_steps` spent warming up.
        weight_decay: decoupled weight decay of the other weights.

    Returns:
        A `keras.optimizers.AdamW`.
    """
    total_steps = check_positive_int("total_steps", total_steps)
    check_rate("warmup_fraction", warmup_fraction)
    schedule = WarmupLinearDecay(learning_rate, int(round(warmup_fraction * total_steps)), total_steps)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay)
    optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    return optimizer


def _compiled_optimizer(model):
    """The optimizer the model was compiled with, unwrapped from loss scaling (or None)."""
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return optimizer


def _compiled_learning_rate(model) -> float | None:
    optimizer = _compiled_optimizer(model)
    if optimizer is None:
        return None
    rate = optimizer._learning_rate
    if isinstance(rate, WarmupLinearDecay):
        return rate.peak_learning_rate
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        return None
    # The shortest decimal that is this float32, so 3e-4 reads back as 3e-4.
    return float(np.format_float_positional(np.float32(keras.ops.convert_to_numpy(rate)), unique=True))


def _compiled_optimizer_name(model) -> str:
    return "adamw" if isinstance(_compiled_optimizer(model), keras.optimizers.AdamW) else "adam"


def make_optimizer(model, config: TrainingConfig, steps_per_epoch: int | None = None):
    """The optimizer `config` asks for, given the model's compiled one.

    Args:
        model: the model (compiled by its builder, or not).
        config: the training configuration.
        steps_per_epoch: needed for a warmup schedule.

    Returns:
        A new `keras.optimizers.Optimizer`.
    """
    name = _compiled_optimizer_name(model) if config.optimizer == "auto" else config.optimizer
    learning_rate = config.learning_rate or _compiled_learning_rate(model) or 1e-3
    warmup = config.warmup_fraction
    if warmup is None:
        warmup = 0.1 if name == "adamw" else 0.0
    if name == "adam" and warmup == 0:
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if steps_per_epoch is None:
        raise ValueError(
            "a warmup schedule needs the number of steps per epoch: pass a tf.data.Dataset "
            "of known cardinality, or `steps_per_epoch`."
        )
    total_steps = steps_per_epoch * config.epochs
    if name == "adamw":
        return adamw_with_warmup(learning_rate, total_steps, warmup, config.weight_decay)
    schedule = WarmupLinearDecay(learning_rate, int(round(warmup * total_steps)), total_steps)
    return keras.optimizers.Adam(learning_rate=schedule)


# Layers whose XLA CPU kernels measured slower than TensorFlow's own (oneDNN).
SLOW_UNDER_XLA_ON_CPU = (
    keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D, keras.layers.Conv2DTranspose,
)


def resolve_jit_compile(model, jit_compile="auto"):
    """Whether XLA compiles `model`'s steps: `jit_compile` with "auto" decided.

    Returns:
        True, False, or "auto" where Keras' own rule applies (accelerators).
    """
    if jit_compile != "auto":
        return jit_compile
    if has_gpu():
        return "auto"
    if getattr(model, "_distribute_strategy", None) is not None:
        return False
    if model_policy(model) != "float32":
        # XLA's CPU backend has no oneDNN 16-bit kernels: the BERT classifier's
        # mixed_bfloat16 step measured 437 ms with XLA, 259 ms without.
        return False
    layers = list(model._flatten_layers())
    if not all(layer.supports_jit for layer in layers):
        return False
    return not any(isinstance(layer, SLOW_UNDER_XLA_ON_CPU) for layer in layers)


def compile_model(model, config: TrainingConfig, steps_per_epoch: int | None = None):
    """Compiles `model` for training as `config` says (in place).

    The loss is the model's own if it was compiled, else sparse categorical
    cross-entropy; the metric is accuracy. Under `mixed_float16` the
    optimizer is wrapped in a `LossScaleOptimizer` so that small float16
    gradients do not underflow.

    Returns:
        `model`.
    """
    optimizer = make_optimizer(model, config, steps_per_epoch)
    if model_policy(model) == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    loss = getattr(model, "loss", None) or "sparse_categorical_crossentropy"
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=["accuracy"],
        jit_compile=resolve_jit_compile(model, config.jit_compile),
        steps_per_execution=config.steps_per_execution,
    )
    return model


# ----------------------------------------------------------------- callbacks


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` that also backs up the random generators.

    Keras' weight files leave out the state of the layers' seed generators
    (dropout, modality dropout), so a resumed run would draw the dropout
    masks of the first epochs again and end with other weights. This one
    saves and restores those states too: with the same seed and data order,
    an interrupted and resumed run ends with the same weights as an
    uninterrupted one (tested).
    """

    def __init__(self, backup_dir, **kwargs):
        # Two generations of weights: a backup cut short (a full disk, a
        # kill mid-write) falls back to the one before.
        kwargs.setdefault("double_checkpoint", True)
        super().__init__(backup_dir, **kwargs)
        self._random_state_path = os.path.join(backup_dir, "random_state.npz")

    def _seed_states(self) -> dict:
        # By position: variable paths carry per-process counters, positions
        # are fixed by the architecture.
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        return {f"state_{number}": state for number, state in enumerate(states)}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if os.path.exists(self._training_metadata_path) and os.path.exists(self._random_state_path):
            with np.load(self._random_state_path) as saved:
                for name, state in self._seed_states().items():
                    if name in saved.files:
                        state.assign(saved[name])

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.delete_checkpoint and os.path.exists(self._random_state_path):
            os.remove(self._random_state_path)

    def _save_model(self):
        super()._save_model()
        states = {name: keras.ops.convert_to_numpy(state) for name, state in self._seed_states().items()}
        np.savez(self._random_state_path, **states)


class NonFiniteLossError(RuntimeError):
    """Training stopped because the loss became NaN or infinite."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training with a clear error the first time the loss is NaN or infinite.

    Keras' `TerminateOnNaN` stops quietly, and what was trained so far would
    then be saved and reported as a result; this raises instead, so nothing
    downstream mistakes a diverged model for a trained one.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            raise NonFiniteLossError(
                f"training stopped at epoch {self.epoch + 1}, batch {batch + 1}: the loss is {float(loss)}. "
                "The model diverged (a learning rate too high for this model, or inputs with extreme values); "
                "nothing was saved as a result. Lower --learning-rate and train again."
            )


def make_callbacks(config: TrainingConfig, validation: bool) -> list:
    """TensorBoard, best-model checkpoint, backup and early stopping.

    Args:
        config: says which, and where (`output_dir`).
        validation: whether validation data is given; the checkpoint and
            early stopping then watch `val_loss`, else the training loss.

    Returns:
        A list of `keras.callbacks.Callback` (the progress bar is Keras'
        own, set by `verbose`).
    """
    monitor = "val_loss" if validation else "loss"
    callbacks = [StopOnNonFiniteLoss()]
    if config.output_dir is not None:
        if config.backup:
            callbacks.append(BackupAndRestore(
                os.path.join(config.output_dir, BACKUP_FOLDER), delete_checkpoint=not config.keep_backup
            ))
        if config.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(os.path.join(config.output_dir, LOG_FOLDER)))
        if config.checkpoint:
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    os.path.join(config.output_dir, CHECKPOINT_FILE), monitor=monitor, save_best_only=True
                )
            )
    if config.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=config.early_stopping_patience, restore_best_weights=True
            )
        )
    return callbacks


# ------------------------------------------------------------------ training


def steps_per_epoch_of(data) -> int | None:
    """Batches per epoch of a `tf.data.Dataset` (None when unknown)."""
    cardinality = getattr(data, "cardinality", None)
    if cardinality is not None:
        count = int(cardinality())
        return count if count > 0 else None
    return len(data) if hasattr(data, "__len__") else None


def fit(
    model, train_data, config: TrainingConfig, validation_data=None, callbacks=(), steps_per_epoch=None,
    initial_epoch: int = 0,
):
    """Compiles `model` for `config` and fits it.

    Use this for a model that is already built (a keras-tuner trial builds
    its own under the tuner's strategy); `train` also builds it.

    Args:
        model: a Keras model built under the wanted dtype policy and strategy.
        train_data: a `tf.data.Dataset` of `(inputs, labels)` batches (the
            batch size is the global one).
        config: the training configuration.
        validation_data: optional dataset evaluated after each epoch.
        callbacks: more callbacks, run after the engine's.
        steps_per_epoch: only for data of unknown cardinality.
        initial_epoch: the epoch to start from (Hyperband continues trials).

    Returns:
        The `keras.callbacks.History`.
    """
    steps = steps_per_epoch or steps_per_epoch_of(train_data)
    # The optimizer's variables must live where the model's do (a tuner
    # builds under its strategy but fits outside that scope).
    with _strategy_scope(getattr(model, "_distribute_strategy", None)):
        compile_model(model, config, steps)
    _build_before_multiworker_fit(model, train_data)
    return model.fit(
        train_data,
        validation_data=validation_data,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        callbacks=[*make_callbacks(config, validation_data is not None), *callbacks],
        verbose=config.verbose,
        shuffle=False,
    )


def _build_before_multiworker_fit(model, train_data):
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
    local_batch = next(iter(train_data))

    def build_from_local_batch(iterator=None, data_batch=None):
        with strategy.scope():
            model._symbolic_build(data_batch=local_batch)

    model._maybe_symbolic_build = build_from_local_batch
    # Keras then averages each step's logged metrics over the workers with
    # an all-reduce along axis 0, which fails for scalars: give them that axis.
    for step in ("train_step", "test_step"):
        setattr(model, step, _with_leading_axis(getattr(model, step)))


def _with_leading_axis(step_function):
    def step(data):
        return keras.tree.map_structure(lambda value: keras.ops.reshape(value, (1,)), step_function(data))

    return step


def train(build_model, train_data, config: TrainingConfig | None = None, validation_data=None, callbacks=(),
          steps_per_epoch=None) -> TrainingResult:
    """Builds a model under the right precision and strategy, and trains it.

    Args:
        build_model: a function of no arguments that returns a (compiled or
            not) Keras model, e.g. `build_cnn_classifier` or
            `functools.partial(build_multimodal_model, 10, image={...})`. It
            is called inside the precision and strategy scopes, so that
            the weights have the right dtype and live on every replica.
        train_data: a `tf.data.Dataset` of `(inputs, labels)` batches.
        config: the training configuration (default: `TrainingConfig()`).
        validation_data: optional validation dataset.
        callbacks: more Keras callbacks.
        steps_per_epoch: only for data of unknown cardinality.

    Returns:
        A `TrainingResult`.
    """
    config = config or TrainingConfig()
    if isinstance(build_model, keras.Model) or not callable(build_model):
        raise ValueError(
            f"`build_model` must be a function that returns a model (it is called under the precision "
            f"and strategy scopes), got {type(build_model).__name__}; use `fit` for a built model."
        )
    strategy = make_strategy(config.strategy)
    with _strategy_scope(strategy):
        model, precision = build_under_precision(build_model, config.precision, config.seed)
    with precision_scope(precision), _strategy_scope(strategy):
        started = time.perf_counter()
        history = fit(model, train_data, config, validation_data, callbacks, steps_per_epoch)
        seconds = time.perf_counter() - started
    return TrainingResult(
        model=model,
        history=history,
        precision=precision,
        jit_compile=bool(model.jit_compile),
        strategy=type(strategy).__name__ if strategy is not None else "none",
        replicas=strategy.num_replicas_in_sync if strategy is not None else 1,
        seconds=seconds,
    )
