"""The TFDS builders on a few real records, and their errors on bad sources."""

import dataclasses
import io
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pytest
import tensorflow_datasets as tfds

from multimodal_tf.data.archives import read_tar_member, read_zip_member
from multimodal_tf.data.datasets import (
    JapaneseVowels,
    RtSnippets,
    TwemojiCategories,
    fashion_mnist,
    japanese_vowels,
    prepare_fashion_mnist,
)
from multimodal_tf.data.datasets.emoji_artwork import decode_artwork, read_openmoji, read_package
from multimodal_tf.data.datasets.fashion_mnist import (
    FOLDER_VARIABLE,
    local_files_present,
)
from multimodal_tf.data.datasets.japanese_vowels import parse_ts
from multimodal_tf.data.datasets.twemoji_categories import (
    CATEGORIES,
    TRAINING_ARTISTS,
    emoji_split,
    emoji_text,
    is_test_emoji,
)
from multimodal_tf.data.sources import SOURCES, source_path


def prepared(builder_class, data_dir):
    builder = builder_class(data_dir=data_dir)
    builder.download_and_prepare()
    return builder


def test_rt_snippets(data_dir):
    builder = prepared(RtSnippets, data_dir)
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == {
        "train": 8457,
        "test": 2111,
    }
    assert builder.info.citation and builder.info.homepage
    records = {
        int(r["id"]): r
        for r in tfds.as_numpy(tfds.load("rt_snippets", split="test", data_dir=data_dir))
    }
    assert all(snippet_id % 5 == 0 for snippet_id in records)
    # Line 5 of the file, rated +3.1 by the raters: a positive test sentence.
    assert records[5]["label"] == 1 and records[5]["rating"] > 0
    assert all(
        (r["rating"] > 0) == (r["label"] == 1) and r["rating"] != 0 for r in records.values()
    )
    assert all(r["text"] for r in records.values())


def test_japanese_vowels(data_dir):
    builder = prepared(JapaneseVowels, data_dir)
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == {
        "train": 270,
        "test": 370,
    }
    train = list(tfds.as_numpy(builder.as_dataset(split="train")))
    lengths = {record["sequence"].shape[0] for record in train}
    assert min(lengths) == 7 and max(lengths) <= 29 and len(lengths) > 5  # variable length
    assert all(record["sequence"].shape[1] == 12 for record in train)
    assert np.bincount([record["label"] for record in train]).tolist() == [30] * 9


