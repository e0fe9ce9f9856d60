"""A column the target can be read from is left out by `nbprod new`, with the reason."""

import numpy as np
import pandas as pd

from nbprod.scaffold.infer import infer_table
from nbprod.scaffold.leaks import target_leak


def _frame(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    survived = rng.integers(0, 2, rows)
    return pd.DataFrame({
        "survived": survived,
        "alive": np.where(survived == 1, "yes", "no"),  # the target again, as words
        "sex": rng.choice(["female", "male"], rows),
        "fare": rng.gamma(2.0, 15.0, rows).round(2),
    })


def test_a_relabelled_copy_of_the_target_is_left_out_and_the_honest_columns_stay():
    inferred = infer_table(_frame(), "survived")
    assert "alive" not in inferred.columns
    assert "leak" in inferred.dropped["alive"] and "2 values" in inferred.dropped["alive"]
    assert {"sex", "fare"} <= set(inferred.columns)


def test_a_column_that_only_mostly_agrees_with_the_target_is_no_leak():
    df = _frame()
    df.loc[df.index[:3], "alive"] = np.where(df["survived"][:3] == 1, "no", "yes")
    assert target_leak(df["alive"], df["survived"], classifier=True) is None


def test_a_unique_per_row_column_is_not_called_a_leak():
    df = _frame()
    assert target_leak(df["fare"], df["survived"], classifier=True) is None


def test_a_rescaled_copy_of_a_numeric_target_is_a_leak_for_a_regressor():
    rng = np.random.default_rng(1)
    amount = pd.Series(rng.gamma(2.0, 100.0, 300))
    assert "correlation +1.0000" in target_leak(amount * 100 + 5, amount, classifier=False)
    noisy = amount + rng.normal(0, 60, 300)
    assert target_leak(noisy, amount, classifier=False) is None
