"""Fashion-MNIST from the Debian package `dataset-fashion-mnist`.

The Debian package installs the original IDX files (gzip, recompressed, so
TFDS' registered checksums do not match) under
`/usr/share/datasets/fashion-mnist/`. Two ways to read them, no download:

- The *official* TFDS `fashion_mnist` builder (same features, splits, version
  and info). Importing this module makes it answer its download request with
  those local files when they are present, so after `import multimodal_tf.data`
  a plain `tfds.load("fashion_mnist", data_dir=...)` prepares itself
  offline. Without them it downloads as usual, but first checks in a few
  seconds that the download host answers, and otherwise fails at once with
  the install command (TFDS alone retries for minutes).
  `$MULTIMODAL_TF_FASHION_MNIST_DIR` names another folder of the four files;
  :class:`LocalFashionMNIST` takes one as an argument.
- :func:`load_fashion_mnist_arrays` returns numpy arrays, as the document's
  §4.1 code (and the document-vs-us benchmark) uses them.
"""

from __future__ import annotations

import gzip
import os
import socket
import urllib.parse

import numpy as np
import tensorflow_datasets as tfds

DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist"
FOLDER_VARIABLE = "MULTIMODAL_TF_FASHION_MNIST_DIR"
NETWORK_CHECK_SECONDS = 5.0
PROXY_VARIABLES = (
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
)
INSTALL_COMMAND = "apt-get install dataset-fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
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
    shape = tuple(int.from_bytes(data[4 * (i + 1) : 4 * (i + 2)], "big") for i in range(rank))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"{path} is truncated or padded: {len(data)} bytes, expected {expected}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def load_fashion_mnist_arrays(split: str = "train", folder: str | None = None):
    """Loads one split of Fashion-MNIST from local IDX files.

    Args:
        split: `"train"` (60,000 images) or `"test"` (10,000 images).
        folder: the folder holding the four `.gz` files; None:
            `$MULTIMODAL_TF_FASHION_MNIST_DIR`, else the Debian package's folder.

    Returns:
        `(images, labels)`: uint8 `(n, 28, 28, 1)` and uint8 `(n,)`.

    Raises:
        FileNotFoundError: the files are missing; the message names the
            command that installs them.
        ValueError: unknown split, or a corrupt file.
    """
    if split not in _FILES:
        raise ValueError(f"`split` must be 'train' or 'test', got {split!r}.")
    folder = local_folder(folder)
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


class _LocalFilesDownloadManager:
    """Answers a builder's download request with same-named local files."""

    def __init__(self, download_manager, folder: str):
        self._download_manager = download_manager
        self._folder = folder

    def download_and_extract(self, urls):
        local = {
            key: os.path.join(self._folder, os.path.basename(url)) for key, url in urls.items()
        }
        return self._download_manager.extract(local)

    def __getattr__(self, name):
        return getattr(self._download_manager, name)


_OFFICIAL_BUILDER = tfds.image_classification.FashionMNIST
_official_split_generators = _OFFICIAL_BUILDER._split_generators


def local_folder(folder: str | None = None) -> str:
    """The folder of local IDX files: `folder`, else `$MULTIMODAL_TF_FASHION_MNIST_DIR`, else
    Debian's."""
    return folder or os.environ.get(FOLDER_VARIABLE) or DEBIAN_FOLDER


def download_host_answers(url: str, timeout: float = NETWORK_CHECK_SECONDS) -> bool:
    """Whether a TCP connection to `url`'s host opens within `timeout` seconds.

    Behind a proxy (`$https_proxy`, `$http_proxy`, `$all_proxy`) the direct
    connection says nothing, so the answer is True and the download decides.
    """
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return True
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _split_generators_local_first(builder, dl_manager):
    """The official builder's `_split_generators`, fed local files when present."""
    given = getattr(builder, "_local_folder", None)
    folder = local_folder(given)
    if given is not None and not local_files_present(folder):
        missing = [
            name
            for files in _FILES.values()
            for name in files[:2]
            if not os.path.isfile(os.path.join(folder, name))
        ]
        raise FileNotFoundError(f"Fashion-MNIST: `folder` {folder!r} lacks {', '.join(missing)}.")
    if local_files_present(folder):
        for images_name, labels_name, _ in _FILES.values():
            for filename in (images_name, labels_name):
                read_idx(
                    os.path.join(folder, filename), rank=3 if "images" in filename else 1
                )  # fail early, by name
        return _official_split_generators(builder, _LocalFilesDownloadManager(dl_manager, folder))
    if not download_host_answers(builder.URL):
        raise FileNotFoundError(
            f"Fashion-MNIST: no local IDX files in {folder} and the download host "
            f"{urllib.parse.urlsplit(builder.URL).hostname} does not answer. "
            "Install the files with "
            f"`{INSTALL_COMMAND}`, or set ${FOLDER_VARIABLE} to a folder holding "
            f"{', '.join(name for files in _FILES.values() for name in files[:2])}."
        )
    return _official_split_generators(builder, dl_manager)


def use_local_files_in_official_builder() -> None:
    """Makes TFDS' own `fashion_mnist` builder read local files when present (idempotent).

    The one change to TFDS this library makes: the official builder's
    `_split_generators` (TFDS 4.9) is wrapped, so its data, features,
    version and checksums of the prepared records stay TFDS' own.
    """
    _OFFICIAL_BUILDER._split_generators = _split_generators_local_first


class LocalFashionMNIST(_OFFICIAL_BUILDER, skip_registration=True):
    """The official TFDS `fashion_mnist` builder, fed the IDX files of `folder`.

    Args:
        folder: the folder with the four `.gz` files (default:
            `$MULTIMODAL_TF_FASHION_MNIST_DIR`, else Debian's).
        **kwargs: passed to the TFDS builder (`data_dir`, ...).
    """

    name = "fashion_mnist"

    def __init__(self, *, folder: str | None = None, **kwargs):
        self._local_folder = folder
        super().__init__(**kwargs)

    _split_generators = _split_generators_local_first


def local_files_present(folder: str | None = None) -> bool:
    """Whether the four Fashion-MNIST `.gz` files are in `folder` (default:
    :func:`local_folder`)."""
    folder = local_folder(folder)
    return all(
        os.path.isfile(os.path.join(folder, name))
        for images_name, labels_name, _ in _FILES.values()
        for name in (images_name, labels_name)
    )


def prepare_fashion_mnist(data_dir: str | None = None, folder: str | None = None):
    """Prepares TFDS `fashion_mnist` from local files, or online without them.

    Args:
        data_dir: the TFDS data folder (default: TFDS' own).
        folder: the folder with the IDX files (default: :func:`local_folder`).

    Returns:
        The prepared TFDS builder; `builder.as_dataset(split="train")` or
        `tfds.load("fashion_mnist", data_dir=data_dir)` read it.

    Raises:
        FileNotFoundError: no local files and no network; the message names
            the install command.
    """
    from multimodal_tf.data.tfds_splits import progress_bars_on_a_terminal_only

    builder = LocalFashionMNIST(folder=folder, data_dir=data_dir)
    with progress_bars_on_a_terminal_only():
        builder.download_and_prepare()
    return builder


use_local_files_in_official_builder()
