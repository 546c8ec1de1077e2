"""Loading saved models safely."""

from __future__ import annotations

import os
import zipfile

import keras

import multimodal_tf.models
import multimodal_tf.training  # noqa: F401  (registers the warmup learning-rate schedule)


def load_model(path, *, compile: bool = True):
    """Loads a `.keras` model written by this library, in Keras' safe mode.

    Our layers (and keras-hub's) are registered as serialisable, so no
    `custom_objects` are needed; plain `keras.saving.load_model(path)` works
    too once this module is imported. Safe mode refuses files that carry
    arbitrary Python code (Lambda layers).

    Args:
        path: a `.keras` file.
        compile: whether to restore the optimizer and loss.

    Returns:
        The `keras.Model`.

    Raises:
        ValueError: `path` does not exist, is not a readable `.keras` file,
            or carries code that safe mode refuses.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"`path` must name a .keras file, got {path!r}.")
    if not os.path.isfile(path):
        raise ValueError(f"`path` {path!r} does not exist.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"cannot load {path!r}: it is not a .keras file (a .keras file is a zip archive; this "
            "one is "
            "truncated, corrupt or something else)."
        )
    if keras.backend.backend() == "tensorflow":
        import multimodal_tf.models.bert_tokenizer  # noqa: F401  (registers the tokeniser layer)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"cannot load {path!r}: {type(error).__name__}: {error}") from None
