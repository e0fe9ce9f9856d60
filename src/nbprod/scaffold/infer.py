"""What ``nbprod new`` reads from a data file: the declared column table it proposes.

Small pure functions, data -> column table:

* :func:`infer_column` gives one column's declaration (kind, categories, range,
  nullability) or the reason to leave it out (id-like, constant, free text, ...);
* :func:`infer_table` does it for every column, finds the target, infers the model kind
  from it (:func:`infer_kind`: two values make a binary model, a few values a multiclass
  one, numbers with many values a regression; ``--kind`` overrides) and, for a binary
  model, picks the positive class (``--positive``, else the minority class).

The table is a proposal the user reviews in ``columns.yaml``: ranges are widened to round
numbers beyond what the file shows, so the next month's data still fits.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.files import read_table
from ..data.model_kinds import BINARY, MULTICLASS, REGRESSION, check_model_kind
from ..errors import ConfigError, DataFileError, TargetError
from .column_rules import (
    infer_column,
    is_integral,
    nested_values,
    numeric_range,
    python_value,
    sorted_values,
)
from .date_formats import ambiguity
from .leaks import target_leak
from .names import identifier, identifiers

__all__ = ["Inferred", "data_like_headers", "infer_column", "infer_kind", "infer_table",
           "numeric_range", "read_data"]

log = logging.getLogger(__name__)

#: the default name of one input record: requests send {"record": {...}}
RECORD = "Record"
#: a target with at most this many values (and not fractional numbers with many) is a class
MAX_CLASSES = 20
#: a longer header is refused: YAML reads no key over 1,024 characters, and no person one
MAX_HEADER = 128
#: with more columns than this, the build's permutation importance (one pass per column) is
#: long: nbprod new says so
MANY_COLUMNS = 500


@dataclass(frozen=True)
class Inferred:
    """The column table proposed for one data file."""

    columns: dict[str, dict[str, Any]]  # name -> declaration (target included, in file order)
    dropped: dict[str, str]             # raw header -> why it is left out
    target: str                         # the target's name (an identifier)
    classes: list[Any]                  # its values, sorted (none for a regression)
    positive: Any                       # the positive class (binary only)
    positive_given: bool                # True when --positive chose it, False for the minority
    rows: int
    #: the API's name for one input record (its JSON field is the snake_case of it)
    record: str = RECORD
    #: what the model predicts (binary, multiclass, regression) and why
    kind: str = BINARY
    kind_reason: str = "two values"
    kind_given: bool = False
    #: the standard deviation of a regression target (the scale of its gate's tolerances)
    target_std: float | None = None
    #: column name -> a note on how it was read (dates whose format is ambiguous)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [name for name in self.columns if name != self.target]


def read_data(path: str | Path) -> pd.DataFrame:
    """The data file as the pipeline will read it (:func:`nbprod.data.files.read_table`: CSV,
    gzip-compressed CSV or Parquet), refusing a file with no rows."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "no such file")
    if not path.is_file():
        raise DataFileError(path, "not a file")
    if not os.access(path, os.R_OK):
        raise DataFileError(path, "cannot be read (permission denied)")
    df = read_table(path)
    if df.empty:
        raise DataFileError(path, f"has a header ({df.shape[1]} columns) but no rows")
    numbers = data_like_headers([str(h) for h in df.columns])
    if numbers:
        raise DataFileError(path, (
            f"its first line looks like data, not a header: {', '.join(numbers)} "
            f"{'is a number' if len(numbers) == 1 else 'are numbers'}; add a first line "
            "naming the columns (or replace the line that is there)"))
    return df


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def data_like_headers(headers: list[str]) -> list[str]:
    """The headers that are numbers (as pandas names a repeated one, ``1.1`` from ``1``):
    a first line that holds values (scikit-learn's ``150,4,setosa,...``), not names."""
    return [h for h in headers if _is_number(h.strip())]


def _find_target(headers: list[str], target: str) -> str:
    """The raw header meant by ``target``: itself, or the header whose identifier it is."""
    if target in headers:
        return target
    for header in headers:
        if identifier(header) == identifier(target):
            return header
    by_name = {identifier(h): h for h in headers}
    close = difflib.get_close_matches(target, headers, n=1, cutoff=0.6) or [
        by_name[m] for m in difflib.get_close_matches(identifier(target), list(by_name), n=1,
                                                       cutoff=0.6)]
    if close:
        raise ConfigError(f"--target {target!r} is not a column of the data; did you mean "
                          f"{close[0]!r}?")
    shown = ", ".join(map(repr, headers[:12])) + (", ..." if len(headers) > 12 else "")
    raise ConfigError(f"--target {target!r} is not a column of the data; its columns: {shown} "
                      "(a target you compute: --clean FILE, docs/new-project.md)")


def _check_target(series: pd.Series, header: str) -> None:
    present = series.dropna()
    if isinstance(present.dtype, pd.StringDtype) or present.dtype == object:
        present = present[present.astype(str).str.strip() != ""]
    if present.empty:
        raise TargetError(f"target column {header!r} is blank on every row: there is nothing "
                          "to learn")
    if present.nunique() == 1:
        raise TargetError(f"target column {header!r} has one value only "
                          f"({python_value(present.iloc[0])!r}): there is nothing to learn")
    blanks = int(series.isna().sum())
    if blanks:
        raise ConfigError(
            f"target column {header!r} is blank on {blanks:,} row(s); "
            "drop or fill those rows first"
        )


