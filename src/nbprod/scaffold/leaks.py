"""Columns that give the answer away: a feature the target can be read from exactly.

A file often carries the target twice (Titanic's ``alive`` beside ``survived``, a
``status_text`` beside ``status``) or a column written after the outcome was known. A model
trained on it scores perfectly held out and is useless in service, where that column does not
exist yet. ``nbprod new`` leaves such a column out and says why; put it back in
``columns.yaml`` if it is truly known at prediction time.
"""

from __future__ import annotations

import pandas as pd

#: a column with more distinct values than this is not checked for an exact class mapping
#: (with one value per row, any column "determines" the target)
MAX_VALUES = 50
#: a numeric column this correlated with a numeric target is its copy, up to units
MAX_CORRELATION = 0.999


def target_leak(values: pd.Series, target: pd.Series, classifier: bool) -> str | None:
    """Why ``values`` gives ``target`` away, or None. Rows with a blank target are ignored."""
    known = target.notna()
    values, target = values[known], target[known]
    if len(values) < 10 or values.isna().all():
        return None
    if values.astype(str).equals(target.astype(str)):
        return "a copy of the target (a leak: the model would read the answer)"
    if classifier:
        distinct = values.nunique(dropna=False)
        if 1 < distinct <= MAX_VALUES and distinct < len(values) / 2:
            per_value = target.groupby(values.astype(str), dropna=False).nunique()
            if (per_value == 1).all():
                return (f"each of its {distinct} values goes with one target class "
                        "(a leak: the model would read the answer)")
        return None
    x = pd.to_numeric(values, errors="coerce")
    y = pd.to_numeric(target, errors="coerce")
    both = x.notna() & y.notna()
    if both.sum() >= 10 and x[both].nunique() > 1 and y[both].nunique() > 1:
        r = float(x[both].corr(y[both]))
        if abs(r) >= MAX_CORRELATION:
            return f"correlation {r:+.4f} with the target (a leak: a copy of it)"
    return None