def test_twemoji_categories_are_paired_and_held_out_by_emoji(data_dir):
    builder = prepared(TwemojiCategories, data_dir)
    assert str(builder.info.version) == "3.0.0"
    splits = {
        name: list(tfds.as_numpy(builder.as_dataset(split=name)))
        for name in ("train", "validation", "test", "test_facebook")
    }
    sizes = {name: len(records) for name, records in splits.items()}
    assert sizes == {"train": 3 * 2552, "validation": 3 * 524, "test": 705, "test_facebook": 670}
    for name, artists in {
        **dict.fromkeys(("train", "validation"), TRAINING_ARTISTS),
        "test": ("twitter",),
        "test_facebook": ("facebook",),
    }.items():
        drawn = [record["artist"].decode() for record in splits[name]]
        assert sorted(set(drawn)) == sorted(artists), name
        if name in ("train", "validation"):  # each emoji in every training artist's style
            assert all(drawn.count(artist) == len(drawn) // 3 for artist in artists)
    emoji = {name: {record["emoji"] for record in records} for name, records in splits.items()}
    for first, second in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert not emoji[first] & emoji[second], (first, second)
    assert all(
        emoji_split(code.decode()) == name
        for name in emoji
        for code in emoji[name]
        if name != "test_facebook"
    )
    record = splits["test"][0]
    assert record["image"].shape == (64, 64, 3) and record["image"].dtype == np.uint8
    for name in ("train", "validation"):
        assert set(np.unique([r["label"] for r in splits[name]])) == set(range(len(CATEGORIES)))
    flags = [r for r in splits["train"] if r["label"] == CATEGORIES.index("Flags")]
    assert all(b"flag" in r["text"] for r in flags[:20])
    assert (
        all(name in builder.info.citation for name in ("Twemoji", "Noto", "OpenMoji"))
        and "CC-BY 4.0" in builder.info.redistribution_info.license
        and "CC BY-SA 4.0" in builder.info.redistribution_info.license
    )
    # The other artwork: the same test emoji, texts and labels, drawn differently.
    twitter = {(r["emoji"], r["text"]): r for r in splits["test"]}
    assert emoji["test_facebook"] <= emoji["test"]
    differing = 0
    for other in splits["test_facebook"]:
        same = twitter[(other["emoji"], other["text"])]
        assert other["label"] == same["label"]
        differing += not np.array_equal(other["image"], same["image"])
    assert differing == len(splits["test_facebook"])


@pytest.mark.slow
@pytest.mark.skipif(
    not local_files_present(), reason="needs the Debian package dataset-fashion-mnist"
)
def test_fashion_mnist_from_the_official_builder_with_plain_tfds_load(data_dir):
    # No prepare step: the official builder reads the Debian files by itself.
    images, labels = next(
        iter(
            tfds.as_numpy(
                tfds.load(
                    "fashion_mnist",
                    split="test",
                    data_dir=data_dir,
                    as_supervised=True,
                    batch_size=10000,
                )
            )
        )
    )
    assert images.shape == (10000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    builder = prepare_fashion_mnist(data_dir)  # prepared already: reused
    assert isinstance(builder, tfds.image_classification.FashionMNIST)
    assert builder.info.splits["train"].num_examples == 60000
    assert builder.info.version == tfds.builder("fashion_mnist", data_dir=data_dir).info.version


def test_importing_the_datasets_registers_every_one_with_tfds(tmp_path):
    script = (
        "import tensorflow_datasets as tfds\n"
        "from multimodal_tf.data.datasets import DATASETS\n"
        f"builders = [tfds.builder(name, data_dir={str(tmp_path)!r}) for name in DATASETS]\n"
        "print([type(builder).__name__ for builder in builders])\n"
        "print(type(builders[0])._split_generators.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names, split_generators = result.stdout.strip().splitlines()[-2:]
    assert names == "['FashionMNIST', 'JapaneseVowels', 'RtSnippets', 'TwemojiCategories']"
    assert split_generators == "_split_generators_local_first"


def test_plain_tfds_load_fetches_a_missing_source_itself(tmp_path, monkeypatch):
    fetched = tmp_path / "sources"
    for name in ("japanese_vowels", "rt_snippets"):
        # The registry's stand-in: a copy of the already fetched file.
        copy = (
            f'{{python}} -c "import shutil; shutil.copy({source_path(name)!r}, {str(fetched)!r})"'
        )
        monkeypatch.setitem(SOURCES, name, dataclasses.replace(SOURCES[name], command=copy))
    monkeypatch.setenv("MULTIMODAL_TF_SOURCES", str(fetched))
    monkeypatch.setattr(japanese_vowels, "installed_aeon_file", lambda member: None)
    assert (
        len(list(tfds.load("japanese_vowels", split="test", data_dir=str(tmp_path / "tfds"))))
        == 370
    )
    assert (
        len(list(tfds.load("rt_snippets", split="test", data_dir=str(tmp_path / "tfds")))) == 2111
    )
    assert sorted(path.name for path in fetched.iterdir()) == sorted(
        SOURCES[name].filename for name in ("japanese_vowels", "rt_snippets")
    )


def test_a_failed_fetch_names_the_package_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTIMODAL_TF_SOURCES", str(tmp_path))
    failing = "{python} -c \"import sys; print('registry unreachable'); sys.exit(3)\""
    monkeypatch.setitem(SOURCES, "emoji", dataclasses.replace(SOURCES["emoji"], command=failing))
    with pytest.raises(
        FileNotFoundError,
        match=r"(?s)emoji-datasource-twitter.*registry unreachable.*multimodal-tf fetch emoji",
    ):
        tfds.load("twemoji_categories", split="test", data_dir=str(tmp_path / "tfds"))


def test_emoji_text_and_the_hold_out_rule():
    entry = {"name": "FATHER CHRISTMAS", "short_names": ["santa"]}
    assert emoji_text(entry) == "father christmas (santa)"
    assert emoji_text(entry, "1F3FB-1F3FF") == "father christmas (santa), light and dark skin tone"
    assert is_test_emoji("1F385") == is_test_emoji("1F385")  # deterministic
    codes = [f"{number:X}" for number in range(0x1F300, 0x1F300 + 2000)]
    shares = {
        name: [emoji_split(code) for code in codes].count(name) / 2000
        for name in ("test", "validation")
    }
    assert 0.17 < shares["test"] < 0.23 and 0.12 < shares["validation"] < 0.18
    assert all(is_test_emoji(code) == (emoji_split(code) == "test") for code in codes)


def test_the_other_artwork_is_read_from_its_own_package(tmp_path):
    with pytest.raises(ValueError, match=r"`other_sources` names \['nope'\]"):
        TwemojiCategories(data_dir=str(tmp_path), other_sources={"nope": "x.tgz"})
    package = tmp_path / "emoji-datasource-facebook-16.0.0.tgz"
    with tarfile.open(package, "w:gz") as archive:
        data = b"[]"
        member = tarfile.TarInfo("package/emoji.json")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    with pytest.raises(ValueError, match="no package/img/facebook/64/ images"):
        read_package(str(package), "facebook")


def write_tgz(path, members: dict):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return str(path)


def test_openmoji_svgs_are_matched_with_or_without_fe0f_and_rendered(tmp_path):
    square = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72">'
        b'<rect x="0" y="0" width="36" height="72" fill="#ff0000"/></svg>'
    )
    package = write_tgz(
        tmp_path / "openmoji-17.0.0.tgz",
        {"package/color/svg/1F385.svg": square, "package/color/svg/2764.svg": square},
    )
    entries = [
        {"image": "1f385.png", "skin_variations": {"1F3FB": {"image": "1f385-1f3fb.png"}}},
        {"image": "2764-fe0f.png"},  # OpenMoji names it without the variation selector
    ]
    drawn = read_openmoji(package, entries)
    assert sorted(drawn) == ["1f385.png", "2764-fe0f.png"]  # no skin-tone drawing: left out
    image = decode_artwork(drawn["1f385.png"])
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[32, 10], [255, 0, 0])  # the red left half
    np.testing.assert_array_equal(image[32, 50], [255, 255, 255])  # transparent: over white
    with pytest.raises(ValueError, match="no package/color/svg/"):
        read_openmoji(write_tgz(tmp_path / "empty.tgz", {"package/x": b"1"}), entries)


def test_missing_sources_name_the_package_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTIMODAL_TF_SOURCES", str(tmp_path))
    with pytest.raises(
        FileNotFoundError, match=r"vaderSentiment 3\.3\.2.*multimodal-tf fetch rt_snippets"
    ):
        source_path("rt_snippets")


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


def test_fashion_mnist_without_local_files_or_network_fails_fast_naming_the_install_command(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    monkeypatch.setattr(fashion_mnist, "download_host_answers", lambda url: False)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        tfds.load("fashion_mnist", split="test", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(FileNotFoundError, match=r"`folder` .* lacks train-images-idx3-ubyte\.gz"):
        prepare_fashion_mnist(
            str(tmp_path / "tfds"), folder=str(tmp_path)
        )  # a folder given is used or refused


def test_fashion_mnist_with_a_network_but_no_local_files_takes_the_official_download(
    tmp_path, monkeypatch
):
    seen = []

    def official(builder, dl_manager):
        seen.append(dl_manager)
        raise ConnectionAbortedError("download attempted")

    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    monkeypatch.setattr(fashion_mnist, "download_host_answers", lambda url: True)
    monkeypatch.setattr(fashion_mnist, "_official_split_generators", official)
    with pytest.raises(ConnectionAbortedError):
        tfds.load("fashion_mnist", split="test", data_dir=str(tmp_path / "tfds"))
    assert seen and not isinstance(seen[0], fashion_mnist._LocalFilesDownloadManager)


def test_download_host_check_is_quick_and_defers_to_a_proxy(monkeypatch):
    for name in fashion_mnist.PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert fashion_mnist.download_host_answers("http://host.invalid/", timeout=1.0) is False
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    assert fashion_mnist.download_host_answers("http://host.invalid/", timeout=1.0) is True
