"""Tables as people write them: BOM, ';' and tab, TSV, Parquet, JSON Lines, DataFrames."""

import json
import warnings

import pandas as pd
import pytest

from multimodal_tf.data.user.tables import read_table, sniff_delimiter
from tests.data.user.helpers import write_rows

HEADER = ["image", "Text", "label"]
ROWS = [["a.png", "hello there", "cat"], ["", "no image", "dog"], ["b.png", "", "cat"]]


def test_a_bom_is_ignored(tmp_path):
    table = read_table(write_rows(tmp_path / "excel.csv", HEADER, ROWS, bom=True))
    assert list(table.frame.columns) == HEADER
    assert table.frame.at[0, "image"] == "a.png"
    assert table.frame.at[1, "image"] is None  # an empty cell
    assert table.frame.at[2, "Text"] is None


@pytest.mark.parametrize(
    "delimiter, name", [(";", "semi.csv"), ("\t", "tabs.csv"), ("\t", "t.tsv")]
)
def test_semicolons_and_tabs_are_sniffed(tmp_path, delimiter, name):
    rows = [["a.png", "hello, there", "cat"], ["b.png", "x", "dog"]]
    table = read_table(write_rows(tmp_path / name, HEADER, rows, delimiter=delimiter))
    assert list(table.frame.columns) == HEADER
    assert table.frame.at[0, "Text"] == "hello, there"


def test_a_given_delimiter_wins(tmp_path):
    path = write_rows(tmp_path / "d.csv", ["a;b", "c"], [["1;2", "3"]], delimiter=",")
    assert list(read_table(path, delimiter=",").frame.columns) == ["a;b", "c"]
    with pytest.raises(ValueError, match="`delimiter`"):
        read_table(path, delimiter="|")
    assert sniff_delimiter("a,b;c;d") == ";"


def test_columns_match_case_insensitively_with_a_notice(tmp_path):
    table = read_table(write_rows(tmp_path / "c.csv", HEADER, ROWS))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert table.match_column("text", "text_column") == "Text"
    assert "matched column 'Text' (case-insensitive)" in str(caught[0].message)
    with pytest.raises(ValueError, match=r"c\.csv: has no column 'caption' \(`text_column=`\)"):
        table.match_column("caption", "text_column")


def test_invalid_utf8_is_a_bad_row_named_by_row_and_column(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"image,text,label\na.png,fine,cat\nb.png,caf\xe9 \xff,dog\n")
    table = read_table(path)
    assert list(table.bad_rows) == [1]
    assert table.bad_rows[1] == (
        f"{path}: row 1 (line 3), column 'text': the text is not valid UTF-8."
    )


def test_a_row_with_the_wrong_number_of_fields_is_bad(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("image,text,label\na.png,fine,cat\nb.png,dog\n")
    assert "2 fields, the header has 3" in read_table(path).bad_rows[1]


def test_parquet_jsonl_and_dataframes(tmp_path):
    frame = pd.DataFrame({"text": ["a", None, "c"], "score": [1.5, 2.0, float("nan")]})
    frame.to_parquet(tmp_path / "t.parquet")
    parquet = read_table(tmp_path / "t.parquet")
    assert parquet.frame.at[1, "text"] is None and parquet.frame.at[2, "score"] is None
    lines = [json.dumps({"text": "a", "label": 1}), json.dumps({"text": "b", "label": 0}), "[1]"]
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    jsonl = read_table(tmp_path / "t.jsonl")
    assert jsonl.frame.at[1, "label"] == 0
    assert "row 2 (line 3): not a JSON object" in jsonl.bad_rows[2]
    table = read_table(frame)
    assert (
        table.source == "<DataFrame>"
        and table.where(2, "score") == "<DataFrame>: row 2, column 'score'"
    )


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("image,text\n", r"has a header \(image, text\) but no rows"),
    ],
)
def test_empty_and_header_only_files(tmp_path, content, match):
    (tmp_path / "e.csv").write_text(content)
    with pytest.raises(ValueError, match=match):
        read_table(tmp_path / "e.csv")


def test_missing_files_and_unknown_extensions(tmp_path):
    with pytest.raises(ValueError, match=r"gone\.csv: the file does not exist"):
        read_table(tmp_path / "gone.csv")
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"unknown extension '\.xlsx'"):
        read_table(tmp_path / "data.xlsx")
    with pytest.raises(ValueError, match="has no rows"):
        read_table(pd.DataFrame({"a": []}))
