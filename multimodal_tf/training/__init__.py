"""The training engine: precision, XLA, tf.distribute, callbacks, schedules.

Every model of this library trains through here: `multimodal-tf train`, the
notebooks and the keras-tuner hypermodels. One `TrainingConfig` says how;
`train(build_model, train_data, config)` builds the model under the chosen
dtype policy and distribution strategy, compiles it for the device, and fits
it with the callbacks users expect.

What "auto" means, and why (each rule cites its rows of `bench/results.jsonl`,
shown in `bench/RESULTS.md`):

- `precision="auto"`: `mixed_float16` on a CUDA GPU (Tensor Cores);
  `float32` on CPUs without native bfloat16 (there bfloat16 is emulated
  and slower) and on an Intel Xeon whose AMX is not exposed (its
  AVX512-BF16 kernels measured slower: `fast_bfloat16`); on AMX and on
  AMD EPYC's AVX512-BF16 `mixed_bfloat16`,
  except for models measured slower in it: recurrent models (see
  bench/results.jsonl#precision-lstm-bfloat16-amx-issue13 and
  #precision-lstm-bfloat16-xla-off-avx512bf16-2026-11-28). See `precision_for_model`;
  the model is built, checked and, where the rule says float32, rebuilt
  from the same seed. Under `mixed_float16` the optimizer is wrapped in a
  `LossScaleOptimizer`; the softmax and the loss stay in float32.
- `jit_compile="auto"`: XLA on accelerators (Keras' rule: unless a layer
  cannot be compiled, such as a cuDNN LSTM). On CPUs it depends on the
  model: XLA trains the stacked LSTM and the BERT classifier faster, but
  the CNN and the fusion model with its CNN slower, because XLA's CPU
  convolutions are slower than oneDNN's (the `precision-*` rows with
  `XLA on`, e.g. #precision-cnn-float32-xla-on-avx512bf16-2026-11-28). So
  on a CPU, auto means on unless the model has a convolution or computes
  in 16-bit floats (XLA's CPU backend has no oneDNN bfloat16 kernels:
  #precision-bert-bfloat16-xla-on-avx512bf16-2026-11-28). Off under
  `tf.distribute` (Keras' rule).
- `strategy`: `"default"` (one device), `"mirrored"` (all GPUs of this
  machine, or all logical CPUs when there is no GPU) or `"multiworker"`
  (several machines, described by the `TF_CONFIG` environment variable; see
  `docs/distributed.md`). The batch size of the data is the global batch:
  each of the N replicas gets 1/N of it, and gradients are averaged, so the
  same data and seed train the same weights on one device or on N.

| concern | module |
|---|---|
| `TrainingOptions`, `TrainingConfig`, `TrainingResult` | `config.py` |
| CPU flags, GPUs | `devices.py` |
| `"auto"` precision per machine and model | `precision.py` |
| tf.distribute strategies | `distribute.py` |
| Adam / AdamW, warmup schedule | `optimizers.py` (fused update: `../fused_adam.py`) |
| loss scaling, XLA, `compile_model` | `compiling.py` |
| backup, checkpoint, logs, early stopping, NaN stop | `callbacks.py` |
| `train`, `fit` | `engine.py` |

Example (datasets assumed; notebook 01 runs it)::

    from multimodal_tf import build_cnn_classifier
    from multimodal_tf.training import TrainingConfig, train
    config = TrainingConfig(epochs=10, output_dir="runs/cnn")
    result = train(build_cnn_classifier, train_data, config)
    result.model.evaluate(test_data)
"""

from multimodal_tf.models.dtypes import PRECISIONS
from multimodal_tf.training.callbacks import (
    BackupAndRestore,
    BestModelCheckpoint,
    NonFiniteLossError,
    ResumableEarlyStopping,
    StopOnNonFiniteLoss,
    make_callbacks,
)
from multimodal_tf.training.compiling import (
    SLOW_UNDER_XLA_ON_CPU,
    build_optimizer,
    compile_model,
    resolve_jit_compile,
)
from multimodal_tf.training.config import (
    BACKUP_FOLDER,
    CHECKPOINT_FILE,
    FEATURE_CACHE_FOLDER,
    LOG_FOLDER,
    NO_WEIGHT_DECAY,
    OPTIMIZERS,
    STRATEGIES,
    TrainingConfig,
    TrainingOptions,
    TrainingResult,
    training_config,
)
from multimodal_tf.training.devices import CPU_FLAGS_VARIABLE, cpu_flags, has_gpu
from multimodal_tf.training.distribute import (
    MULTIWORKER_HELP,
    check_tf_config,
    make_strategy,
    strategy_scope,
)
from multimodal_tf.training.engine import fit, steps_per_epoch_of, train
from multimodal_tf.training.optimizers import (
    WarmupLinearDecay,
    adamw_with_warmup,
    learning_rate_schedule,
    make_optimizer,
)
from multimodal_tf.training.precision import (
    NATIVE_BFLOAT16_FLAGS,
    best_precision,
    build_under_precision,
    fast_bfloat16,
    precision_for_model,
    precision_scope,
    resolve_precision,
)

__all__ = [
    "BACKUP_FOLDER",
    "CHECKPOINT_FILE",
    "CPU_FLAGS_VARIABLE",
    "FEATURE_CACHE_FOLDER",
    "LOG_FOLDER",
    "MULTIWORKER_HELP",
    "NATIVE_BFLOAT16_FLAGS",
    "NO_WEIGHT_DECAY",
    "OPTIMIZERS",
    "PRECISIONS",
    "SLOW_UNDER_XLA_ON_CPU",
    "STRATEGIES",
    "BackupAndRestore",
    "BestModelCheckpoint",
    "NonFiniteLossError",
    "ResumableEarlyStopping",
    "StopOnNonFiniteLoss",
    "TrainingConfig",
    "TrainingOptions",
    "TrainingResult",
    "WarmupLinearDecay",
    "adamw_with_warmup",
    "best_precision",
    "build_optimizer",
    "build_under_precision",
    "check_tf_config",
    "compile_model",
    "cpu_flags",
    "fast_bfloat16",
    "fit",
    "has_gpu",
    "learning_rate_schedule",
    "make_callbacks",
    "make_optimizer",
    "make_strategy",
    "precision_for_model",
    "precision_scope",
    "resolve_jit_compile",
    "resolve_precision",
    "steps_per_epoch_of",
    "strategy_scope",
    "train",
    "training_config",
]
