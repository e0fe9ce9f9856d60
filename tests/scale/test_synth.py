"""The synthetic data generator: valid, consistent, seeded, written in chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import churn
from nbprod import ConfigError
from nbprod.data import synth
from nbprod.data.files import read_table
from nbprod.data.validation import compact, validate
from projectkit import TABLE


def test_rows_pass_the_declared_table_and_keep_the_dependencies(real):
    rows = synth.synthesize(real, TABLE, 30_000, np.random.default_rng(0))
    validate(rows, TABLE, churn.RULES, source="synthetic")
    no_internet = rows["internet_service"] == "No"
    for col in ("online_security", "streaming_tv", "tech_support"):
        assert ((rows[col] == "No internet service") == no_internet).all(), col
    assert ((rows["multiple_lines"] == "No phone service") == (rows["phone_service"] == 0)).all()
    # a new customer (tenure 0, never billed) stays new: multiplicative noise keeps 0 at 0
    assert (rows.loc[rows["tenure"] == 0, "total_charges"] == 0.0).all()


def test_numbers_move_within_the_declared_range_and_the_mix_stays_real(real):
    rows = synth.synthesize(real, TABLE, 50_000, np.random.default_rng(1))
    assert rows["monthly_charges"].nunique() > real["monthly_charges"].nunique()  # not a copy
    assert rows["tenure"].between(0, 120).all() and rows["tenure"].dtype == "int64"
    assert ((rows["tenure"] == 0).mean()) == pytest.approx((real["tenure"] == 0).mean(), abs=0.002)
    for col in ("churn", "contract", "internet_service"):
        shares = rows[col].astype(str).value_counts(normalize=True)
        expected = real[col].astype(str).value_counts(normalize=True)
        assert (shares - expected).abs().max() < 0.02, col
    assert abs(rows["tenure"].mean() - real["tenure"].mean()) < 1.0
    by_contract = rows.groupby("contract", observed=True)["churn"].apply(lambda s: (s == "Yes").mean())
    assert by_contract["Month-to-month"] > 3 * by_contract["Two year"]


def test_same_seed_same_file_and_chunks_add_up(real, tmp_path):
    a = synth.write(real, TABLE, tmp_path / "a.parquet", 12_345, seed=7, chunk_rows=5_000)
    b = synth.write(real, TABLE, tmp_path / "b.parquet", 12_345, seed=7, chunk_rows=5_000)
    c = synth.write(real, TABLE, tmp_path / "c.parquet", 12_345, seed=8, chunk_rows=5_000)
    fa, fb, fc = (pd.read_parquet(p) for p in (a, b, c))
    assert len(fa) == 12_345 and list(fa.columns) == TABLE.names
    pd.testing.assert_frame_equal(fa, fb)
    assert not fa.equals(fc)
    sizes = []
    synth.write(real, TABLE, tmp_path / "d.csv.gz", 12_345, seed=7, chunk_rows=5_000,
                progress=sizes.append)
    assert sizes == [5_000, 5_000, 2_345]
    # the CSV holds the same rows, and the pipeline's reader takes both formats
    from_csv = validate(read_table(tmp_path / "d.csv.gz"), TABLE)
    from_parquet = validate(read_table(a), TABLE)
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda frame, tmp: synth.write(frame, TABLE, tmp / "x.txt", 10), "unknown output format"),
        (lambda frame, tmp: synth.write(frame, TABLE, tmp / "x.csv", 0), "must be positive"),
        (lambda frame, tmp: synth.write(frame.iloc[:0], TABLE, tmp / "x.csv", 5), "empty frame"),
        (lambda frame, tmp: synth.write(frame, TABLE, tmp / "x.csv", 5, chunk_rows=0), "chunk_rows"),
    ],
)
def test_bad_requests_are_config_errors(real, tmp_path, call, message):
    with pytest.raises(ConfigError, match=message):
        call(real, tmp_path)


def test_compact_dtypes_keep_every_value(real):
    small = compact(real, TABLE)
    assert small.memory_usage(deep=True).sum() < real.memory_usage(deep=True).sum() / 4
    assert small["contract"].dtype == "category" and small["female"].dtype == "int8"
    assert list(small["contract"].cat.categories) == list(TABLE.column("contract").categories)
    pd.testing.assert_frame_equal(
        small.astype({c: str for c in small.select_dtypes("category")}),
        real.astype({c: str for c in small.select_dtypes("category")}),
        check_dtype=False,
    )
