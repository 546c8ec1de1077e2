"""`csv_to_dataset` reads CSVs as people write them and resizes images (issues 29 and 30)."""

import numpy as np
import pytest

from multimodal_tf.data.pipeline import BadRecordError, csv_to_dataset
from tests.data.user.helpers import write_image, write_rows


def test_bom_semicolons_case_and_resizing(tmp_path):
    write_image(tmp_path / "small.png", size=20)
    write_image(tmp_path / "large.jpg", size=58)
    rows = [["small.png", "one", "1"], ["large.jpg", "two", "0"]]
    path = write_rows(tmp_path / "x.csv", ["Image", "text", "LABEL"], rows, delimiter=";", bom=True)
    with pytest.warns(UserWarning, match="case-insensitive"):
        dataset = csv_to_dataset(path, image_size=(16, 16), batch_size=2)
    features, labels = next(iter(dataset))
    assert features["image"].shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(features["image_present"], [1, 1])
    np.testing.assert_array_equal(labels, [1, 0])


def test_a_16_bit_image_is_not_clipped(tmp_path):
    from PIL import Image

    grey = (np.arange(16 * 16).reshape(16, 16) * 100).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "deep.png")
    path = write_rows(tmp_path / "d.csv", ["image", "label"], [["deep.png", "0"]])
    features, _ = next(iter(csv_to_dataset(path, text_column=None, channels=1)))
    np.testing.assert_allclose(
        features["image"][0, ..., 0], np.round(grey / 257) / 255, atol=1.01 / 255
    )


def test_invalid_utf8_text_is_a_bad_record(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\nfine,0\ncaf\xe9,1\n")
    with pytest.raises(BadRecordError, match="record 1, field 'text': bytes that are not UTF-8"):
        csv_to_dataset(path, image_column=None)


def test_a_header_only_file_names_its_columns(tmp_path):
    (tmp_path / "h.csv").write_text("image,text\n")
    with pytest.raises(ValueError, match=r"has a header \(image, text\) but no rows"):
        csv_to_dataset(tmp_path / "h.csv")
