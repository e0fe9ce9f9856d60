"""Reading a tabular data file: CSV (optionally gzip-compressed) or Parquet.

A CSV's delimiter is sniffed from its first lines (:func:`sniff_delimiter`: comma,
semicolon, tab or pipe), so a file exported by a spreadsheet in a comma-decimal locale or
as tab-separated text is read as its author wrote it, here and in the pipeline alike.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pandas as pd

from ..errors import DataFileError

#: File endings read by :func:`read_table`.
FORMATS = (".csv", ".csv.gz", ".parquet")
#: The delimiters :func:`sniff_delimiter` chooses from, the usual one first.
DELIMITERS = (",", ";", "\t", "|")
#: How much of a file the sniffer reads.
SNIFF_BYTES = 64 * 1024
#: A delimiter's name, for a person.
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def file_format(path: str | Path) -> str:
    """``csv``, ``csv.gz`` or ``parquet`` from the file name, else :class:`DataFileError`."""
    name = Path(path).name.lower()
    for suffix in (".parquet", ".csv.gz", ".csv"):
        if name.endswith(suffix):
            return suffix[1:]
    hint = ""
    if name.endswith((".tsv", ".tab", ".txt", ".tsv.gz", ".txt.gz")):
        hint = (" (a CSV's delimiter is sniffed: comma, semicolon, tab or pipe; name a "
                "delimited text file *.csv or *.csv.gz and it is read as it is)")
    raise DataFileError(path, f"unknown format; name it *{', *'.join(FORMATS)}{hint}")


def _head(path: Path) -> str:
    opener = gzip.open if file_format(path) == "csv.gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise DataFileError(path, f"cannot be parsed: {exc}") from None
    return raw.decode("utf-8", errors="replace")


def delimiter_of(text: str) -> str:
    """The delimiter of CSV ``text`` (its first lines): among :data:`DELIMITERS`, the one
    that splits every complete line into the same number of fields, the most fields first;
    a comma when none does (a one-column file)."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        if len(rows) > 1 and not text.endswith("\n"):
            rows = rows[:-1]  # the last line may be cut by the sniffer's limit
        rows = [r for r in rows if r]
        widths = {len(r) for r in rows}
        if len(widths) == 1 and (fields := widths.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def sniff_delimiter(path: str | Path) -> str:
    """The delimiter of the CSV file at ``path`` (:func:`delimiter_of` its first 64 KiB)."""
    return delimiter_of(_head(Path(path)))


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a raw CSV (``.csv``, ``.csv.gz``, its delimiter sniffed) or Parquet file.

    Raises :class:`DataFileError` naming the file when it is missing, empty or cannot be
    parsed; its content is checked against the declared columns by
    :func:`nbprod.data.validation.validate`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file; check the raw_data parameter in env.yaml")
    kind = file_format(path)
    try:
        if kind == "parquet":
            return pd.read_parquet(path, columns=columns)
        return pd.read_csv(path, usecols=columns, sep=sniff_delimiter(path))
    except pd.errors.EmptyDataError:
        raise DataFileError(path, "the file is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        raise DataFileError(path, f"cannot be parsed: {exc}") from None
