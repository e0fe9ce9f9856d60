"""Her split: which rows are the test set, when she declares it in ``columns.yaml``.

Without a declaration the features step splits at random: ``test_size`` of the rows, drawn
with ``split_seed`` (``env.yaml``; the model's ``seed`` is another parameter), stratified on
the label of a classifier. A project whose rows already say where they belong declares it::

    split: {column: fold}                                # each row's `fold` is train or test
    split: {column: signup_date, test_from: 2024-07-01}  # rows on or after the cut-off: test

``column`` is a declared column (it stays a feature) or a raw column kept for the split
alone (named by its raw header; not a feature, not in the API). A marker column holds
``train`` or ``test`` on every row; a date column ISO dates or timestamps on every row, and
the rows dated on or after ``test_from`` are the test set. ``test_size`` and
``split_seed`` then play no part. Every part is checked with a one-line error naming the
file, the column and the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

TRAIN, TEST = "train", "test"
KEYS = ("column", "test_from")


@dataclass(frozen=True)
class Split:
    """A declared split: the marker ``column`` (train/test), or a date ``column`` and the
    first date of the test set, ``test_from`` (ISO text)."""

    column: str
    test_from: str | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Split:
        """``split:`` of ``columns.yaml`` (``where`` names the file in errors)."""
        if not isinstance(data, dict) or "column" not in data:
            raise ConfigError(f"{where}: split must be a mapping with a column, e.g. "
                              "{column: fold} or {column: signup_date, test_from: 2024-07-01}")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ConfigError(f"{where}: split: unknown key(s) {unknown}; valid: {list(KEYS)}")
        column = data["column"]
        if not isinstance(column, str) or not column.strip():
            raise ConfigError(f"{where}: split.column must be a column's name, got {column!r}")
        cut = data.get("test_from")
        if cut is None:
            return cls(column)
        text = cut.isoformat() if isinstance(cut, date) else cut
        if not isinstance(text, str) or when(pd.Series([text])).isna().any():
            raise ConfigError(f"{where}: split.test_from {cut!r} is not an ISO date or "
                              "timestamp (e.g. 2024-07-01)")
        return cls(column, text)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, **({"test_from": self.test_from} if self.test_from else {})}

    def describe(self) -> str:
        if self.test_from is None:
            return f"the column {self.column!r} (train or test)"
        return f"{self.column!r} from {self.test_from}"

    def test_rows(self, df: pd.DataFrame, where: str = "data") -> np.ndarray:
        """Which rows of ``df`` are the test set (True), in their order; a
        :class:`ConfigError` naming the column and the rows that cannot be placed."""
        if self.column not in df.columns:
            raise ConfigError(f"{where}: the split column {self.column!r} is not in the data; "
                              f"its columns: {[str(c) for c in df.columns]}")
        values = df[self.column]
        if self.test_from is None:
            marks = values.astype("string").str.strip()
            bad = ~marks.isin([TRAIN, TEST]).fillna(False).to_numpy(dtype=bool)
            _refuse(values, bad, f"{where}: split column {self.column!r}", "neither train nor test")
            return (marks == TEST).to_numpy(dtype=bool)
        dates = when(values)
        bad = dates.isna().to_numpy(dtype=bool)
        _refuse(values, bad, f"{where}: split column {self.column!r}",
                "not ISO dates or timestamps")
        cut = pd.Timestamp(self.test_from)
        zone = getattr(dates.dt, "tz", None)
        if zone is not None and cut.tz is None:
            cut = cut.tz_localize(zone)
        elif zone is None and cut.tz is not None:
            cut = cut.tz_convert(None)
        return (dates >= cut).to_numpy(dtype=bool)


def when(values: pd.Series) -> pd.Series:
    """ISO dates or timestamps as datetimes (NaT where a value is not one)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values.astype("object"), errors="coerce", format="ISO8601")


def _refuse(values: pd.Series, bad: np.ndarray, what: str, why: str) -> None:
    if bad.any():
        rows = [int(i) if isinstance(i, int | np.integer) else str(i)
                for i in values.index[bad][:5]]
        shown = sorted({str(v) for v in values[bad].head(5)})
        raise ConfigError(f"{what}: {int(bad.sum())} row(s) are {why} (row(s) {rows}: "
                          f"{shown}); every row must say where it belongs")
