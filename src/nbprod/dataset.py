"""The model's inputs and label from a validated frame, the train/test split and samples."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from .columns import ColumnTable
from .errors import ConfigError


def target(df: pd.DataFrame, table: ColumnTable) -> pd.Series:
    """The label as 0/1: 1 where the target is the positive class."""
    return (df[table.target] == table.positive).astype("int64").rename(table.target)


def features(df: pd.DataFrame, table: ColumnTable) -> pd.DataFrame:
    """The model's input columns, in the declared order."""
    return df[table.features]


def split(
    df: pd.DataFrame, table: ColumnTable, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A train/test split stratified on the label (rows keep their order)."""
    if not 0.0 < test_size < 1.0:
        raise ConfigError(f"test_size must be between 0 and 1, got {test_size}")
    label = target(df, table)
    counts = label.value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise ConfigError(
            f"cannot split {len(df)} row(s): the target {table.target!r} needs at least two "
            f"rows of each class, has {counts.to_dict()}"
        )
    train, test = train_test_split(df, test_size=test_size, random_state=seed, stratify=label)
    return train.sort_index(), test.sort_index()


def stratified_sample(
    df: pd.DataFrame, table: ColumnTable, n: int | None, seed: int
) -> pd.DataFrame:
    """``n`` rows keeping the positive rate (all rows when ``n`` is None or too large)."""
    if n is None or n >= len(df):
        return df
    if n <= 0:
        raise ConfigError(f"sample_rows must be positive or 0 (every row), got {n}")
    frac = n / len(df)
    out = df.groupby(target(df, table), group_keys=False).sample(frac=frac, random_state=seed)
    return out.sort_index()
