"""Broken raw files stop the real build at the ingest task, name the problem,
and register no model."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from projectkit import copy_project, ploomber_build

pytestmark = pytest.mark.pipeline

RAW = "data/raw/telco_churn.csv.gz"


def drop_column(df):
    return df.drop(columns=["contract"])


def unknown_category(df):
    df.loc[7, "payment_method"] = "Bitcoin"
    return df


def non_numeric(df):
    df["monthly_charges"] = df["monthly_charges"].astype(object)
    df.loc[3, "monthly_charges"] = "n/a!"
    return df


def one_valued_target(df):
    df["churn"] = "No"
    return df


def blank_target(df):
    df["churn"] = None
    return df


CASES = {
    "one-valued target": (one_valued_target, [
        "telco_churn.csv.gz: target 'churn' has one value only ('No' on 7043 row(s)): "
        "there is nothing to learn"]),
    "blank target": (blank_target, [
        "telco_churn.csv.gz: target 'churn' is blank on all 7043 row(s)"]),
    "missing column": (drop_column, ["'contract' breaks missing_column"]),
    "unknown category": (unknown_category, ["'payment_method' breaks isin", "row 7: 'Bitcoin'"]),
    "non-numeric value": (non_numeric, ["'monthly_charges' breaks coerce_dtype", "row 3: 'n/a!'"]),
}


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def assert_failed_at_ingest(result, project, expected):
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error when executing task 'ingest'" in out
    for text in expected:
        assert text in out, f"{text!r} not in the build output:\n{out[-3000:]}"
    # the reason is the last thing the build prints, not in the middle of its traceback
    last = "\n".join(result.stderr.rstrip().splitlines()[-6:])
    assert "nbprod: the build failed at 'ingest'" in last, last
    for text in expected:
        assert text in last, f"{text!r} not in the last lines of the build:\n{last}"
    marker = project / "products-smoke/reports/.ingest.ipynb.nbprod-failed"
    assert json.loads(marker.read_text())["task"] == "ingest"  # nbprod plot shows it failed
    assert not (project / "products-smoke/model/registration.json").exists()
    assert not (project / "bentoml-home/models/telco_churn").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_raw_file_fails_validation(case, project):
    breaker, expected = CASES[case]
    raw = project / RAW
    breaker(pd.read_csv(raw)).to_csv(raw, index=False)
    result = ploomber_build(project, project / "bentoml-home")
    assert_failed_at_ingest(result, project, expected)


def test_empty_raw_file(project):
    with gzip.open(project / RAW, "wb"):
        pass
    result = ploomber_build(project, project / "bentoml-home")
    assert_failed_at_ingest(result, project, ["telco_churn.csv.gz: the file is empty"])
