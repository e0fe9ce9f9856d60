"""Batch scoring: stream a Parquet or CSV file of any size through a registered model.

The input is read in chunks (``pyarrow.parquet.ParquetFile.iter_batches`` or
``pandas.read_csv(chunksize=...)``), only the model's feature columns (plus any
``keep`` columns) are loaded, each chunk is checked against the model's stored
feature schema, scored, and appended to the output with ``pyarrow.parquet.ParquetWriter``
(or as CSV). Memory therefore depends on the chunk size, not on the file size.

Each output row holds ``row`` (the input row number, from 0), the prediction columns of
the model's kind, and ``model`` (the model's tag). Parquet output also carries the tag in
its file metadata (``nbprod.model``). The prediction columns (:mod:`nbprod.model.predictions`):

- binary: ``probability`` (of the positive class) and ``label`` (``probability >=
  threshold``; the threshold the model was evaluated with, unless given);
- multiclass: ``label`` (the class) and ``probability:<class>`` per class;
- regression: ``prediction``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..data.cleaning import Cleaning, apply_cleaning, load_cleaning
from ..data.dates import declared_range, expected, outside, range_text, unparsed
from ..data.files import sniff_delimiter
from ..data.frames import as_missing, model_frame
from ..data.model_kinds import BINARY, MULTICLASS
from ..data.schema import FeatureSchema
from ..errors import BatchInputError, ConfigError, DataFileError
from ..model.predictions import predict
from .batch_output import OutputWriter, prediction_table

log = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 100_000
MAX_REPORTED_ROWS = 5


@dataclass(frozen=True)
class ScoreResult:
    """What a batch-scoring run did."""

    model: str
    rows: int
    chunks: int
    positives: int  # rows at or above the threshold (binary models; 0 for the others)
    threshold: float
    output: Path
    kind: str = BINARY


def score_file(
    tag: str,
    source: str | Path,
    dest: str | Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    threshold: float | None = None,
    keep: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> ScoreResult:
    """Score every row of ``source`` with registered model ``tag``; write them to ``dest``.

    ``on_start`` is called once the model is loaded, before the first chunk is read;
    ``progress`` is called with the number of rows of each chunk scored. Raises
    :class:`BatchInputError` (file, row, column, value) on the first chunk that
    breaks the feature schema; the partial output is removed.
    """
    from ..registry.store import get_model, schema_of, serving_model, threshold_of

    stored = get_model(tag)
    if threshold is None:
        threshold = threshold_of(stored)
    model = serving_model(stored)
    reference = stored.info.metadata.get("cleaning")
    clean = load_cleaning(reference) if reference else None
    if on_start is not None:
        on_start()
    return score_chunks(
        model,
        schema_of(stored),
        str(stored.tag),
        source,
        dest,
        chunk_rows=chunk_rows,
        threshold=threshold,
        keep=keep,
        progress=progress,
        clean=clean,
    )


def score_chunks(
    model: Any,
    schema: FeatureSchema,
    model_tag: str,
    source: str | Path,
    dest: str | Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    threshold: float = 0.5,
    keep: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    clean: Cleaning | None = None,
) -> ScoreResult:
    """:func:`score_file` with the model, schema and her cleaning step already loaded."""
    if chunk_rows <= 0:
        raise ConfigError(f"chunk size must be positive, got {chunk_rows}")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
    source, dest = Path(source), Path(dest)
    keep = list(keep or [])
    out_kind = _format(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    writer = OutputWriter(dest, out_kind, model_tag)
    rows = n_chunks = positives = 0
    try:
        # Reading and writing run in a helper thread (pyarrow releases the GIL), so the
        # next chunk is decoded and the last one encoded while this one is scored.
        with ThreadPoolExecutor(max_workers=1) as io:
            batches = read_chunks(source, schema.names + keep, chunk_rows,
                                  categorical=schema.by_kind("categorical"))
            pending = io.submit(next, batches, None)
            written = None
            while (frame := pending.result()) is not None:
                pending = io.submit(next, batches, None)
                features = check_chunk(frame[schema.names], schema, source, first_row=rows)
                if clean is not None:  # as the pipeline and the service run it
                    features = model_frame(apply_cleaning(clean, features), schema.features)
                predicted = predict(model, features, schema.model_kind, schema.classes)
                out = prediction_table(frame, keep, predicted, threshold, first_row=rows, tag=model_tag)
                if written is not None:
                    written.result()
                written = io.submit(writer.write, out)
                rows += len(frame)
                n_chunks += 1
                if schema.model_kind == BINARY:
                    positives += int(np.count_nonzero(predicted["probability"] >= threshold))
                if progress is not None:
                    progress(len(frame))
            if written is not None:
                written.result()
        writer.close()
    except BaseException:
        writer.close()
        dest.unlink(missing_ok=True)
        raise
    log.info("scored %d rows in %d chunk(s) with %s -> %s", rows, n_chunks, model_tag, dest)
    return ScoreResult(model_tag, rows, n_chunks, positives, threshold, dest, schema.model_kind)


def count_rows(source: str | Path) -> int | None:
    """The number of rows of a Parquet file (from its footer); None for CSV."""
    source = Path(source)
    if _format(source) != "parquet" or not source.is_file():
        return None
    return pq.ParquetFile(source).metadata.num_rows


def read_chunks(
    source: str | Path, columns: list[str], chunk_rows: int, categorical: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_rows`` rows holding ``columns`` of a Parquet or CSV file.

    ``categorical`` columns stored as Parquet strings are read dictionary-encoded (pandas
    ``category``): smaller, and faster to check.
    """
    source = Path(source)
    if not source.is_file():
        raise DataFileError(source, "no such file")
    kind = _format(source)
    if kind == "parquet":
        try:
            names = pq.read_schema(source)
            strings = [c for c in categorical or [] if c in names.names
                       and _is_text(names.field(c).type)]
            parquet = pq.ParquetFile(source, read_dictionary=strings)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataFileError(source, f"cannot be read as Parquet: {exc}") from None
        _require(source, columns, parquet.schema_arrow.names)
        batches = parquet.iter_batches(batch_size=chunk_rows, columns=columns)
        for table in _exact_chunks(batches, chunk_rows):
            yield table.to_pandas()
        return
    try:
        sep = sniff_delimiter(source)
        header = pd.read_csv(source, nrows=0, sep=sep).columns
    except pd.errors.EmptyDataError:
        raise DataFileError(source, "the file is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataFileError(source, f"cannot be parsed: {exc}") from None
    _require(source, columns, list(header))
    try:
        yield from pd.read_csv(source, usecols=columns, chunksize=chunk_rows, sep=sep)
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError) as exc:
        raise DataFileError(source, f"cannot be parsed: {exc}") from None


