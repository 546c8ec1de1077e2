"""Bad input: one line naming file, row and column; `on_bad_record="skip"` counts and lists."""

import re
import warnings

import pytest

from multimodal_tf.data import from_csv
from multimodal_tf.data.records import BadRecordError
from tests.data.user.helpers import animal_files, write_image

HEADER = "photo,caption,weight,species\n"


@pytest.fixture
def folder(tmp_path):
    animal_files(tmp_path, count=12)
    (tmp_path / "broken.png").write_text("this is not a picture")
    write_image(tmp_path / "ok.png")
    return tmp_path


def table(folder, *bad_lines, name="data.csv"):
    """12 good rows (4 per class) with a numeric column, then `bad_lines`."""
    lines = [
        f"photo{index}.{'png' if index % 2 else 'jpg'},caption {index},{index * 1.5},"
        f"{('cat', 'dog', 'bird')[index % 3]}\n"
        for index in range(12)
    ]
    path = folder / name
    path.write_bytes((HEADER + "".join(lines)).encode() + b"".join(bad_lines))
    return path


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            b"gone.png,x,1,cat\n",
            "row 12 (line 14), column 'photo': 'gone.png': the file does not exist.",
        ),
        (
            b"broken.png,x,1,cat\n",
            "row 12 (line 14), column 'photo': 'broken.png': not a readable image",
        ),
        (
            b"ok.png,x,heavy,cat\n",
            "row 12 (line 14), column 'weight': mixed types: 'heavy' in a numeric",
        ),
        (
            b"ok.png,caf\xe9,1,cat\n",
            "row 12 (line 14), column 'caption': the text is not valid UTF-8.",
        ),
        (b"ok.png,x,1,\n", "row 12 (line 14), column 'species': the label is missing."),
        (b",,,cat\n", "row 12 (line 14): every input column (photo, caption) is empty."),
    ],
)
def test_each_bad_row_is_named_by_file_row_and_column(folder, line, expected):
    path = table(folder, line)
    with pytest.raises(BadRecordError) as error:
        from_csv(path, label="species")
    assert one_line(error) == f"{path}: {expected}" or one_line(error).startswith(
        f"{path}: {expected}"
    )


def test_bad_rows_can_be_skipped_counted_and_listed(folder):
    path = table(folder, b"gone.png,x,1,cat\n", b"ok.png,x,heavy,dog\n", b"ok.png,x,2,bird\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = from_csv(path, label="species", on_bad_record="skip")
    assert [row for row, _reason in data.skipped] == [12, 13]
    assert "does not exist" in data.skipped[0][1] and "mixed types" in data.skipped[1][1]
    assert any("skipped 2 bad row(s)" in str(warning.message) for warning in caught)
    kept = sorted(row for ids in data.rows.values() for row in ids)
    assert kept == [*range(12), 14]


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (
            dict(label="kind"),
            r"data\.csv: has no column 'kind' \(`label=`\); its columns are "
            r"\['photo', 'caption', 'weight', 'species'\]",
        ),
        (
            dict(label="species", image_column="picture"),
            r"has no column 'picture' \(`image_column=`\)",
        ),
        (dict(label=None), "`label` must name the label column"),
        (dict(label="species", on_bad_record="ignore"), "`on_bad_record`"),
        (dict(label="species", image_size=(32,)), "`image_size` must be"),
    ],
)
def test_bad_arguments_are_one_line(folder, arguments, expected):
    with pytest.raises(ValueError, match=expected) as error:
        from_csv(table(folder), **arguments)
    one_line(error)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "the file is empty"),
        (HEADER.encode(), "has a header (photo, caption, weight, species) but no rows"),
    ],
)
def test_empty_and_header_only_files(folder, content, expected):
    (folder / "e.csv").write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(expected)):
        from_csv(folder / "e.csv", label="species")
    with pytest.raises(ValueError, match=r"nothing\.csv: the file does not exist"):
        from_csv(folder / "nothing.csv", label="species")


def test_a_class_with_one_row_cannot_be_stratified(folder):
    path = table(folder, b"ok.png,x,1,cow\n")
    with pytest.raises(ValueError, match=r"data\.csv: class 'cow' has 1 row \(row 12\)"):
        from_csv(path, label="species")


def test_a_truncated_image_is_caught_by_a_decoding_check(folder):
    data = (folder / "photo1.png").read_bytes()
    (folder / "cut.png").write_bytes(data[: len(data) // 2])
    path = table(folder, b"cut.png,x,1,cat\n")
    with pytest.raises(BadRecordError, match=r"row 12 \(line 14\), column 'photo': 'cut\.png'"):
        from_csv(path, label="species", check_files="decode")


def test_an_image_that_fails_while_streaming_is_marked_absent_with_a_warning(folder):
    data = (folder / "photo1.png").read_bytes()
    (folder / "photo1.png").write_bytes(data[: len(data) // 2])  # the header still reads
    path = table(folder)
    loaded = from_csv(path, label="species", validation_split=0, test_split=0, batch_size=12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features, _ = next(iter(loaded.train))
    assert sorted(features["image_present"].numpy().tolist()) == [0.0] + [1.0] * 11
    assert any(
        "while streaming: cannot read image file" in str(w.message)
        and "photo1.png" in str(w.message)
        for w in caught
    )


def test_an_image_deleted_after_the_checks_stops_the_stream_with_a_one_line_cause(folder):
    import tensorflow as tf

    from multimodal_tf.cli.errors import file_error_of

    loaded = from_csv(table(folder), label="species", validation_split=0, test_split=0)
    (folder / "photo1.png").unlink()
    with pytest.raises(tf.errors.NotFoundError) as caught:
        for _ in loaded.train:
            pass
    assert re.fullmatch(r"'.*photo1\.png': No such file or directory", file_error_of(caught.value))
