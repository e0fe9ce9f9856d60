"""Her split (:mod:`nbprod.data.splits`, :func:`nbprod.data.dataset.split`): the random split
by ``split_seed`` as before, each side in the data's own order, and a declared split (a
train/test column, a date column and a cut-off, a group column, her own function), each
mistake refused in one line."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import split, target
from nbprod.data.splits import TRAIN  # noqa: F401 (a name that is not a function, for a test)
from nbprod.data.validation import validate
from nbprod.errors import ConfigError, DataValidationError
from tables import LOAN, loan_rows


def table(**split) -> ColumnTable:
    return ColumnTable.from_dict({**LOAN, **({"split": split} if split else {})},
                                 source="loan.yaml")


def clean(n: int = 40, **extra) -> pd.DataFrame:
    return validate(loan_rows(n).assign(**extra), table(**_split_of(extra)))


def _split_of(extra):
    if "fold" in extra:
        return {"column": "fold"}
    if "Opened On" in extra:
        return {"column": "Opened On", "test_from": "2024-03-01"}
    return {}


def test_the_random_split_is_sklearn_s_stratified_one_in_the_data_s_order(loan_table):
    df = validate(loan_rows(40), loan_table).sample(frac=1.0, random_state=5)  # her order
    train, test = split(df, loan_table, test_size=0.25, seed=3)
    _, expected = train_test_split(df, test_size=0.25, random_state=3,
                                   stratify=target(df, loan_table))
    assert sorted(test.index) == sorted(expected.index)
    positions = {label: i for i, label in enumerate(df.index)}
    for side in (train, test):  # each side keeps the rows' order in the data, not sorted
        assert [positions[i] for i in side.index] == sorted(positions[i] for i in side.index)
    assert not train.index.is_monotonic_increasing
    other = split(df, loan_table, test_size=0.25, seed=4)[1]
    assert sorted(other.index) != sorted(test.index)


def test_a_train_test_column_places_each_row_and_is_no_feature():
    marks = ["test" if i % 5 == 0 else "train" for i in range(40)]
    df = clean(fold=marks)
    assert "fold" in df.columns  # kept through validation for the split
    train, test = split(df, table(column="fold"), test_size=0.2, seed=0)
    assert list(test.index) == [i for i, m in enumerate(marks) if m == "test"]
    assert list(train.index) == [i for i, m in enumerate(marks) if m == "train"]
    assert "fold" not in table(column="fold").features


def test_a_date_cut_off_puts_the_later_rows_in_the_test_set():
    days = pd.date_range("2024-01-01", periods=40, freq="3D")
    df = clean(**{"Opened On": [d.date().isoformat() for d in days]})
    train, test = split(df, table(column="Opened On", test_from="2024-03-01"), 0.2, 0)
    assert list(test.index) == [i for i, d in enumerate(days) if d >= pd.Timestamp("2024-03-01")]
    assert len(train) + len(test) == 40 and len(train) > 0
    # timestamps with a zone, and a cut-off given as a YAML date
    stamps = [d.tz_localize("UTC").isoformat() for d in days]
    zoned = loan_rows(40).assign(when=stamps)
    from datetime import date
    declared = table(column="when", test_from=date(2024, 3, 1))
    _, zoned_test = split(validate(zoned, declared), declared, 0.2, 0)
    assert list(zoned_test.index) == list(test.index)


@pytest.mark.parametrize("spec, message", [
    ({"column": "fold", "every": 2}, "split: unknown key(s) ['every']"),
    ({"column": "Opened On", "test_from": "next spring"}, "split.test_from 'next spring' is not an ISO date"),
    ({"column": "status"}, "split.column 'status' is the target"),
    ({"column": "grade"}, "split.column 'grade' holds train or test: it is not a feature"),
    ({"column": "Loan ID"}, "split.column 'Loan ID' is also under dropped"),
    ({"column": "Age", "test_from": "2024-01-01"}, "'Age' is the raw header of a declared column"),
    ("fold", "split must be a mapping with one of column, group or function"),
    ({"column": "fold", "group": "home"}, "split must be a mapping with one of column"),
    ({"group": "Loan ID", "test_from": "2024-01-01"}, "split: ['test_from'] do not go with split.group"),
    ({"group": "Branch", "test_size": 1.5}, "split.test_size must be a share of the groups"),
    ({"function": "no_colon"}, "split.function must be 'module:function'"),
    ({"group": "status"}, "split.group 'status' is the target"),
])
def test_a_wrong_declaration_is_refused_naming_the_key(spec, message):
    with pytest.raises(ConfigError) as err:
        ColumnTable.from_dict({**LOAN, "split": spec}, source="loan.yaml")
    assert str(err.value).startswith("loan.yaml: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_rows_that_cannot_be_placed_are_named_at_validation():
    marks = ["train"] * 40
    marks[3], marks[7] = "valid", "Test"
    with pytest.raises(DataValidationError) as err:
        validate(loan_rows(40).assign(fold=marks), table(column="fold"), source="loans.csv")
    assert "fold" in str(err.value) and "isin" in str(err.value)
    dates = ["2024-01-05"] * 40
    dates[2] = "05/01/2024 maybe"
    with pytest.raises(DataValidationError) as err:
        validate(loan_rows(40).assign(**{"Opened On": dates}),
                 table(column="Opened On", test_from="2024-03-01"), source="loans.csv")
    assert "Opened On" in str(err.value) and "iso_date" in str(err.value)
    # the split itself names them too, for a frame that did not go through validation
    raw = validate(loan_rows(40), table()).assign(fold=marks)
    with pytest.raises(ConfigError, match=r"split column 'fold': 2 row\(s\) are neither train "
                       r"nor test \(row\(s\) \[3, 7\]"):
        split(raw, table(column="fold"), 0.2, 0)


def test_a_split_that_leaves_a_side_empty_or_a_class_unlearnt_is_refused():
    days = [f"2024-01-{1 + i % 28:02d}" for i in range(40)]
    df = clean(**{"Opened On": days})
    with pytest.raises(ConfigError, match="leaves no test row; move the cut-off"):
        split(df, table(column="Opened On", test_from="2024-03-01"), 0.2, 0)
    # every bad loan marked test: the model would never see one
    marks = ["test" if s == "bad" else "train" for s in df["status"]]
    with pytest.raises(ConfigError, match=r"the training rows have no row of class\(es\) "
                       r"\['bad'\] \(they have \{'good': 20\}\)"):
        split(df.assign(fold=marks), table(column="fold"), 0.2, 0)


def test_without_a_declaration_the_table_round_trips_without_split():
    assert "split" not in table().to_dict()
    declared = table(column="Opened On", test_from="2024-03-01")
    assert ColumnTable.from_dict(declared.to_dict()).split == declared.split
    assert np.array_equal(declared.split.test_rows(
        pd.DataFrame({"Opened On": ["2024-02-29", "2024-03-01"]})), [False, True])


def test_a_declared_datetime_column_can_be_the_cut_off_and_stays_a_feature():
    spec = {**LOAN, "columns": {**LOAN["columns"], "opened": {"kind": "datetime"}},
            "split": {"column": "opened", "test_from": "2024-03-01"}}
    declared = ColumnTable.from_dict(spec, source="loan.yaml")
    days = pd.date_range("2024-01-01", periods=40, freq="3D")
    df = validate(loan_rows(40).assign(opened=[d.isoformat() for d in days]), declared)
    train, test = split(df, declared, 0.2, 0)
    assert "opened" in declared.features and declared.split_only is None
    assert list(test.index) == [i for i, d in enumerate(days) if d >= pd.Timestamp("2024-03-01")]
    assert len(train) == 40 - len(test) > 0


def branches(n: int = 60) -> list[str]:
    return [f"B{i % 12:02d}" for i in range(n)]  # 12 branches, 5 loans each


def test_a_group_split_keeps_each_group_on_one_side_drawn_by_the_split_seed():
    declared = table(group="Branch", test_size=0.25)
    df = validate(loan_rows(60).assign(Branch=branches()), declared)
    assert "Branch" in df.columns and "Branch" not in declared.features  # kept for the split
    train, test = split(df, declared, test_size=0.5, seed=3)  # its own test_size wins
    assert not set(train["Branch"]) & set(test["Branch"])
    assert df["Branch"].nunique() * 0.25 == test["Branch"].nunique() == 3
    other = split(df, declared, test_size=0.5, seed=4)[1]
    assert set(other["Branch"]) != set(test["Branch"])
    # without its own test_size, env.yaml's is used
    half = split(df, table(group="Branch"), test_size=0.5, seed=3)[1]
    assert half["Branch"].nunique() == 6
    blank = loan_rows(60).assign(Branch=[None if i == 7 else b for i, b in enumerate(branches())])
    with pytest.raises(DataValidationError, match="Branch"):
        validate(blank, declared)


def every_third(df):
    """Her split: a Series of booleans on the frame's index."""
    return pd.Series([i % 3 == 0 for i in range(len(df))], index=df.index)