def _exact_chunks(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of ``rows`` rows each (the last may be shorter) from ``batches``: reading
    dictionaries, pyarrow ends a batch where a page's dictionary does."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def check_chunk(
    frame: pd.DataFrame, schema: FeatureSchema, source: str | Path, first_row: int = 0
) -> pd.DataFrame:
    """``frame`` with numeric columns as numbers, or :class:`BatchInputError`.

    Checks what the model needs: no missing value in a non-nullable feature, numbers
    that parse and lie in their declared range, categories the model knows. Rows are
    numbered from 0 across the whole file (``first_row`` is this chunk's first row).
    A chunk whose columns all pass as they were read is returned as it is.
    """
    problems: list[dict[str, Any]] = []
    columns: dict[str, pd.Series] = {}
    read = {name: frame[name] for name in schema.names}
    for feat in schema.features:
        col = as_missing(read[feat.name], feat.missing)
        if feat.kind == "datetime":
            _report(problems, feat.name, f"is not {expected(feat.format)}",
                    unparsed(col, feat.format), col, first_row)
            low, high = declared_range(feat.min, feat.max)
            if low is not None or high is not None:
                _report(problems, feat.name, f"is not a date {range_text(low, high)}",
                        outside(col, low, high, feat.format), col, first_row)
            columns[feat.name] = col
        elif feat.kind == "text":
            long = col.astype("string").str.len() > (feat.max_length or float("inf"))
            _report(problems, feat.name, f"is longer than {feat.max_length} characters",
                    long.fillna(False).astype(bool), col, first_row)
            columns[feat.name] = col
        elif feat.is_numeric or feat.kind == "binary":
            numbers = col.dtype.kind in "biuf"
            values = col if numbers else pd.to_numeric(col, errors="coerce")
            if not numbers:
                _report(problems, feat.name, "is not a number", values.isna() & col.notna(),
                        col, first_row)
            allowed = f"in [{feat.min}, {feat.max}]" if feat.kind != "binary" else "0 or 1"
            _report(problems, feat.name, f"is not {allowed}", _out_of_range(values, feat), col,
                    first_row)
            columns[feat.name] = values
        else:
            _report(problems, feat.name, f"is not one of {feat.categories}",
                    _unknown(col, feat.categories or []), col, first_row)
            columns[feat.name] = col
        if not feat.nullable:
            _report(problems, feat.name, "is missing", col.isna(), col, first_row)
    if problems:
        raise BatchInputError(str(source), problems)
    if all(columns[name] is read[name] for name in schema.names):
        return frame[schema.names]
    return pd.DataFrame(columns, index=frame.index)


