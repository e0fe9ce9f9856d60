"""One raw column -> its proposed declaration, or the true reason to leave it out.

Small pure functions, used by :func:`nbprod.scaffold.infer.infer_table`:

* numbers written with blank-like strings (``" "``, ``"?"``, ``"NA"``, ``"-"``) are
  nullable numbers that declare those strings ``missing`` (the raw file stays as it is);
* text dates are a datetime: ISO ones as they are, others with the one format that reads
  them all (:mod:`nbprod.scaffold.date_formats`), written under ``format:``;
* an integer column with few values is categorical only when its values look like codes,
  not counts (:func:`looks_like_codes`);
* a column is left out with a reason that holds for it (a different value on every row,
  or how many distinct values in how many rows).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ..data.dates import as_datetimes, inferred_range, unparsed
from .date_formats import Ambiguous, date_format
from .names import identifier

__all__ = ["BLANK_LIKE", "blank_like", "declared_anyway", "infer_column", "looks_like_codes",
           "numeric_range"]

#: more distinct values than this and a text column is not a category any more
MAX_CATEGORIES = 50
#: an integer column with at most this many distinct values may be integer-coded categories
MAX_INTEGER_CODES = 10
#: a text column whose values have at least this many words on average is free text
FREE_TEXT_WORDS = 3
#: below this many rows, "every value different" says nothing about a column
MIN_ROWS_FOR_ID = 20
#: strings (stripped; whitespace alone is the empty string) that stand for a blank in files
#: people export, beside what pandas already reads as one
BLANK_LIKE = frozenset({"", "NA", "N/A", "n/a", "na", "NaN", "nan", "null", "NULL", "None",
                        "?", "-", "--", "."})
#: words of a header that say its integers are codes (``Shift Code``, ``Machine Type``)
CODE_WORDS = frozenset({"code", "codes", "type", "class", "category", "cat", "group", "kind",
                        "id", "zip", "region", "segment", "level", "grade"})


def _nice_up(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= x (x > 0)."""
    k = math.floor(math.log10(x))
    for step in (1, 2, 5, 10):
        if step * 10**k >= x:
            return float(step * 10**k)
    raise AssertionError(x)  # unreachable


def numeric_range(lo: float, hi: float, integer: bool) -> tuple[float, float]:
    """A declared range around the observed ``[lo, hi]``: 0 or a round number below, a
    round number at least twice the maximum above."""
    low = 0.0 if lo >= 0 else -_nice_up(-2 * lo)
    high = _nice_up(2 * hi) if hi > 0 else 0.0
    if integer:
        return int(low), int(high)
    return low, high


def python_value(value: Any) -> Any:
    """A numpy scalar as the plain Python value YAML writes."""
    return value.item() if hasattr(value, "item") else value


def sorted_values(values: pd.Series) -> list[Any]:
    return sorted((python_value(v) for v in values.dropna().unique()),
                  key=lambda v: (str(type(v)), v))


def is_integral(values: pd.Series) -> bool:
    return bool(pd.api.types.is_integer_dtype(values) or (values % 1 == 0).all())


def _is_datetime(values: pd.Series) -> bool:
    """A datetime column, or text in which every one of the first values is an ISO date."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    head = values.astype(str).head(50)
    if not head.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    return bool(as_datetimes(head).notna().all())


def _datetime_spec(present: pd.Series, fmt: str | None) -> dict[str, Any] | str:
    """A datetime column's declaration: its ``format`` when not ISO, and its range (ISO)."""
    if fmt is None and unparsed(present).any():
        return "dates in more than one format (make them ISO in clean(), then declare " \
               "the column kind: datetime)"
    spec: dict[str, Any] = {"kind": "datetime", **({"format": fmt} if fmt else {})}
    span = inferred_range(present, fmt)
    if span is not None:
        spec["min"], spec["max"] = span
    return spec


def blank_like(values: pd.Series) -> pd.Series:
    """Which of the text ``values`` stand for a blank (:data:`BLANK_LIKE`, spaces aside)."""
    return values.astype(str).str.strip().isin(BLANK_LIKE)


def _blank_numbers(present: pd.Series) -> tuple[pd.Series, list[str]] | None:
    """Text that is numbers but for blank-like strings: the numbers (blanks as NaN) and the
    blank strings as written, else None."""
    if pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
        return None
    blanks = blank_like(present)
    if not blanks.any() or blanks.all():
        return None
    numbers = pd.to_numeric(present.astype("object").where(~blanks), errors="coerce")
    if numbers[~blanks].isna().any():
        return None
    return numbers.astype("float64"), sorted(set(present[blanks].astype(str)))


