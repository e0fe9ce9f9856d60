"""Dates and timestamps: a column of kind ``datetime`` holds ISO 8601 text, or text in
the column's declared ``format``.

Without a format, ``2024-07-01``, ``2024-07-01T09:30:00`` and ``2024-07-01 09:30:00+02:00``
are read. With one (a strftime format such as ``"%m/%d/%y"``), only text in that format is
(``4/29/17``), an ISO value included. Anything else (``yesterday``) is refused by validation,
batch scoring and the service, naming the column or the field and what was expected
(:func:`expected`). Every reader goes through :func:`as_datetimes`, the one parser, with the
column's format: whatever its zone, a value becomes one instant in UTC without a zone, so
training and serving see the same ``datetime64`` column; the model's default preprocessing
derives its parts (:mod:`nbprod.model.dates`) and drift bins it by day (:func:`days`).

A datetime column may declare a range, ``min`` and ``max`` (ISO text, either end open):
validation, batch scoring and the service refuse a value outside it, naming the column
and the range (:func:`outside`, :func:`range_text`). ``nbprod new`` infers one from the
data (:func:`inferred_range`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

#: what a datetime value must look like, for messages
ISO = "an ISO date or timestamp (e.g. 2024-07-01 or 2024-07-01T09:30:00)"
#: the directives a declared format must hold at least one of (it must read a date)
_DATE_DIRECTIVES = ("%Y", "%y", "%m", "%b", "%B", "%d", "%j")


def expected(fmt: str | None) -> str:
    """What a value of a column with format ``fmt`` (None: ISO) must look like, for
    messages and the API's description: ``a date in the format %m/%d/%y (e.g. 07/01/24)``."""
    if fmt is None:
        return ISO
    return f"a date in the format {fmt} (e.g. {datetime(2024, 7, 1, 9, 30).strftime(fmt)})"


def check_format(value: Any, kind: str, where: str) -> str | None:
    """A declared ``format`` (a strftime format reading at least a date, on a column of
    ``kind`` datetime), None when not given, else :class:`ConfigError` naming ``where``."""
    if value is None:
        return None
    if kind != "datetime":
        raise ConfigError(f"{where}: only a datetime column has a format, got it on a {kind} "
                          "column")
    if not isinstance(value, str) or not any(d in value for d in _DATE_DIRECTIVES):
        raise ConfigError(f"{where}: a strftime format such as \"%m/%d/%Y\" (at least a "
                          f"month, a day or a year), got {value!r}")
    sample = datetime(2024, 7, 1, 9, 30)
    try:
        ok = bool(as_datetimes([sample.strftime(value)], value).notna().iloc[0])
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{where}: {value!r} does not read back what it writes "
                          f"({sample.strftime(value)!r}); give a strftime format such as "
                          "\"%m/%d/%Y\"")
    return value


def as_datetimes(values: pd.Series | Sequence[Any], fmt: str | None = None) -> pd.Series:
    """``values`` as ``datetime64[ns]`` in UTC without a zone; NaT where a value is blank
    or is not text in ``fmt`` (None: ISO text). The one parser of datetime values."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
    else:
        text = [v if isinstance(v, str | datetime) else None for v in series]  # no number
        parsed = pd.to_datetime(pd.Series(text, index=series.index, dtype=object),
                                errors="coerce", format=fmt or "ISO8601", utc=True)
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def unparsed(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """True where a present value is not a date in ``fmt`` (None: ISO)."""
    return as_datetimes(values, fmt).isna() & values.notna()


def parses(value: str, fmt: str | None = None) -> bool:
    """Whether one text value is a date in ``fmt`` (None: ISO)."""
    return not bool(unparsed(pd.Series([value], dtype=object), fmt).iloc[0])


def is_iso(value: str) -> bool:
    """Whether one text value is an ISO date or timestamp."""
    return parses(value)


def days(values: pd.Series | Sequence[Any], fmt: str | None = None) -> np.ndarray:
    """Days since 1970-01-01 (a float; NaN where blank or not a date in ``fmt``, None:
    ISO): how drift bins dates."""
    parsed = as_datetimes(values, fmt)
    out = (parsed - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return out.to_numpy(dtype="float64", na_value=np.nan)


def date_bound(value: Any, where: str) -> str | None:
    """A declared ``min`` or ``max`` of a datetime column as ISO text (YAML reads an
    unquoted ``2024-07-01`` as a date), None when not given, else :class:`ConfigError`
    naming ``where``."""
    if value is None:
        return None
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, str) and is_iso(value):
        return value
    raise ConfigError(f"{where}: an ISO date or timestamp (e.g. 2024-07-01), got {value!r}")


def declared_range(low: Any, high: Any) -> tuple[str | None, str | None]:
    """A datetime column's (or feature's) ``min`` and ``max`` as ISO text; an end that is
    not text is open."""
    return (low if isinstance(low, str) else None), (high if isinstance(high, str) else None)


def outside(values: pd.Series, low: str | None, high: str | None,
            fmt: str | None = None) -> pd.Series:
    """True where a value is a date in ``fmt`` (None: ISO) before ``low`` or after ``high``
    (ISO text whatever ``fmt``; blanks and text that does not parse are not outside: other
    rules name them)."""
    parsed = as_datetimes(values, fmt)
    out = pd.Series(False, index=parsed.index)
    if low is not None:
        out |= parsed < as_datetimes([low]).iloc[0]
    if high is not None:
        out |= parsed > _end_of(high)
    return out.fillna(False).astype(bool)


def _end_of(high: str) -> pd.Timestamp:
    """The last instant ``high`` covers: a whole day when it is a date alone."""
    stamp = as_datetimes([high]).iloc[0]
    return stamp + pd.Timedelta(days=1) - pd.Timedelta(1, "ns") if len(high) == 10 else stamp


def range_text(low: str | None, high: str | None) -> str:
    """How a declared range reads in messages: ``from 2015-01-01 to 2030-12-31``."""
    parts = ([f"from {low}"] if low is not None else []) + ([f"to {high}"] if high is not None else [])
    return " ".join(parts) or "any date"


#: years an inferred range reaches past the latest date seen, so new records are accepted
YEARS_AHEAD = 10


def inferred_range(values: pd.Series, fmt: str | None = None) -> tuple[str, str] | None:
    """The range ``nbprod new`` declares for a datetime column: from January 1st of the
    earliest year seen to December 31st of the year :data:`YEARS_AHEAD` years after the
    latest (a mistyped year such as 2204 or 1924 is refused, next year's records are not)."""
    parsed = as_datetimes(values, fmt).dropna()
    if parsed.empty:
        return None
    first, last = int(parsed.min().year), int(parsed.max().year) + YEARS_AHEAD
    return date(first, 1, 1).isoformat(), date(min(last, 9999), 12, 31).isoformat()