def seeded_frames(df, seed):
    """Her split as two frames, drawn with the split seed."""
    test = df.sample(frac=0.3, random_state=seed)
    return df.drop(test.index), test


def overlapping(df):
    return df, df.iloc[:5]


def numbers(df):
    return np.arange(len(df))


def test_her_split_function_returns_the_test_rows_or_the_two_frames():
    df = validate(loan_rows(40), table())
    train, test = split(df, table(function="test_splits:every_third"), 0.2, 0)
    assert list(test.index) == list(df.index[::3]) and len(train) == 40 - len(test)
    declared = table(function="test_splits:seeded_frames")
    first, again, other = (split(df, declared, 0.2, seed)[1] for seed in (1, 1, 2))
    assert sorted(first.index) == sorted(again.index) != sorted(other.index)
    assert list(first.index) == sorted(first.index)  # each side in the data's order


@pytest.mark.parametrize("function, message", [
    ("test_splits:overlapping", "split.function test_splits:overlapping: 5 row(s) are in both"),
    ("test_splits:numbers", "split.function test_splits:numbers: returned int64 values"),
    ("test_splits:nowhere", "split.function 'test_splits:nowhere' cannot be imported"),
    ("test_splits:TRAIN", "split.function 'test_splits:TRAIN' is not a function"),
])
def test_a_split_function_s_bad_answer_is_named(function, message):
    df = validate(loan_rows(40), table())
    with pytest.raises(ConfigError) as err:
        split(df, table(function=function), 0.2, 0)
    assert str(err.value).startswith("loan.yaml: ") and message in str(err.value)
