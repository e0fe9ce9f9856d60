"""A realistic synthetic Telco churn data set of any size, sampled from the real one.

Rows are drawn with replacement from the real (cleaned) customers, which keeps every
dependency between columns valid ("No internet service" only when
``internet_service == "No"``, "No phone service" only when ``phone_service == 0``, the
label with its features); then the numbers are perturbed consistently:

* ``tenure`` moves by a few months (clipped to the observed range),
* ``monthly_charges`` by a few percent,
* ``total_charges`` follows ``tenure * monthly_charges`` with the row's own ratio of
  billed total to ``tenure * monthly_charges`` (discounts, price changes), and is blank
  exactly when ``tenure`` is 0, as in the raw file,
* a small share of rows get a payment method drawn from its marginal distribution.

The output is written chunk by chunk (Parquet with pyarrow, or CSV), so 10M rows need
no more memory than one chunk. Seeded: the same ``seed`` and ``chunk_rows`` give the
same file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nbprod.errors import ConfigError

from .schema import COLUMNS

log = logging.getLogger(__name__)

TENURE_JITTER_MONTHS = 2.0
MONTHLY_JITTER = 0.03
PAYMENT_RESAMPLE_SHARE = 0.05
DEFAULT_CHUNK_ROWS = 250_000


def real_rows(path: str | Path) -> pd.DataFrame:
    """The real customers of the raw file at ``path``, validated and cleaned: the source."""
    from . import data, schema

    return data.clean(schema.validate(data.read_raw(path), source=Path(path).name))


def synthesize(source: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` synthetic rows drawn from ``source`` (a validated, cleaned frame) and perturbed."""
    if n <= 0:
        raise ConfigError(f"the number of rows must be positive, got {n}")
    if source.empty:
        raise ConfigError("cannot sample synthetic rows from an empty frame")
    rows = source.iloc[rng.integers(0, len(source), size=n)].reset_index(drop=True)
    out = rows[list(COLUMNS)].copy()

    tenure0 = rows["tenure"].to_numpy(dtype="float64")
    monthly0 = rows["monthly_charges"].to_numpy(dtype="float64")
    total0 = rows["total_charges"].to_numpy(dtype="float64")
    billed = tenure0 * monthly0
    ratio = np.where(billed > 0, np.nan_to_num(total0) / np.where(billed > 0, billed, 1.0), 1.0)

    t_hi = source["tenure"].max()
    tenure = np.rint(tenure0 + rng.normal(0.0, TENURE_JITTER_MONTHS, n)).clip(1, t_hi)
    # Brand-new customers stay new (their features and label belong to tenure 0), and
    # nobody else becomes new.
    tenure = np.where(tenure0 == 0, 0, tenure).astype("int64")
    m_lo, m_hi = source["monthly_charges"].min(), source["monthly_charges"].max()
    monthly = np.round(monthly0 * rng.lognormal(0.0, MONTHLY_JITTER, n), 2).clip(m_lo, m_hi)
    total = np.round(tenure * monthly * ratio, 2)
    out["tenure"] = tenure
    out["monthly_charges"] = monthly
    out["total_charges"] = np.where(tenure == 0, np.nan, total)

    payments = COLUMNS["payment_method"]["categories"]
    shares = source["payment_method"].astype(str).value_counts(normalize=True)
    resample = rng.random(n) < PAYMENT_RESAMPLE_SHARE
    drawn = rng.choice(payments, size=int(resample.sum()), p=[shares.get(p, 0.0) for p in payments])
    payment = out["payment_method"].astype(str).to_numpy(dtype=object)
    payment[resample] = drawn
    out["payment_method"] = payment
    return out


def chunks(
    source: pd.DataFrame, n: int, seed: int, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """``n`` synthetic rows in frames of at most ``chunk_rows`` rows (seeded)."""
    if n <= 0:
        raise ConfigError(f"the number of rows must be positive, got {n}")
    if chunk_rows <= 0:
        raise ConfigError(f"chunk_rows must be positive, got {chunk_rows}")
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        size = min(chunk_rows, n - done)
        yield synthesize(source, size, rng)
        done += size


def write(
    source: pd.DataFrame,
    path: str | Path,
    n: int,
    seed: int = 0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    cleaned: bool = False,
) -> Path:
    """Write ``n`` synthetic rows to ``path``: Parquet (``.parquet``) or CSV (``.csv[.gz]``).

    Rows look like the raw file (``total_charges`` blank for new customers) unless
    ``cleaned``, in which case they look like the output of ``churn.data.clean``, the
    frame the model scores. ``progress`` is called with the number of rows of each chunk.
    """
    from .data import clean

    path = Path(path)
    kind = _format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    first = True
    try:
        for frame in chunks(source, n, seed, chunk_rows):
            if cleaned:
                frame = clean(frame)
            if kind == "parquet":
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
            else:
                frame.to_csv(path, mode="w" if first else "a", header=first, index=False,
                             compression={"method": "gzip", "mtime": 0} if kind == "csv.gz" else None)
            first = False
            if progress is not None:
                progress(len(frame))
    finally:
        if writer is not None:
            writer.close()
    log.info("wrote %d synthetic rows to %s", n, path)
    return path


def _format(path: Path) -> str:
    name = path.name.lower()
    for suffix in ("parquet", "csv.gz", "csv"):
        if name.endswith("." + suffix):
            return suffix
    raise ConfigError(f"{path}: unknown output format; name it *.parquet, *.csv or *.csv.gz")