def _out_of_range(values: pd.Series, feat: Any) -> np.ndarray:
    """Where the numbers of ``values`` lie outside ``feat``'s range (or, for a binary
    feature, are not 0 or 1); a blank is not out of range."""
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    inside = ~np.isnan(numbers)
    if feat.min is not None:
        inside &= numbers >= feat.min
    if feat.max is not None:
        inside &= numbers <= feat.max
    if feat.kind == "binary":
        inside &= (numbers == 0) | (numbers == 1)
    return ~inside & ~np.isnan(numbers)


def _unknown(values: pd.Series, categories: list[Any]) -> np.ndarray:
    """Where ``values`` hold a category not among ``categories`` (a blank is not unknown):
    a ``category`` column is checked by its few categories, then its codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        known = np.append(values.cat.categories.isin(categories), True)  # code -1: a blank
        return ~known[values.cat.codes.to_numpy()]
    return (~values.isin(categories) & values.notna()).to_numpy()


def _report(
    problems: list[dict], column: str, rule: str, mask: Any, col: pd.Series, first_row: int
) -> None:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    positions = np.flatnonzero(mask)
    rows = {int(first_row + p): _value(col.iloc[p]) for p in positions[:MAX_REPORTED_ROWS]}
    problems.append({"column": column, "rule": rule, "count": int(len(positions)), "rows": rows})


def _value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return None if pd.isna(value) else value


def _require(source: Path, wanted: list[str], present: list[str]) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise BatchInputError(
            str(source),
            [{"column": c, "rule": "is not in the file", "count": 0, "rows": {}} for c in missing],
        )


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise ConfigError(f"{path}: unknown file format; use *.parquet, *.csv or *.csv.gz")


def score_summary(result: ScoreResult) -> pd.DataFrame:
    """One row about a scored file: rows and, by kind, the rows at or above the threshold
    and the mean probability; the rows of each predicted class; or the predictions' spread."""
    columns = {BINARY: ["probability"], MULTICLASS: ["label"]}.get(result.kind, ["prediction"])
    scores = pd.read_parquet(result.output, columns=columns)
    row: dict[str, Any] = {"rows": len(scores)}
    if result.kind == BINARY:
        row[f"at or above {result.threshold}"] = result.positives
        row["mean probability"] = round(float(scores["probability"].mean()), 4)
    elif result.kind == MULTICLASS:
        row.update({f"predicted {k}": int(v) for k, v in scores["label"].value_counts().items()})
    else:
        described = scores["prediction"].describe()
        row.update({k: round(float(described[k]), 4) for k in ("mean", "std", "min", "max")})
    return pd.DataFrame([row])


def _is_text(kind: pa.DataType) -> bool:
    """Whether a Parquet column holds text (pandas 3 writes its strings as ``large_string``)."""
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
