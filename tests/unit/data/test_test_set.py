"""The held-out rows' fingerprint (:mod:`nbprod.data.test_set`): it changes with any row,
value, column or row number, and keeps no value."""

import numpy as np
import pandas as pd

from nbprod.data.test_set import describe, fingerprint


def rows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"amount": rng.normal(size=50), "city": ["Lyon", "Oslo"] * 25},
                        index=rng.permutation(200)[:50])


def test_the_same_rows_give_the_same_fingerprint(tmp_path):
    frame = rows()
    frame.to_parquet(tmp_path / "test.parquet")
    assert fingerprint(pd.read_parquet(tmp_path / "test.parquet")) == fingerprint(frame)
    assert fingerprint(frame) == {"sha256": fingerprint(frame)["sha256"], "rows": 50, "columns": 2}


def test_any_change_of_rows_values_or_columns_changes_it():
    frame = rows()
    base = fingerprint(frame)["sha256"]
    changed = frame.copy()
    changed.iloc[7, 0] += 1e-9
    variants = [frame.iloc[1:], changed, frame[["city", "amount"]],
                frame.rename(columns={"city": "town"}), frame.set_axis(range(50))]
    prints = [fingerprint(v)["sha256"] for v in variants]
    assert base not in prints and len(set(prints)) == len(prints)


def test_it_keeps_no_value():
    frame = rows()
    text = str(fingerprint(frame)) + describe(fingerprint(frame))
    assert "Lyon" not in text and f"{frame['amount'].iloc[0]:.4f}" not in text
    assert describe(fingerprint(frame)) == f"{fingerprint(frame)['sha256'][:12]} (50 rows)"
    assert describe(None) == "not recorded"
