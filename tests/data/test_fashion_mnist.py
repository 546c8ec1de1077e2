import gzip

import numpy as np
import pytest

from multimodal_tf.data import load_fashion_mnist_arrays
from multimodal_tf.data.datasets.fashion_mnist import read_idx
from multimodal_tf.data.pipeline import image_dataset


def test_real_test_split_from_the_debian_package():
    images, labels = load_fashion_mnist_arrays("test")
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (10000,)
    # The official test split has exactly 1,000 images of each of the 10 classes.
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    assert labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert 0 < images.mean() < 255


def write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as idx_file:
        idx_file.write(header + array.astype(np.uint8).tobytes())


def test_reads_idx_files_it_did_not_write_itself(tmp_path):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", array, 0x803)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz", rank=3), array)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    array = np.zeros((2, 3, 4))
    write_idx(tmp_path / "labels.gz", np.zeros(5), 0x801)
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(tmp_path / "labels.gz", rank=3)
    with gzip.open(tmp_path / "short.gz", "wb") as idx_file:
        idx_file.write(
            (0x803).to_bytes(4, "big")
            + b"".join(d.to_bytes(4, "big") for d in array.shape)
            + b"\0" * 5
        )
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short.gz", rank=3)
    (tmp_path / "not.gz").write_bytes(b"plain text")
    with pytest.raises(ValueError, match="not a readable gzip"):
        read_idx(tmp_path / "not.gz", rank=1)


def test_missing_files_name_the_install_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist_arrays("train", folder=tmp_path)
    with pytest.raises(ValueError, match="`split`"):
        load_fashion_mnist_arrays("validation")


def test_image_pipeline_scales_batches_and_shuffles_reproducibly():
    images = np.arange(10 * 2 * 2, dtype=np.uint8).reshape(10, 2, 2, 1) * 6
    labels = np.arange(10)
    batches = list(image_dataset(images, labels, batch_size=4, shuffle=True, seed=1))
    assert [tuple(batch[0].shape) for batch in batches] == [
        (4, 2, 2, 1),
        (4, 2, 2, 1),
        (2, 2, 2, 1),
    ]
    seen = np.concatenate([batch[1].numpy() for batch in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    again = np.concatenate(
        [b[1].numpy() for b in image_dataset(images, labels, batch_size=4, shuffle=True, seed=1)]
    )
    np.testing.assert_array_equal(seen, again)
    first = batches[0]
    np.testing.assert_allclose(first[0].numpy(), images[first[1].numpy()] / 255.0, rtol=1e-6)
    # Ends in `prefetched`: no autotuning thread for Keras' per-epoch iterators to wait on.
    assert image_dataset(images, labels).options().autotune.enabled is False


@pytest.mark.parametrize(
    "images, labels, match",
    [
        (np.zeros((3, 28, 28), np.uint8), np.zeros(3), "`images` must have shape"),
        (np.zeros((3, 28, 28, 1), np.float32), np.zeros(3), "`images` must be uint8"),
        (np.zeros((3, 28, 28, 1), np.uint8), np.zeros(2), "`labels` has 2 rows"),
    ],
)
def test_image_pipeline_rejects_bad_arrays(images, labels, match):
    with pytest.raises(ValueError, match=match):
        image_dataset(images, labels)
