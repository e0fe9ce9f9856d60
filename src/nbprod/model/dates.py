"""The parts of a date a model can use: year, month and day of the week.

The default preprocessing (:mod:`nbprod.model.modeling`) turns each ``datetime`` column into
these three numbers with :func:`date_parts` inside a ``FunctionTransformer``, then scales
them like any number (imputing a nullable column's blanks first). The function is nbprod's
own and reviewed, so a model holding it loads under every project's trust
(:data:`nbprod.model.trust.NBPROD_FUNCTIONS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.dates import as_datetimes

#: the parts of each date, in the order of the columns :func:`date_parts` gives
PARTS = ("year", "month", "day_of_week")


def date_parts(frame: Any) -> np.ndarray:
    """Per datetime column of ``frame``, its year, month and day of the week (Monday 0) as
    floats, NaN where blank: ``len(PARTS)`` columns per input column."""
    data = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(np.asarray(frame))
    out = []
    for name in data.columns:
        when = as_datetimes(data[name])
        out += [when.dt.year, when.dt.month, when.dt.day_of_week]
    if not out:
        return np.empty((len(data), 0))
    return np.column_stack([np.asarray(p, dtype="float64") for p in out])


def part_names(columns: list[str]) -> list[str]:
    """The names of :func:`date_parts`' columns for ``columns``: ``signup__month``."""
    return [f"{c}__{p}" for c in columns for p in PARTS]
