"""The reference project's domain code (src/churn) and its declared table on the shipped file."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churn
from nbprod import DataValidationError
from nbprod.data.columns import ColumnTable
from nbprod.data.files import read_table
from nbprod.data.validation import validate

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data/raw/telco_churn.csv.gz"


@pytest.fixture(scope="module")
def table() -> ColumnTable:
    return ColumnTable.load(ROOT / "columns.yaml")


def rows(n: int = 4) -> pd.DataFrame:
    raw = read_table(RAW)
    return raw[raw["tenure"] > 0].head(n).reset_index(drop=True)


def test_the_shipped_file_keeps_the_declared_table_and_the_rules(table):
    out = validate(read_table(RAW), table, churn.RULES, source=RAW.name)
    assert len(out) == 7043
    assert out["total_charges"].isna().sum() == 11
    assert table.features == [c for c in out.columns if c != "churn"]


def test_blank_total_charges_allowed_only_for_tenure_0(table):
    df = rows()
    df.loc[0, ["tenure", "total_charges"]] = [0, np.nan]
    validate(df, table, churn.RULES)  # a new customer: allowed
    df.loc[1, "total_charges"] = np.nan  # tenure > 0: not allowed
    with pytest.raises(DataValidationError) as info:
        validate(df, table, churn.RULES, source="raw.csv")
    (f,) = info.value.failures
    assert (f["column"], f["rule"], f["count"]) == (
        "<table>", "total_charges_missing_only_when_tenure_is_0", 1)


def test_clean_fills_total_charges_only_for_new_customers():
    df = rows()
    df.loc[0, ["tenure", "total_charges"]] = [0, np.nan]
    out = churn.clean(df)
    assert out.loc[0, "total_charges"] == 0.0
    assert np.isnan(df.loc[0, "total_charges"])  # input left untouched
    pd.testing.assert_series_equal(out["total_charges"].iloc[1:], df["total_charges"].iloc[1:])


def test_clean_gives_back_a_frame_with_nothing_to_fill_as_it_is():
    df = rows()
    assert not (df["total_charges"].isna() & (df["tenure"] == 0)).any()
    out = churn.clean(df)
    pd.testing.assert_frame_equal(out, df)
