"""A user's table as people write it: CSV (BOM, `;` or tab), TSV, Parquet, JSON Lines, a DataFrame.

Every reader gives a :class:`Table`: a pandas DataFrame of plain cells
(None where a cell is empty), the file's name for messages, and the rows
that could not be read (a text cell that is not UTF-8, a line with the
wrong number of fields), each named by file, row and column.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import warnings

import pandas as pd

TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson")
DELIMITERS = (",", ";", "\t")


@dataclasses.dataclass
class Table:
    """A table of cells and where it came from.

    Attributes:
        frame: the cells; empty cells are None.
        source: the file's path, or `"<DataFrame>"`.
        line_offset: the file line of row 0 (2 for CSV: line 1 is the
            header), or None where rows have no lines (Parquet, DataFrame).
        bad_rows: `{row: reason}` for rows that could not be read.
        folder: the folder relative paths in cells are read from.
    """

    frame: pd.DataFrame
    source: str
    line_offset: int | None = None
    bad_rows: dict = dataclasses.field(default_factory=dict)
    folder: str = "."

    def where(self, row: int, column: str | None = None) -> str:
        """`"data.csv: row 3 (line 5), column 'image'"`, as every message names a cell."""
        text = f"{self.source}: row {row}"
        if self.line_offset is not None:
            text += f" (line {row + self.line_offset})"
        if column is not None:
            text += f", column {column!r}"
        return text

    def match_column(self, name: str, argument: str) -> str:
        """The table's column called `name`, matched case-insensitively with a notice.

        Raises:
            ValueError: no column has that name; the message lists the real ones.
        """
        columns = [str(column) for column in self.frame.columns]
        if name in columns:
            return name
        folded = [column for column in columns if column.strip().casefold() == name.casefold()]
        if len(folded) == 1:
            warnings.warn(
                f"{self.source}: `{argument}={name!r}` matched column {folded[0]!r} "
                "(case-insensitive).",
                stacklevel=3,
            )
            return folded[0]
        raise ValueError(
            f"{self.source}: has no column {name!r} (`{argument}=`); its columns are {columns}."
        )


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with object cells, None for every empty one, and string column names."""
    columns = {}
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position].tolist()
        cells = [None if _missing(value) else value for value in values]
        columns[str(column)] = pd.Series(cells, dtype=object)
    return pd.DataFrame(columns)


def sniff_delimiter(header: str, path: str = "") -> str:
    """The one of `,` `;` tab that splits the header line most often (tab for `.tsv`)."""
    if path.lower().endswith(".tsv"):
        return "\t"
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_csv(path: str, delimiter: str | None = None) -> Table:
    """A CSV or TSV file: `utf-8-sig` (a BOM is ignored), the delimiter sniffed or given."""
    with open(path, "rb") as file:
        data = file.read()
    text = data.decode("utf-8", errors="surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; expected a header line and rows.")
    first_line = text.splitlines()[0]
    if delimiter is None:
        delimiter = sniff_delimiter(first_line, path)
    elif delimiter not in DELIMITERS:
        raise ValueError(f"`delimiter` must be one of {list(DELIMITERS)}, got {delimiter!r}.")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [name.strip() for name in lines[0]]
    body = [line for line in lines[1:] if any(cell.strip() for cell in line)]
    if not body:
        raise ValueError(
            f"{path}: has a header ({', '.join(header)}) but no rows; expected at least one row."
        )
    table = Table(pd.DataFrame(), path, 2, folder=os.path.dirname(os.path.abspath(path)))
    records = []
    for row, line in enumerate(body):
        if len(line) != len(header):
            table.bad_rows[row] = (
                f"{table.where(row)}: {len(line)} fields, the header has {len(header)}."
            )
        line = (line + [""] * len(header))[: len(header)]
        for column, cell in zip(header, line):
            try:
                cell.encode("utf-8")
            except UnicodeEncodeError:
                table.bad_rows.setdefault(
                    row, f"{table.where(row, column)}: the text is not valid UTF-8."
                )
        records.append(line)
    table.frame = _plain(pd.DataFrame(records, columns=header, dtype=object))
    return table


def read_jsonl(path: str) -> Table:
    """A JSON Lines file: one JSON object per line."""
    table = Table(pd.DataFrame(), path, 1, folder=os.path.dirname(os.path.abspath(path)))
    records = []
    with open(path, "rb") as file:
        lines = [line for line in file.read().splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: the file is empty; expected one JSON object per line.")
    for row, line in enumerate(lines):
        try:
            record = json.loads(line.decode("utf-8-sig"))
            if not isinstance(record, dict):
                raise ValueError(f"a {type(record).__name__}, expected a JSON object")
        except UnicodeDecodeError:
            table.bad_rows[row] = f"{table.where(row)}: the text is not valid UTF-8."
            record = {}
        except ValueError as error:
            table.bad_rows[row] = f"{table.where(row)}: not a JSON object ({error})."
            record = {}
        records.append(record)
    table.frame = _plain(pd.DataFrame.from_records(records))
    return table


def read_table(source, delimiter: str | None = None) -> Table:
    """Reads a `.csv`/`.tsv`/`.txt`, `.parquet` or `.jsonl` file, or takes a pandas DataFrame.

    Args:
        source: a file path or a `pandas.DataFrame`.
        delimiter: the CSV delimiter (`,` `;` or tab); None sniffs it.

    Returns:
        A :class:`Table`.

    Raises:
        ValueError: the file does not exist, is empty, has only a header,
            or has an unknown extension.
    """
    if isinstance(source, pd.DataFrame):
        if source.empty:
            raise ValueError("<DataFrame>: the DataFrame has no rows.")
        return Table(_plain(source.copy()), "<DataFrame>", None)
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: the file does not exist.")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: the file is empty; expected a header line and rows.")
    extension = os.path.splitext(path)[1].lower()
    if extension in (".csv", ".tsv", ".txt"):
        return read_csv(path, delimiter)
    if extension in (".jsonl", ".ndjson"):
        return read_jsonl(path)
    if extension == ".parquet":
        frame = pd.read_parquet(path)
        if frame.empty:
            raise ValueError(
                f"{path}: has columns ({', '.join(map(str, frame.columns))}) but no rows."
            )
        return Table(_plain(frame), path, None, folder=os.path.dirname(os.path.abspath(path)))
    raise ValueError(
        f"{path}: unknown extension {extension!r}; expected one of {TABLE_EXTENSIONS}."
    )
