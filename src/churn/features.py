"""Features, target and the train/test split."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from .schema import FEATURES, TARGET, TARGET_CLASSES


def target(df: pd.DataFrame) -> pd.Series:
    """The label as 0/1 (1 = the customer churned)."""
    return (df[TARGET] == TARGET_CLASSES[1]).astype("int64").rename(TARGET)


def features(df: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, in the declared order."""
    return df[FEATURES]


def split(df: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split on the churn label."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    train, test = train_test_split(
        df, test_size=test_size, random_state=seed, stratify=df[TARGET]
    )
    return train.sort_index(), test.sort_index()
