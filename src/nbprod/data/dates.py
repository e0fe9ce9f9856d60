"""Dates and timestamps: a column of kind ``datetime`` holds ISO 8601 text.

``2024-07-01``, ``2024-07-01T09:30:00`` and ``2024-07-01 09:30:00+02:00`` are read; any
other text (``07/01/2024``, ``yesterday``) is refused by validation, batch scoring and the
service, naming the column or the field. Whatever its zone, a value becomes one instant in
UTC without a zone (:func:`as_datetimes`), so training and serving see the same
``datetime64`` column; the model's default preprocessing derives its parts
(:mod:`nbprod.model.dates`) and drift bins it by day (:func:`days`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

#: what a datetime value must look like, for messages
ISO = "an ISO date or timestamp (e.g. 2024-07-01 or 2024-07-01T09:30:00)"


def as_datetimes(values: pd.Series | Sequence[Any]) -> pd.Series:
    """``values`` as ``datetime64[ns]`` in UTC without a zone; NaT where a value is blank
    or is not ISO text."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
    else:
        text = [v if isinstance(v, str | datetime) else None for v in series]  # no number
        parsed = pd.to_datetime(pd.Series(text, index=series.index, dtype=object),
                                errors="coerce", format="ISO8601", utc=True)
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def not_iso(values: pd.Series) -> pd.Series:
    """True where a present value is not an ISO date or timestamp."""
    return as_datetimes(values).isna() & values.notna()


def is_iso(value: str) -> bool:
    """Whether one text value is an ISO date or timestamp."""
    return not bool(not_iso(pd.Series([value], dtype=object)).iloc[0])


def days(values: pd.Series | Sequence[Any]) -> np.ndarray:
    """Days since 1970-01-01 (a float; NaN where blank or not ISO): how drift bins dates."""
    parsed = as_datetimes(values)
    out = (parsed - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return out.to_numpy(dtype="float64", na_value=np.nan)
