"""Which format a text column of dates is written in, for ``nbprod new``.

A text column that is not ISO is tried against :data:`FORMATS` (each date alone, then with
``%H:%M`` and ``%H:%M:%S``). The rule: the column is a datetime when the formats that read
every non-blank value agree on every date, and its format is the first of them. When two
of them read some value as different dates (``03/04/2016``: March 4th month first, April
3rd day first, and no day above 12 in the column to tell), the column is ambiguous: it is
not declared a datetime (it keeps the kind its values give, as before), and ``nbprod new``
notes which formats disagree, in its output and beside the column in ``columns.yaml``, so
that she declares the one she means (:class:`Ambiguous`). A day above 12 settles it:
``4/29/17`` is month first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.dates import as_datetimes

__all__ = ["DATES", "FORMATS", "Ambiguous", "ambiguity", "date_format"]

#: the ways of writing a date tried, month first before day first
DATES = ("%m/%d/%Y", "%m/%d/%y", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y",
         "%b %d, %Y")
#: each date alone, then with a time of day
FORMATS = tuple(f"{d}{t}" for d in DATES for t in ("", " %H:%M", " %H:%M:%S"))
#: the first values each format is tried on before the whole column
_HEAD = 50


@dataclass(frozen=True)
class Ambiguous:
    """Formats that read every value of a column, some of them as different dates."""

    formats: tuple[str, ...]

    @property
    def note(self) -> str:
        """Why the column is not a datetime, and what to do."""
        return (f"dates readable as {' or '.join(self.formats)} (no day above 12 tells "
                "which), so not a datetime: declare kind: datetime with the format you mean")


def _reads_all(values: pd.Series, fmt: str) -> pd.Series | None:
    """``values`` read in ``fmt`` when every one of them is, else None."""
    if as_datetimes(values.head(_HEAD), fmt).isna().any():
        return None
    parsed = as_datetimes(values, fmt)
    return None if parsed.isna().any() else parsed


def date_format(values: pd.Series) -> str | Ambiguous | None:
    """The format of a column of text dates (``values`` without blanks), :class:`Ambiguous`
    when the formats that read it disagree on a date, None when it is not dates in one of
    :data:`FORMATS`."""
    if values.empty or not pd.api.types.is_string_dtype(values):
        return None
    if not values.head(_HEAD).astype(str).str.contains(r"\d").all():  # every format has digits
        return None
    readings = {fmt: parsed for fmt in FORMATS
                if (parsed := _reads_all(values, fmt)) is not None}
    if not readings:
        return None
    first, *others = readings
    rivals = tuple(f for f in others if not readings[f].equals(readings[first]))
    return Ambiguous((first, *rivals)) if rivals else first


def ambiguity(values: pd.Series) -> str | None:
    """The note on a column of text dates whose formats disagree (:class:`Ambiguous`),
    else None."""
    found = date_format(values.dropna())
    return found.note if isinstance(found, Ambiguous) else None
