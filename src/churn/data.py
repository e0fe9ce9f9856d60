"""Reading, cleaning and sampling the raw Telco churn data: small pure functions."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from nbprod.errors import DataFileError

from .schema import TARGET

log = logging.getLogger(__name__)


def read_raw(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a raw CSV (optionally gzip-compressed) or Parquet file.

    Raises :class:`DataFileError` naming the file when it is missing, empty or
    cannot be parsed; the schema itself is checked by :func:`churn.schema.validate`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file; check the raw_data parameter in env.yaml")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path, columns=columns)
        return pd.read_csv(path, usecols=columns)
    except pd.errors.EmptyDataError:
        raise DataFileError(path, "the file is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        raise DataFileError(path, f"cannot be parsed: {exc}") from None


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Fill ``total_charges`` for brand-new customers.

    Customers with ``tenure == 0`` have not been billed yet, so the raw file leaves
    their ``total_charges`` blank. Their true total is 0.0: we fill exactly those
    rows and no others (validation has already rejected a blank for tenure > 0).
    """
    out = df.copy()
    new = out["total_charges"].isna() & (out["tenure"] == 0)
    out.loc[new, "total_charges"] = 0.0
    log.info("filled total_charges=0.0 for %d new customer(s) with tenure 0", int(new.sum()))
    return out


def stratified_sample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """Return ``n`` rows keeping the churn rate (all rows when ``n`` is None or too large)."""
    if n is None or n >= len(df):
        return df
    if n <= 0:
        raise ValueError(f"sample_rows must be positive or null, got {n}")
    frac = n / len(df)
    out = df.groupby(TARGET, group_keys=False).sample(frac=frac, random_state=seed)
    return out.sort_index()