def _not_numbers(series: pd.Series, header: str) -> None:
    numbers = pd.to_numeric(series.astype("object"), errors="coerce")
    bad = numbers.isna()
    if bad.any():
        shown = ", ".join(f"row {i}: {v!r}" for i, v in list(series[bad].items())[:5])
        raise TargetError(f"target column {header!r} has {int(bad.sum())} value(s) that are not "
                          f"numbers ({shown}); a regression needs numbers")


def infer_kind(series: pd.Series, header: str, kind: str | None = None) -> tuple[str, str]:
    """The model kind for target ``series`` and the reason, or ``kind`` checked against it.

    Two values: binary. A few values (at most :data:`MAX_CLASSES`, and not fractional numbers
    with many values): multiclass. Numbers with many values: regression.
    """
    _check_target(series, header)
    distinct = int(series.nunique())
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if kind is not None:
        check_model_kind(kind, "--kind")
        if kind == BINARY and distinct != 2:
            raise ConfigError(f"--kind binary: target column {header!r} has {distinct} values, "
                              "a binary model needs exactly two")
        if kind == MULTICLASS and distinct < 3:
            raise ConfigError(f"--kind multiclass: target column {header!r} has {distinct} "
                              "values, a multiclass model needs three or more")
        if kind == REGRESSION:
            _not_numbers(series, header)
        return kind, "given with --kind"
    if distinct == 2:
        return BINARY, "two values"
    fractional = numeric and not is_integral(series.dropna())
    if distinct <= MAX_CLASSES and not (fractional and distinct > 10):
        return MULTICLASS, f"{distinct} values (at most {MAX_CLASSES} make classes)"
    if numeric:
        return REGRESSION, f"numbers with {distinct:,} distinct values"
    raise ConfigError(
        f"target column {header!r} has {distinct:,} distinct values that are not numbers: too "
        f"many for classes (at most {MAX_CLASSES}) and not a regression; pick another target "
        "or give --kind"
    )


def _target_spec(series: pd.Series, kind: str) -> dict[str, Any]:
    if kind == REGRESSION:
        values = pd.to_numeric(series.astype("object"))
        integral = is_integral(values)
        lo, hi = numeric_range(float(values.min()), float(values.max()), integral)
        return {"kind": "integer" if integral else "number", "min": lo, "max": hi}
    return {"kind": "categorical", "categories": sorted_values(series)}


def _positive(series: pd.Series, classes: list[Any], positive: str | None, header: str) -> Any:
    if positive is not None:
        for value in classes:
            if str(value) == str(positive):
                return value
        raise ConfigError(
            f"--positive {positive!r} is not a value of target column {header!r}; "
            f"its values: {', '.join(map(repr, classes))}"
        )
    counts = series.map(python_value).value_counts()
    return min(classes, key=lambda v: (counts[v], str(v)))


def _check_headers(headers: list[str]) -> None:
    """Refuse headers too long to be names; warn about a very wide file."""
    long = [h for h in headers if len(h) > MAX_HEADER]
    if long:
        raise ConfigError(
            f"{len(long)} header(s) longer than {MAX_HEADER} characters, the first "
            f"{long[0][:40]!r}... ({len(long[0]):,} characters): shorten them in the data file")
    if len(headers) > MANY_COLUMNS:
        log.warning("%s columns: every build computes permutation importance once per column, "
                    "which takes long; keep the columns the model needs (drop the others in "
                    "the data file or in columns.yaml)", f"{len(headers):,}")


def infer_table(df: pd.DataFrame, target: str, positive: str | None = None,
                kind: str | None = None) -> Inferred:
    """The proposed column table of ``df`` with ``target`` as the column to predict, of
    the model ``kind`` (inferred from the target when None)."""
    if df.empty:
        raise ConfigError("the data has no rows")
    headers = [str(h) for h in df.columns]
    _check_headers(headers)
    df = df.set_axis(headers, axis=1)
    target_header = _find_target(headers, target)
    chosen_kind, reason = infer_kind(df[target_header], target_header, kind)
    target_spec = _target_spec(df[target_header], chosen_kind)
    classes = list(target_spec.get("categories", []))
    if chosen_kind == BINARY:
        chosen = _positive(df[target_header], classes, positive, target_header)
    elif positive is not None:
        raise ConfigError(f"--positive: a {chosen_kind} model has no positive class "
                          f"(target {target_header!r}: {reason})")
    else:
        chosen = None
    names = identifiers(headers)
    columns: dict[str, dict[str, Any]] = {}
    dropped: dict[str, str] = {}
    notes: dict[str, str] = {}
    for header in headers:
        if header == target_header:
            spec: dict[str, Any] | str = target_spec
        else:
            spec = nested_values(df[header]) or target_leak(
                df[header], df[target_header], classifier=chosen_kind != REGRESSION
            ) or infer_column(df[header])
        if isinstance(spec, str):
            dropped[header] = spec
            log.info("column %r left out: %s", header, spec)
            continue
        if names[header] != header:
            spec = {"source": header, **spec}
        columns[names[header]] = spec
        if header != target_header and (note := ambiguity(df[header])) is not None:
            notes[names[header]] = note
    if len(columns) < 2:
        raise ConfigError(
            f"no usable feature column beside the target {target_header!r}: "
            + "; ".join(f"{h}: {why}" for h, why in dropped.items())
        )
    return Inferred(
        columns=columns,
        dropped=dropped,
        target=names[target_header],
        classes=classes,
        positive=chosen,
        positive_given=positive is not None,
        rows=len(df),
        kind=chosen_kind,
        kind_reason=reason,
        kind_given=kind is not None,
        target_std=(float(pd.to_numeric(df[target_header]).std(ddof=0))
                    if chosen_kind == REGRESSION else None),
        notes=notes,
    )
