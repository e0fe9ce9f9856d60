"""Her split: which rows are the test set, when she declares it in ``columns.yaml``.

Without a declaration the features step splits at random: ``test_size`` of the rows, drawn
with ``split_seed`` (``env.yaml``; the model's ``seed`` is another parameter), stratified on
the label of a classifier. A project whose rows already say where they belong declares it::

    split: {column: fold}                                # each row's `fold` is train or test
    split: {column: signup_date, test_from: 2024-07-01}  # rows on or after the cut-off: test
    split: {group: customer_id, test_size: 0.2}          # a customer's rows on one side only
    split: {function: "credit.splits:by_branch"}         # her own function, in her package

``column`` (or ``group``) is a declared column (it stays a feature) or a raw column kept
for the split alone (named by its raw header; not a feature, not in the API). A marker
column holds ``train`` or ``test`` on every row; a date column ISO dates or timestamps on
every row, and the rows dated on or after ``test_from`` are the test set. A group column
puts about ``test_size`` of its groups (``test_size`` of ``env.yaml`` when not declared)
in the test set, drawn with ``split_seed``, so no group has rows on both sides. Her
function takes the validated frame (and ``seed``, the ``split_seed``, when it has such a
parameter) and returns the test rows as booleans, one per row, or the ``(train, test)``
frames. Every part is checked with a one-line error naming the file, the column or the
function, and the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .dates import as_datetimes, expected

TRAIN, TEST = "train", "test"
KEYS = ("column", "test_from", "group", "test_size", "function")
#: the keys one of which says how the rows are placed
HOW = ("column", "group", "function")
EXAMPLES = ("{column: fold}, {column: signup_date, test_from: 2024-07-01}, "
            "{group: customer_id, test_size: 0.2} or {function: 'mypackage.splits:my_split'}")


@dataclass(frozen=True)
class Split:
    """A declared split: the marker ``column`` (train/test), a date ``column`` and the first
    date of the test set, ``test_from`` (ISO text), a ``group`` column (and its
    ``test_size``), or her ``function`` (``module:function``)."""

    column: str | None = None
    test_from: str | None = None
    group: str | None = None
    test_size: float | None = None
    function: str | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Split:
        """``split:`` of ``columns.yaml`` (``where`` names the file in errors)."""
        if not isinstance(data, dict) or sum(k in data for k in HOW) != 1:
            raise ConfigError(f"{where}: split must be a mapping with one of column, group or "
                              f"function, e.g. {EXAMPLES}")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ConfigError(f"{where}: split: unknown key(s) {unknown}; valid: {list(KEYS)}")
        how = next(k for k in HOW if k in data)
        extra = sorted(set(data) - {how, {"column": "test_from", "group": "test_size"}.get(how)})
        if extra:
            raise ConfigError(f"{where}: split: {extra} do not go with split.{how}")
        name = data[how]
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: split.{how} must be a column's name, got {name!r}"
                              if how != "function" else
                              f"{where}: split.function must be 'module:function', got {name!r}")
        if how == "function":
            if name.count(":") != 1 or not all(name.split(":")):
                raise ConfigError(f"{where}: split.function must be 'module:function' (a "
                                  f"function of your package), got {name!r}")
            return cls(function=name)
        if how == "group":
            return cls(group=name, test_size=_share(data.get("test_size"), where))
        cut = data.get("test_from")
        if cut is None:
            return cls(name)
        text = cut.isoformat() if isinstance(cut, date) else cut
        if not isinstance(text, str) or when(pd.Series([text])).isna().any():
            raise ConfigError(f"{where}: split.test_from {cut!r} is not an ISO date or "
                              "timestamp (e.g. 2024-07-01)")
        return cls(name, text)

    @property
    def needs(self) -> str | None:
        """The column the split reads (None for her function)."""
        return self.column or self.group

    def to_dict(self) -> dict[str, Any]:
        out = {"column": self.column, "test_from": self.test_from, "group": self.group,
               "test_size": self.test_size, "function": self.function}
        return {k: v for k, v in out.items() if v is not None}

    def describe(self) -> str:
        if self.function is not None:
            return f"the function {self.function}"
        if self.group is not None:
            return f"the groups of {self.group!r}"
        if self.test_from is None:
            return f"the column {self.column!r} (train or test)"
        return f"{self.column!r} from {self.test_from}"

    def test_rows(self, df: pd.DataFrame, where: str = "data", test_size: float = 0.2,
                  seed: int = 0, fmt: str | None = None) -> np.ndarray:
        """Which rows of ``df`` are the test set (True), in their order; a
        :class:`ConfigError` naming the column (or the function) and the rows that cannot
        be placed. ``test_size`` and ``seed`` (the split's) serve a group split without its
        own ``test_size``, and her function; ``fmt`` is the date column's declared format
        (None: ISO), the cut-off being ISO whatever it is."""
        if self.function is not None:
            from .split_function import call_split

            return call_split(self.function, df, seed, where)
        assert self.needs is not None
        if self.needs not in df.columns:
            raise ConfigError(f"{where}: the split column {self.needs!r} is not in the data; "
                              f"its columns: {[str(c) for c in df.columns]}")
        values = df[self.needs]
        if self.group is not None:
            return group_rows(values, self.test_size or test_size, seed, where)
        if self.test_from is None:
            marks = values.astype("string").str.strip()
            bad = ~marks.isin([TRAIN, TEST]).fillna(False).to_numpy(dtype=bool)
            _refuse(values, bad, f"{where}: split column {self.needs!r}", "neither train nor test")
            return (marks == TEST).to_numpy(dtype=bool)
        dates = when(values, fmt)
        bad = dates.isna().to_numpy(dtype=bool)
        _refuse(values, bad, f"{where}: split column {self.needs!r}", f"not {expected(fmt)}")
        return (dates >= when(pd.Series([self.test_from])).iloc[0]).to_numpy(dtype=bool)


def _share(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigError(f"{where}: split.test_size must be a share of the groups between 0 "
                          f"and 1 (e.g. 0.2), got {value!r}")
    return float(value)


def group_rows(groups: pd.Series, test_size: float, seed: int, where: str) -> np.ndarray:
    """The rows of about ``test_size`` of the groups, drawn with ``seed``: every row of a
    group on the same side (scikit-learn's ``GroupShuffleSplit``)."""
    from sklearn.model_selection import GroupShuffleSplit

    what = f"{where}: split group {groups.name!r}"
    _refuse(groups, groups.isna().to_numpy(dtype=bool), what, "blank")
    if groups.nunique() < 2:
        raise ConfigError(f"{what}: {groups.nunique()} group(s); a group split needs at "
                          "least two, one for each side")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    _, chosen = next(splitter.split(np.zeros(len(groups)), groups=groups.astype(str)))
    out = np.zeros(len(groups), dtype=bool)
    out[chosen] = True
    return out


def when(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """Dates in ``fmt`` (None: ISO) as instants in UTC (NaT where a value is not one)."""
    return as_datetimes(values, fmt)


def _refuse(values: pd.Series, bad: np.ndarray, what: str, why: str) -> None:
    if bad.any():
        rows = [int(i) if isinstance(i, int | np.integer) else str(i)
                for i in values.index[bad][:5]]
        shown = sorted({str(v) for v in values[bad].head(5)})
        raise ConfigError(f"{what}: {int(bad.sum())} row(s) are {why} (row(s) {rows}: "
                          f"{shown}); every row must say where it belongs")
