"""Fashion-MNIST from the Debian package `dataset-fashion-mnist`, as numpy arrays.

The Debian package installs the original IDX files (gzip) under
`/usr/share/datasets/fashion-mnist/`. This module reads them without any
download; the document's §4.1 code trains on exactly such arrays.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist"
INSTALL_COMMAND = "apt-get install dataset-fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}


def read_idx(path: str, rank: int) -> np.ndarray:
    """Reads a gzip IDX file of unsigned bytes (the MNIST format).

    Args:
        path: the `.gz` file.
        rank: 3 for images `(n, rows, cols)`, 1 for labels `(n,)`.

    Returns:
        A uint8 array.

    Raises:
        ValueError: the file is not an IDX file of that rank, or is truncated.
    """
    try:
        with gzip.open(path, "rb") as idx_file:
            data = idx_file.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable gzip IDX file: {error}") from None
    header_size = 4 * (rank + 1)
    if len(data) < header_size or int.from_bytes(data[:4], "big") != _IDX_MAGIC[rank]:
        raise ValueError(f"{path} is not an IDX file of rank {rank} (bad magic number).")
    shape = tuple(int.from_bytes(data[4 * (i + 1): 4 * (i + 2)], "big") for i in range(rank))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"{path} is truncated or padded: {len(data)} bytes, expected {expected}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def load_fashion_mnist_arrays(split: str = "train", folder: str | None = None):
    """Loads one split of Fashion-MNIST from local IDX files.

    Args:
        split: `"train"` (60,000 images) or `"test"` (10,000 images).
        folder: the folder holding the four `.gz` files; None: the Debian
            package's folder.

    Returns:
        `(images, labels)`: uint8 `(n, 28, 28, 1)` and uint8 `(n,)`.

    Raises:
        FileNotFoundError: the files are missing; the message names the
            command that installs them.
        ValueError: unknown split, or a corrupt file.
    """
    if split not in _FILES:
        raise ValueError(f"`split` must be 'train' or 'test', got {split!r}.")
    folder = folder or DEBIAN_FOLDER
    images_name, labels_name, count = _FILES[split]
    paths = [os.path.join(folder, images_name), os.path.join(folder, labels_name)]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST files not found: {', '.join(missing)}. Install them with "
            f"`{INSTALL_COMMAND}` (Debian) or pass `folder=`."
        )
    images, labels = read_idx(paths[0], rank=3), read_idx(paths[1], rank=1)
    if len(images) != count or len(labels) != count or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{folder} holds {len(images)} images of shape {images.shape[1:]} and {len(labels)} "
            f"labels for split {split!r}; expected {count} images of 28x28."
        )
    return images[..., None], labels
