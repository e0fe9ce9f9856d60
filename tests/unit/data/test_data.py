"""Reading raw files, and the model's inputs, label, split and samples from a frame."""

import gzip

import pandas as pd
import pytest

from nbprod import ConfigError, DataFileError
from nbprod.data.dataset import features, split, stratified_sample, target
from nbprod.data.files import read_table
from nbprod.data.validation import validate
from nbprod.errors import TargetError


def test_csv_gz_and_parquet_agree(tmp_path, loan_frame):
    df = loan_frame()
    df.to_csv(tmp_path / "a.csv.gz", index=False)
    df.to_parquet(tmp_path / "a.parquet", index=False)
    a, b = read_table(tmp_path / "a.csv.gz"), read_table(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert list(read_table(tmp_path / "a.parquet", columns=["Age"]).columns) == ["Age"]


def test_missing_empty_corrupt_and_unknown_files_are_named(tmp_path):
    with pytest.raises(DataFileError, match="nope.csv: no such file"):
        read_table(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv.gz"
    with gzip.open(empty, "wb"):
        pass
    with pytest.raises(DataFileError, match="empty"):
        read_table(empty)
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataFileError, match="bad.csv.gz: cannot be parsed"):
        read_table(bad)
    (tmp_path / "a.xlsx").write_bytes(b"x")
    with pytest.raises(DataFileError, match="unknown format"):
        read_table(tmp_path / "a.xlsx")


@pytest.fixture
def loans(loan_table, loan_frame):
    return validate(loan_frame(200), loan_table)


def test_target_is_1_for_the_positive_class_and_features_follow_the_table(loans, loan_table):
    assert target(loans, loan_table).tolist()[:4] == [0, 1, 0, 1]
    assert list(features(loans, loan_table).columns) == loan_table.features


def test_a_0_1_target_works_the_same(loan_table, loans):
    from dataclasses import replace

    from nbprod.data.columns import Column

    numeric = replace(loan_table, columns=tuple(
        Column("status", "categorical", (0, 1)) if c.name == "status" else c
        for c in loan_table.columns), positive=1)
    frame = loans.assign(status=(loans["status"] == "bad").astype(int))
    assert target(frame, numeric).tolist() == target(loans, loan_table).tolist()
    assert numeric.classes == ["0", "1"]


def test_split_is_stratified_and_seeded(loans, loan_table):
    train, test = split(loans, loan_table, test_size=0.2, seed=7)
    assert len(train) == 160 and len(test) == 40
    assert target(test, loan_table).mean() == pytest.approx(0.5)
    assert not set(train.index) & set(test.index)
    again, _ = split(loans, loan_table, test_size=0.2, seed=7)
    assert list(again.index) == list(train.index)


@pytest.mark.parametrize("size", [0.0, 1.0, 1.5])
def test_split_rejects_a_bad_test_size(size, loans, loan_table):
    with pytest.raises(ConfigError, match="test_size"):
        split(loans, loan_table, test_size=size, seed=1)


def test_split_of_a_single_class_says_why(loans, loan_table):
    with pytest.raises(TargetError, match="target 'status' has one value only"):
        split(loans[loans["status"] == "good"], loan_table, test_size=0.2, seed=1)
    one_bad = pd.concat([loans[loans["status"] == "good"], loans[loans["status"] == "bad"].head(1)])
    with pytest.raises(ConfigError, match="at least two rows of each class"):
        split(one_bad, loan_table, test_size=0.2, seed=1)


def test_stratified_sample_keeps_the_positive_rate(loans, loan_table):
    out = stratified_sample(loans, loan_table, 50, seed=1)
    assert len(out) == 50 and target(out, loan_table).mean() == pytest.approx(0.5)
    assert stratified_sample(loans, loan_table, None, seed=1) is loans
    assert stratified_sample(loans, loan_table, 10_000, seed=1) is loans
    pd.testing.assert_frame_equal(out, stratified_sample(loans, loan_table, 50, seed=1))
    with pytest.raises(ConfigError, match="sample_rows"):
        stratified_sample(loans, loan_table, -1, seed=1)
