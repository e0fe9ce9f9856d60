import gzip

import numpy as np
import pandas as pd
import pytest

from churn import data
from churn.features import features, split, target
from nbprod import DataFileError


def test_read_raw_csv_gz_and_parquet_agree(tmp_path, make_frame):
    df = make_frame()
    df.to_csv(tmp_path / "a.csv.gz", index=False)
    df.to_parquet(tmp_path / "a.parquet", index=False)
    a = data.read_raw(tmp_path / "a.csv.gz")
    b = data.read_raw(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_read_raw_reads_only_the_columns_asked(tmp_path, make_frame):
    make_frame().to_parquet(tmp_path / "a.parquet", index=False)
    assert list(data.read_raw(tmp_path / "a.parquet", columns=["tenure"]).columns) == ["tenure"]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataFileError, match="nope.csv: no such file"):
        data.read_raw(tmp_path / "nope.csv")


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.csv.gz"
    with gzip.open(path, "wb"):
        pass
    with pytest.raises(DataFileError, match="empty"):
        data.read_raw(path)


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataFileError, match="bad.csv.gz: cannot be parsed"):
        data.read_raw(path)


def test_clean_fills_total_charges_only_for_new_customers(make_frame):
    df = make_frame()
    df.loc[0, ["tenure", "total_charges"]] = [0, np.nan]
    out = data.clean(df)
    assert out.loc[0, "total_charges"] == 0.0
    assert out["total_charges"].notna().all()
    assert df.loc[0, "total_charges"] != df.loc[0, "total_charges"]  # input left untouched
    pd.testing.assert_series_equal(out["total_charges"].iloc[1:], df["total_charges"].iloc[1:])


def test_stratified_sample_keeps_the_churn_rate(make_frame):
    df = pd.concat([make_frame(40)] * 5, ignore_index=True)  # 200 rows, 50% churn
    out = data.stratified_sample(df, 50, seed=1)
    assert len(out) == 50
    assert (out["churn"] == "Yes").mean() == pytest.approx(0.5)
    assert data.stratified_sample(df, None, seed=1) is df
    assert data.stratified_sample(df, 10_000, seed=1) is df
    pd.testing.assert_frame_equal(out, data.stratified_sample(df, 50, seed=1))


def test_stratified_sample_rejects_a_negative_size(make_frame):
    with pytest.raises(ValueError, match="sample_rows"):
        data.stratified_sample(make_frame(), -1, seed=1)


def test_split_is_stratified_and_seeded(make_frame):
    df = pd.concat([make_frame(40)] * 5, ignore_index=True)
    train, test = split(df, test_size=0.2, seed=7)
    assert len(train) == 160 and len(test) == 40
    assert (test["churn"] == "Yes").mean() == pytest.approx(0.5)
    assert not set(train.index) & set(test.index)
    again, _ = split(df, test_size=0.2, seed=7)
    assert list(again.index) == list(train.index)


@pytest.mark.parametrize("size", [0.0, 1.0, 1.5])
def test_split_rejects_a_bad_test_size(size, make_frame):
    with pytest.raises(ValueError, match="test_size"):
        split(make_frame(), test_size=size, seed=1)


def test_target_and_features(make_frame):
    df = make_frame()
    assert target(df).tolist() == [0, 1, 0, 1]
    assert "churn" not in features(df).columns
    assert features(df).shape[1] == 19
