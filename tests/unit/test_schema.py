from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn import data, schema
from nbprod import DataValidationError

RAW = schema.COLUMNS


def broken(df: pd.DataFrame) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        schema.validate(df, source="raw.csv")
    return info.value


def test_a_good_frame_passes_with_declared_dtypes(frame, make_frame):
    out = schema.validate(make_frame())
    assert out["tenure"].dtype == "int64"
    assert out["monthly_charges"].dtype == "float64"
    assert len(out) == 4


def test_the_shipped_file_passes():
    df = data.read_raw(Path(__file__).resolve().parents[2] / "data/raw/telco_churn.csv.gz")
    out = schema.validate(df)
    assert len(out) == 7043
    assert out["total_charges"].isna().sum() == 11


def test_missing_column_is_named(make_frame):
    err = broken(make_frame().drop(columns=["contract"]))
    assert any(f["rule"] == "missing_column" and f["column"] == "contract"
               for f in err.failures), err.failures
    assert "contract" in str(err)


def test_extra_column_is_rejected(make_frame):
    df = make_frame()
    df["surprise"] = 1
    err = broken(df)
    assert [(f["column"], f["rule"]) for f in err.failures] == [("surprise", "unexpected_column")]


def test_unknown_category_names_column_value_and_row(make_frame):
    df = make_frame()
    df.loc[2, "contract"] = "Three year"
    err = broken(df)
    (f,) = err.failures
    assert f["column"] == "contract"
    assert "isin" in f["rule"]
    assert f["rows"] == {2: "Three year"}
    assert "row 2: 'Three year'" in str(err)


def test_non_numeric_value_in_numeric_column(make_frame):
    df = make_frame()
    df["monthly_charges"] = df["monthly_charges"].astype(object)
    df.loc[1, "monthly_charges"] = "fifty"
    err = broken(df)
    (f,) = err.failures  # the follow-on dtype and range failures are not repeated
    assert f["column"] == "monthly_charges"
    assert f["rule"].startswith("coerce_dtype")
    assert f["rows"] == {1: "fifty"}


def test_out_of_range_value(make_frame):
    df = make_frame()
    df.loc[0, "tenure"] = -3
    err = broken(df)
    f = next(f for f in err.failures if f["column"] == "tenure")
    assert "in_range" in f["rule"]
    assert f["rows"] == {0: -3}


def test_binary_column_only_takes_0_and_1(make_frame):
    df = make_frame()
    df.loc[3, "partner"] = 2
    err = broken(df)
    assert err.failures[0]["column"] == "partner"


def test_blank_total_charges_allowed_only_for_tenure_0(make_frame):
    df = make_frame()
    df.loc[0, ["tenure", "total_charges"]] = [0, np.nan]
    schema.validate(df)  # a new customer: allowed
    df.loc[1, "total_charges"] = np.nan  # tenure 6: not allowed
    err = broken(df)
    assert any("total_charges_missing_only_when_tenure_is_0" in f["rule"] for f in err.failures)


def test_blank_label_is_rejected(make_frame):
    df = make_frame()
    df.loc[0, "churn"] = None
    err = broken(df)
    assert err.failures[0]["column"] == "churn"


def test_header_only_file_breaks_the_row_count_rule(make_frame):
    err = broken(make_frame().iloc[0:0])
    assert any("at_least_one_row" in f["rule"] for f in err.failures)


def test_every_problem_is_reported_in_one_error(make_frame):
    df = make_frame()
    df.loc[0, "contract"] = "Never"
    df.loc[1, "tenure"] = 999
    df = df.drop(columns=["streaming_tv"])
    err = broken(df)
    columns = {f["column"] for f in err.failures}
    assert {"contract", "tenure"} <= columns
    assert "streaming_tv" in str(err)


def test_features_are_every_column_but_the_target():
    assert schema.TARGET not in schema.FEATURES
    assert len(schema.FEATURES) == len(RAW) - 1
