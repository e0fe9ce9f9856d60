"""Validation of a raw frame against its declared table: every broken rule once, named."""

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from nbprod import DataValidationError
from nbprod.data.validation import compact, validate


def broken(df, table, rules=()) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        validate(df, table, rules, source="loans.csv")
    return info.value


def test_a_good_frame_is_renamed_typed_and_its_id_dropped(loan_table, loan_frame):
    out = validate(loan_frame(10), loan_table)
    assert list(out.columns) == ["age", "income", "home", "grade", "has_guarantor", "status"]
    assert out["age"].dtype == "int64" and out["income"].dtype == "float64"
    assert out["income"].isna().sum() == 2 and out["home"].isna().sum() == 1


def test_integer_coded_categories_read_as_floats_pass(loan_table, loan_frame):
    df = loan_frame(8)
    df["grade"] = df["grade"].astype("float64")
    df.loc[0, "grade"] = np.nan
    (f,) = broken(df, loan_table).failures  # a blank grade is not allowed...
    assert (f["column"], f["rule"], list(f["rows"])) == ("grade", "not_nullable", [0])
    df.loc[0, "grade"] = 2.0  # ...a float that is an integer category is
    assert validate(df, loan_table)["grade"].tolist()[0] == 2


def test_unknown_category_and_range_name_column_value_and_row(loan_table, loan_frame):
    df = loan_frame(6)
    df.loc[2, "home"] = "boat"
    df.loc[4, "Age"] = 7
    df.loc[1, "grade"] = 9
    err = broken(df, loan_table)
    found = {f["column"]: f for f in err.failures}
    assert found["home"]["rows"] == {2: "boat"} and "isin" in found["home"]["rule"]
    assert found["age"]["rows"] == {4: 7} and "in_range" in found["age"]["rule"]
    assert found["grade"]["rows"] == {1: 9}
    assert "row 2: 'boat'" in str(err) and "loans.csv" in str(err)


def test_missing_and_unexpected_columns_are_named(loan_table, loan_frame):
    df = loan_frame().drop(columns=["Age"])
    df["surprise"] = 1
    err = broken(df, loan_table)
    assert {(f["column"], f["rule"]) for f in err.failures} == {
        ("age", "missing_column"), ("surprise", "unexpected_column")}


def test_a_rule_across_columns_is_counted_once(loan_table, loan_frame):
    def guarantor_when_young(df: pd.DataFrame) -> pd.Series:
        return (df["age"] >= 25) | (df["has_guarantor"] == 1)

    df = loan_frame(12)
    df["has_guarantor"] = 0
    rule = pa.Check(guarantor_when_young, name="guarantor_when_young")
    err = broken(df, loan_table, [rule])
    (f,) = err.failures
    young = int((df["Age"] < 25).sum())
    assert (f["column"], f["rule"], f["count"]) == ("<table>", "guarantor_when_young", young)
    assert "1 schema rule(s) broken" in str(err)
    assert "the table breaks guarantor_when_young" in str(err)


def test_non_numeric_value_reports_only_the_conversion(loan_table, loan_frame):
    df = loan_frame().astype({"Annual Income": object})
    df.loc[1, "Annual Income"] = "lots"
    (f,) = broken(df, loan_table).failures
    assert f["column"] == "income" and f["rule"].startswith("coerce_dtype")


def test_header_only_and_blank_target(loan_table, loan_frame):
    assert any("at_least_one_row" in f["rule"] for f in broken(loan_frame().iloc[:0], loan_table).failures)
    df = loan_frame()
    df.loc[0, "status"] = None
    assert broken(df, loan_table).failures[0]["column"] == "status"


def test_compact_keeps_values_and_shrinks_dtypes(loan_table, loan_frame):
    out = validate(loan_frame(20), loan_table)
    small = compact(out, loan_table)
    assert small["home"].dtype == "category" and list(small["home"].cat.categories) == ["own", "rent", "other"]
    assert list(small["grade"].cat.categories) == [1, 2, 3]
    assert small["has_guarantor"].dtype == "int8" and small["age"].dtype == "int32"
    assert small["grade"].astype(int).tolist() == out["grade"].astype(int).tolist()
    assert small["home"].isna().sum() == out["home"].isna().sum()
