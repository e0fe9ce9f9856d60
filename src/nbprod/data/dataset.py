"""The model's inputs and label from a validated frame, the train/test split and samples.

The label depends on the model kind (:mod:`nbprod.data.model_kinds`): 0/1 for a binary model
(1 where the target is the positive class), the index of the class in the declared order
for a multiclass one (so the columns of ``predict_proba`` follow ``classes``), the value
as a float for a regression. Classifiers split and sample stratified on the label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..errors import ConfigError, TargetError
from .columns import ColumnTable
from .frames import model_frame
from .model_kinds import BINARY, REGRESSION


def target(df: pd.DataFrame, table: ColumnTable) -> pd.Series:
    """The label: 0/1 (binary), the class index (multiclass) or the value (regression)."""
    values = df[table.target]
    if table.kind == BINARY:
        return (values == table.positive).astype("int64").rename(table.target)
    if table.kind == REGRESSION:
        return _numeric_target(values, table)
    codes = {c: i for i, c in enumerate(table.categories)}
    labels = values.astype("object").map(codes)
    unknown = labels.isna()
    if unknown.any():
        rows = list(values.index[unknown][:5])
        raise TargetError(
            f"target {table.target!r}: value(s) {sorted(map(str, values[unknown].unique()))[:5]} "
            f"at row(s) {rows} are not among the declared classes {table.classes}"
        )
    return labels.astype("int64").rename(table.target)


def _numeric_target(values: pd.Series, table: ColumnTable, where: str = "") -> pd.Series:
    numbers = pd.to_numeric(values.astype("object"), errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        shown = ", ".join(f"row {i}: {v!r}" for i, v in list(values[bad].items())[:5])
        raise TargetError(
            f"{where}regression target {table.target!r} has {int(bad.sum())} value(s) that are "
            f"not numbers ({shown}); fix them or declare another kind of model"
        )
    return numbers.astype("float64").rename(table.target)


def features(df: pd.DataFrame, table: ColumnTable) -> pd.DataFrame:
    """The model's input columns, in the declared order, with the dtypes the service gives
    the model too (:func:`nbprod.data.frames.model_frame`)."""
    return model_frame(df, [table.column(name) for name in table.features])


def check_target(df: pd.DataFrame, table: ColumnTable, source: str = "data") -> None:
    """A target the model can learn from, or a :class:`TargetError` in one line: blank on
    every row, one value only, or (regression) values that are not numbers, rows named."""
    where = f"{source}: "
    if table.target not in df.columns or df.empty:
        return  # the column and row checks report it
    values = df[table.target]
    present = values.dropna()
    if isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype) or values.dtype == object:
        present = present[present.astype(str).str.strip() != ""]
    if present.empty:
        raise TargetError(f"{where}target {table.target!r} is blank on all {len(df)} row(s): "
                          "there is nothing to learn")
    if present.nunique() < 2:
        raise TargetError(f"{where}target {table.target!r} has one value only "
                          f"({_plain(present.iloc[0])!r} on {len(present)} row(s)): there is nothing to "
                          "learn; a model needs at least two")
    if table.kind == REGRESSION:
        _numeric_target(present, table, where)


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def split(
    df: pd.DataFrame, table: ColumnTable, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and test rows, each in the order they have in ``df``: her declared split
    (``split:`` in the table, :mod:`nbprod.data.splits`; a group split draws with ``seed``
    and, unless it declares its own, ``test_size``; her function gets ``seed``), else ``test_size`` of the rows at
    random with the split's ``seed``, stratified on the label of a classifier."""
    check_target(df, table)
    label = target(df, table)
    if table.split is not None:
        if table.split.group is not None and table.split.test_size is None:
            _check_share(test_size)
        needs = table.split.needs
        fmt = table.column(needs).format if needs in table.names else None
        is_test = table.split.test_rows(df, table.source, test_size, seed, fmt)
        _check_sides(label[~is_test], label[is_test], table)
        return df[~is_test], df[is_test]
    _check_share(test_size)
    rows = np.arange(len(df))
    if table.kind == REGRESSION:
        if len(df) < 4:
            raise ConfigError(f"cannot split {len(df)} row(s): a regression needs at least 4")
        _, chosen = train_test_split(rows, test_size=test_size, random_state=seed)
    else:
        counts = label.value_counts()
        if len(counts) < 2 or counts.min() < 2:
            raise ConfigError(
                f"cannot split {len(df)} row(s): the target {table.target!r} needs at least two "
                f"rows of each class, has {_named(counts, table)}"
            )
        _, chosen = train_test_split(rows, test_size=test_size, random_state=seed,
                                     stratify=label)
    is_test = np.zeros(len(df), dtype=bool)
    is_test[chosen] = True
    return df[~is_test], df[is_test]


def _check_share(test_size: float) -> None:
    if not 0.0 < test_size < 1.0:
        raise ConfigError(f"test_size must be between 0 and 1, got {test_size}")


def _named(counts: pd.Series, table: ColumnTable) -> dict:
    """Rows per class, by the class's name."""
    return {table.categories[int(k)]: int(v) for k, v in counts.to_dict().items()}


def _check_sides(train: pd.Series, test: pd.Series, table: ColumnTable) -> None:
    """A declared split leaves rows on both sides, and a classifier every class to learn
    (and, binary, both classes to be scored on)."""
    how = f"{table.source}: split on {table.split.describe() if table.split else ''}"
    for side, labels in (("training", train), ("test", test)):
        if labels.empty:
            raise ConfigError(f"{how} leaves no {side} row; move the cut-off or mark rows "
                              f"{'train' if side == 'training' else 'test'}")
    if table.kind == REGRESSION:
        return
    every = set(range(len(table.categories)))
    for side, labels in (("training", train), ("test", test)):
        if side == "test" and table.kind != BINARY:
            continue
        absent = sorted(every - set(labels.unique()))
        if absent:
            names = [table.classes[i] for i in absent]
            raise ConfigError(f"{how}: the {side} rows have no row of class(es) {names} "
                              f"(they have {_named(labels.value_counts(), table)})")


def stratified_sample(
    df: pd.DataFrame, table: ColumnTable, n: int | None, seed: int
) -> pd.DataFrame:
    """``n`` rows keeping the share of each class (a plain random sample for a regression;
    all rows when ``n`` is None or too large)."""
    if n is None or n >= len(df):
        return df
    if n <= 0:
        raise ConfigError(f"sample_rows must be positive or 0 (every row), got {n}")
    frac = n / len(df)
    if table.kind == REGRESSION:
        return df.sample(frac=frac, random_state=seed).sort_index()
    out = df.groupby(target(df, table), group_keys=False).sample(frac=frac, random_state=seed)
    return out.sort_index()


def summary(frames: dict[str, pd.DataFrame], table: ColumnTable) -> pd.DataFrame:
    """Rows and the label's shape per frame: the positive rate (binary), the share of each
    class (multiclass), or mean and std (regression)."""
    out = {}
    for name, frame in frames.items():
        label = target(frame, table)
        row: dict[str, float] = {"rows": len(frame)}
        if table.kind == BINARY:
            row["positive rate"] = label.mean()
        elif table.kind == REGRESSION:
            row.update(mean=label.mean(), std=label.std(ddof=0))
        else:
            shares = label.value_counts(normalize=True)
            row.update({f"share {c}": shares.get(i, 0.0) for i, c in enumerate(table.classes)})
        out[name] = row
    return pd.DataFrame.from_dict(out, orient="index").round(4)
