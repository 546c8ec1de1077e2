"""The TFDS builders on a few real records, and their errors on bad sources."""

import gzip
import io
import json
import tarfile
import zipfile

import numpy as np
import pytest
import tensorflow_datasets as tfds

from multimodal_tf.data.archives import read_tar_member, read_zip_member
from multimodal_tf.data.datasets import JapaneseVowels, RtSnippets, TwemojiCategories, prepare_fashion_mnist
from multimodal_tf.data.datasets.japanese_vowels import parse_ts
from multimodal_tf.data.datasets.twemoji_categories import CATEGORIES, emoji_text, is_test_emoji
from multimodal_tf.data.sources import source_path


def prepared(builder_class, data_dir):
    builder = builder_class(data_dir=data_dir)
    builder.download_and_prepare()
    return builder


def test_rt_snippets(data_dir):
    builder = prepared(RtSnippets, data_dir)
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == {
        "train": 8457, "test": 2111,
    }
    assert builder.info.citation and builder.info.homepage
    records = {int(r["id"]): r for r in tfds.as_numpy(tfds.load("rt_snippets", split="test", data_dir=data_dir))}
    assert all(snippet_id % 5 == 0 for snippet_id in records)
    # Line 5 of the file, rated +3.1 by the raters: a positive test sentence.
    assert records[5]["label"] == 1 and records[5]["rating"] > 0
    assert all((r["rating"] > 0) == (r["label"] == 1) and r["rating"] != 0 for r in records.values())
    assert all(r["text"] for r in records.values())


def test_japanese_vowels(data_dir):
    builder = prepared(JapaneseVowels, data_dir)
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == {
        "train": 270, "test": 370,
    }
    train = list(tfds.as_numpy(builder.as_dataset(split="train")))
    lengths = {record["sequence"].shape[0] for record in train}
    assert min(lengths) == 7 and max(lengths) <= 29 and len(lengths) > 5  # variable length
    assert all(record["sequence"].shape[1] == 12 for record in train)
    assert np.bincount([record["label"] for record in train]).tolist() == [30] * 9


def test_twemoji_categories_are_paired_and_held_out_by_emoji(data_dir):
    builder = prepared(TwemojiCategories, data_dir)
    splits = {name: list(tfds.as_numpy(builder.as_dataset(split=name))) for name in ("train", "test")}
    assert len(splits["train"]) > 2500 and len(splits["test"]) > 500
    emoji = {name: {record["emoji"] for record in records} for name, records in splits.items()}
    assert not emoji["train"] & emoji["test"]
    record = splits["test"][0]
    assert record["image"].shape == (64, 64, 3) and record["image"].dtype == np.uint8
    assert set(np.unique([r["label"] for r in splits["train"]])) == set(range(len(CATEGORIES)))
    flags = [r for r in splits["train"] if r["label"] == CATEGORIES.index("Flags")]
    assert all(b"flag" in r["text"] for r in flags[:20])
    assert "Twemoji" in builder.info.citation and "CC-BY 4.0" in builder.info.redistribution_info.license


def test_fashion_mnist_from_the_official_builder(data_dir):
    builder = prepare_fashion_mnist(data_dir)
    assert type(builder).__mro__[1] is tfds.image_classification.FashionMNIST
    assert builder.info.splits["train"].num_examples == 60000
    images, labels = next(iter(tfds.as_numpy(tfds.load(
        "fashion_mnist", split="test", data_dir=data_dir, as_supervised=True, batch_size=10000
    ))))
    assert images.shape == (10000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)


def test_emoji_text_and_the_hold_out_rule():
    entry = {"name": "FATHER CHRISTMAS", "short_names": ["santa"]}
    assert emoji_text(entry) == "father christmas (santa)"
    assert emoji_text(entry, "1F3FB-1F3FF") == "father christmas (santa), light and dark skin tone"
    assert is_test_emoji("1F385") == is_test_emoji("1F385")  # deterministic


def test_missing_sources_name_the_package_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTIMODAL_TF_SOURCES", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="vaderSentiment 3.3.2.*multimodal-tf fetch rt_snippets"):
        source_path("rt_snippets")
    with pytest.raises(FileNotFoundError, match="emoji-datasource-twitter.*npm pack"):
        TwemojiCategories(data_dir=str(tmp_path / "tfds")).download_and_prepare()


def tar_bytes(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("bad_name", ["../evil.txt", "/etc/passwd", "a/../../b"])
def test_archives_with_escaping_paths_are_refused(bad_name, tmp_path):
    with pytest.raises(ValueError, match="Refusing archive"):
        read_tar_member(tar_bytes({"ok.txt": b"1", bad_name: b"2"}), "ok.txt")
    path = tmp_path / "bad.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ok.txt", "1")
        archive.writestr(bad_name, "2")
    with pytest.raises(ValueError, match="Refusing archive"):
        read_zip_member(path, "ok.txt")


def test_truncated_archives_raise_a_clear_error(tmp_path):
    data = tar_bytes({"a.txt": b"x" * 100000})
    path = tmp_path / "truncated.tar.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_tar_member(str(path), "a.txt")
    with pytest.raises(ValueError, match="has no member"):
        read_tar_member(data, "b.txt")
    (tmp_path / "x.whl").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_zip_member(tmp_path / "x.whl", "a")


def test_malformed_ts_cases_are_named_by_line():
    header = "@problemName x\n@univariate false\n@classLabel true 1 2\n@data\n"
    sequences, labels = parse_ts(header + "1,2,3:4,5,6:1\n0.5,1:2,3:2\n")
    assert [s.shape for s in sequences] == [(3, 2), (2, 2)] and labels == ["1", "2"]
    with pytest.raises(ValueError, match="line 5 is malformed: dimensions of different lengths"):
        parse_ts(header + "1,2,3:4,5:1\n")
    with pytest.raises(ValueError, match="line 5 is malformed"):
        parse_ts(header + "1,?,3:4,5,6:1\n")
    with pytest.raises(ValueError, match="no @data"):
        parse_ts("@problemName x\n")


def test_fashion_mnist_without_local_files_or_network_names_the_install_command(tmp_path, monkeypatch):
    class OfflineBuilder:
        def download_and_prepare(self):
            raise ConnectionError("no route to host")

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: OfflineBuilder())
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        prepare_fashion_mnist(str(tmp_path / "tfds"), folder=str(tmp_path))
