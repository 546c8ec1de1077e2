"""The names users choose from, in one place that needs no TensorFlow.

The command-line parser reads these to answer `--help` at once, and the
library reads the same tuples to check its arguments: there is no copy to
keep in step.
"""

DATASETS = ("fashion_mnist", "japanese_vowels", "rt_snippets", "twemoji_categories")
DEFAULT_DATASET = "twemoji_categories"
# A run on the user's own files (`RunConfig(dataset="user", data={...})`, `train --data FILE`).
USER_DATASET = "user"
ON_BAD_RECORD = ("error", "skip")
TASKS = ("auto", "classification", "regression")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("default", "mirrored", "multiworker")
OPTIMIZERS = ("auto", "adam", "adamw")
ARCHITECTURES = ("default", "tiny")
FUSION_MODES = ("concat", "gated", "attention")
MODEL_KINDS = ("auto", "multimodal", "classifier")
TUNERS = ("random", "bayesian", "hyperband")
EXPORT_FORMATS = ("savedmodel", "tflite", "tflite-int8")
QUANTIZATION_MODES = ("int8", "int4", "float8")
