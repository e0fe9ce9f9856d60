"""A synthetic data set of any size, sampled from a project's real (validated) rows.

Rows are drawn with replacement from the real ones, which keeps every dependency between
columns that the data has (categories that go together, the label with its features,
a blank where the domain leaves one); then every numeric column is perturbed by a small
multiplicative factor (so 0 stays 0 and a sign never flips), rounded for integers and
clipped to the declared range. The output is written chunk by chunk (Parquet with pyarrow,
or CSV), so 10M rows need no more memory than one chunk. Seeded: the same ``seed`` and
``chunk_rows`` give the same file. Columns keep their declared names, which both the
pipeline's ingest step and batch scoring accept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .columns import ColumnTable
from .files import file_format

log = logging.getLogger(__name__)

#: The spread (sigma of the log) of the multiplicative noise on numbers.
JITTER = 0.03
DEFAULT_CHUNK_ROWS = 250_000


def synthesize(source: pd.DataFrame, table: ColumnTable, n: int, rng: np.random.Generator,
               jitter: float = JITTER) -> pd.DataFrame:
    """``n`` synthetic rows drawn from ``source`` (a validated frame) and perturbed."""
    if n <= 0:
        raise ConfigError(f"the number of rows must be positive, got {n}")
    if source.empty:
        raise ConfigError("cannot sample synthetic rows from an empty frame")
    rows = source.iloc[rng.integers(0, len(source), size=n)].reset_index(drop=True)
    out = rows[[c for c in table.names if c in rows.columns]].copy()
    for column in table.columns:
        if not column.is_numeric or column.name not in out.columns or jitter <= 0:
            continue
        values = out[column.name].to_numpy(dtype="float64", na_value=np.nan)
        moved = values * rng.lognormal(0.0, jitter, n)
        low = column.min if column.min is not None else np.nanmin(values)
        high = column.max if column.max is not None else np.nanmax(values)
        moved = np.clip(moved, low, high)
        if column.kind == "integer":
            moved = np.rint(moved)
            out[column.name] = pd.array(moved, dtype="Int64") if column.nullable else moved.astype("int64")
        else:
            out[column.name] = np.round(moved, 6)
    return out


def chunks(source: pd.DataFrame, table: ColumnTable, n: int, seed: int,
           chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """``n`` synthetic rows in frames of at most ``chunk_rows`` rows (seeded)."""
    if n <= 0:
        raise ConfigError(f"the number of rows must be positive, got {n}")
    if chunk_rows <= 0:
        raise ConfigError(f"chunk_rows must be positive, got {chunk_rows}")
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        size = min(chunk_rows, n - done)
        yield synthesize(source, table, size, rng)
        done += size


def write(source: pd.DataFrame, table: ColumnTable, path: str | Path, n: int, seed: int = 0,
          chunk_rows: int = DEFAULT_CHUNK_ROWS,
          progress: Callable[[int], None] | None = None) -> Path:
    """Write ``n`` synthetic rows to ``path``: Parquet (``.parquet``) or CSV (``.csv[.gz]``).

    ``progress`` is called with the number of rows of each chunk.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        kind = file_format(path)
    except Exception:
        raise ConfigError(f"{path}: unknown output format; name it *.parquet, *.csv or *.csv.gz") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    first = True
    try:
        for frame in chunks(source, table, n, seed, chunk_rows):
            if kind == "parquet":
                arrow = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, arrow.schema, compression="zstd")
                writer.write_table(arrow)
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


def real_rows(path: str | Path, table: ColumnTable) -> pd.DataFrame:
    """The validated rows of the raw file at ``path``: what the generator samples from."""
    from .files import read_table
    from .validation import validate

    return validate(read_table(path), table, source=Path(path).name)
