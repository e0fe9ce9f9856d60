"""Reading a tabular data file: CSV (optionally gzip-compressed) or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataFileError

#: File endings read by :func:`read_table`.
FORMATS = (".csv", ".csv.gz", ".parquet")


def file_format(path: str | Path) -> str:
    """``csv``, ``csv.gz`` or ``parquet`` from the file name, else :class:`DataFileError`."""
    name = Path(path).name.lower()
    for suffix in (".parquet", ".csv.gz", ".csv"):
        if name.endswith(suffix):
            return suffix[1:]
    raise DataFileError(path, f"unknown format; name it *{', *'.join(FORMATS)}")


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a raw CSV (``.csv``, ``.csv.gz``) or Parquet file.

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
        return pd.read_csv(path, usecols=columns)
    except pd.errors.EmptyDataError:
        raise DataFileError(path, "the file is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        raise DataFileError(path, f"cannot be parsed: {exc}") from None