def looks_like_codes(values: list[int], header: str) -> bool:
    """Whether a few distinct integers are codes (categories) rather than counts or a scale.

    Codes: the header says so (a word of :data:`CODE_WORDS`: ``Shift Code``, ``Machine
    Type``), or the values are neither a run of consecutive integers nor include 0
    (``10, 20, 30``; ``3, 7, 12``). Counts and scales: the rest (``children`` 0..5,
    ``owners`` 0, 1, 3, ``month`` 8..12).
    """
    words = set(re.split(r"[^a-z0-9]+", identifier(header).replace("_", " ")))
    if words & CODE_WORDS:
        return True
    consecutive = values == list(range(values[0], values[-1] + 1))
    return not consecutive and 0 not in values


def _unique_reason(distinct: int, rows: int, blanks: bool) -> str:
    if distinct == rows:
        return "id-like (a different value on every " + ("non-blank row)" if blanks else "row)")
    return f"id-like ({distinct:,} distinct values in {rows:,} rows)"


def _numeric_spec(present: pd.Series, header: str, nullable: bool) -> dict[str, Any] | str:
    distinct, rows = int(present.nunique()), len(present)
    integral = is_integral(present)
    all_distinct = distinct == rows and rows >= MIN_ROWS_FOR_ID
    named_id = identifier(header) == "id" or identifier(header).endswith("_id")
    if integral and (all_distinct or (named_id and distinct > 0.9 * rows)):
        return _unique_reason(distinct, rows, nullable)
    values = sorted_values(present)
    if integral and values == [0, 1] and not nullable:
        return {"kind": "binary"}
    if integral and distinct <= MAX_INTEGER_CODES and looks_like_codes(
            [int(v) for v in values], header):
        return {"kind": "categorical", "categories": [int(v) for v in values]}
    kind = "integer" if integral and not nullable else "number"
    lo, hi = numeric_range(float(present.min()), float(present.max()), kind == "integer")
    return {"kind": kind, "min": lo, "max": hi}


def _text_spec(present: pd.Series) -> dict[str, Any] | str:
    text = present.astype(str)
    distinct, rows = int(text.nunique()), len(text)
    if distinct > MAX_CATEGORIES or (distinct == rows and rows >= MIN_ROWS_FOR_ID):
        if text.str.split().str.len().mean() >= FREE_TEXT_WORDS:
            return {"kind": "text", "max_length": text_bound(int(text.str.len().max()))}
        if distinct > 0.9 * rows:
            return _unique_reason(distinct, rows, False)
        return f"too many categories ({distinct:,} distinct values)"
    return {"kind": "categorical", "categories": sorted(text.unique().tolist())}


def text_bound(longest: int) -> int:
    """The declared ``max_length`` of a text column: twice its longest value, rounded up to
    a hundred characters, so a longer text than the file showed is still accepted."""
    return int(math.ceil(2 * max(longest, 1) / 100) * 100)


def nested_values(series: pd.Series) -> str | None:
    """Why a column of lists or structs (a Parquet file's) is left out, or None."""
    if series.dtype == object and series.map(
            lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).any():
        return "nested values (lists or structs): flatten what the model needs in clean()"
    return None


def declared_anyway(series: pd.Series) -> dict[str, Any]:
    """The declaration of a raw column a model reads although :func:`infer_column` leaves it
    out (too many categories, id-like): a number with its range, otherwise text."""
    present = series.dropna()
    spec: dict[str, Any]
    if pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present):
        lo, hi = numeric_range(float(present.min()), float(present.max()), False) \
            if len(present) else (0.0, 0.0)
        spec = {"kind": "number", "min": lo, "max": hi}
    else:
        spec = {"kind": "text", "max_length": text_bound(int(present.astype(str).str.len().max())
                                                         if len(present) else 1)}
    if series.isna().any():
        spec["nullable"] = True
    return spec


def infer_column(series: pd.Series) -> dict[str, Any] | str:
    """The declaration of one raw column, or the reason (a string) to leave it out."""
    header = str(series.name)
    missing: list[str] = []
    blanked = _blank_numbers(series.dropna())
    if blanked is not None:
        numbers, missing = blanked
        series = numbers.reindex(series.index)
    present = series.dropna()
    if present.empty:
        return "empty (every value blank)"
    if nested := nested_values(present):
        return nested
    if present.nunique() == 1:
        return f"constant (always {python_value(present.iloc[0])!r})".replace("'", '"')
    nullable = bool(series.isna().any())
    spec: dict[str, Any] | str
    found = None if _is_datetime(present) else date_format(present)
    fmt = None if isinstance(found, Ambiguous) else found  # ambiguous: as its values say
    if _is_datetime(present) or fmt is not None:
        spec = _datetime_spec(present, fmt)
    elif pd.api.types.is_bool_dtype(present):
        spec = {"kind": "binary"}
    elif pd.api.types.is_numeric_dtype(present):
        spec = _numeric_spec(present, header, nullable)
    else:
        spec = _text_spec(present)
    if isinstance(spec, str):
        return spec
    if nullable:
        spec["nullable"] = True
    if missing:
        spec["missing"] = missing
    return spec
