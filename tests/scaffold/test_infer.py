"""The column table nbprod new proposes (nbprod.scaffold.infer), on small neutral frames and
on the three test data sets."""

import numpy as np
import pandas as pd
import pytest
import yaml
from datasets import DATASETS

from nbprod.data.dates import YEARS_AHEAD
from nbprod.errors import ConfigError, DataFileError, TargetError
from nbprod.scaffold.column_rules import text_bound
from nbprod.scaffold.infer import infer_column, infer_table, numeric_range, read_data
from nbprod.scaffold.tablefile import render_columns

N = 40


def col(values, name="x"):
    return pd.Series(values)


def test_kinds_of_columns():
    assert infer_column(col([0, 1] * 20)) == {"kind": "binary"}
    assert infer_column(col([True, False] * 20)) == {"kind": "binary"}
    assert infer_column(col([3, 7, 12] * 10 + [3] * 10)) == {
        "kind": "categorical", "categories": [3, 7, 12]}
    assert infer_column(col(list(range(30)) * 2)) == {"kind": "integer", "min": 0, "max": 100}
    assert infer_column(col(np.linspace(-3.5, 40.2, N))) == {
        "kind": "number", "min": -10.0, "max": 100.0}
    assert infer_column(col(["b", "a", None] * 10)) == {
        "kind": "categorical", "categories": ["a", "b"], "nullable": True}


def test_blank_numbers_are_nullable_numbers():
    values = [float(v) for v in range(30)] * 2 + [np.nan]
    assert infer_column(col(values)) == {"kind": "number", "min": 0.0, "max": 100.0,
                                         "nullable": True}


def test_columns_left_out_with_the_reason():
    assert infer_column(col(range(N))).startswith("id-like")
    assert infer_column(col([f"K{i:05d}" for i in range(N)])).startswith("id-like")
    assert infer_column(col(["US"] * N)) == 'constant (always "US")'
    assert infer_column(col([np.nan] * N)) == "empty (every value blank)"
    assert infer_column(col([f"c{i % 60}" for i in range(200)])).startswith("too many categories")


def test_long_distinct_strings_with_spaces_are_a_text_column_with_a_length_bound():
    text = [f"customer called about the rate number {i}" for i in range(N)]
    longest = max(len(t) for t in text)
    assert infer_column(col(text)) == {"kind": "text", "max_length": text_bound(longest)}
    assert text_bound(longest) >= 2 * longest and text_bound(longest) % 100 == 0
    with_blanks = [*text[:-3], None, None, None]
    assert infer_column(col(with_blanks))["nullable"] is True


def test_iso_dates_are_a_datetime_column_and_mixed_formats_are_named():
    dates = ["2024-01-05", "2024-02-11", "2024-03-09T10:15:00"] * 10
    span = {"min": "2024-01-01", "max": f"{2024 + YEARS_AHEAD}-12-31"}
    assert infer_column(col(dates)) == {"kind": "datetime", **span}
    assert infer_column(col(pd.to_datetime(dates, format="ISO8601"))) == {"kind": "datetime",
                                                                          **span}
    assert infer_column(col([*dates[:-1], None])) == {"kind": "datetime", **span,
                                                       "nullable": True}
    older = infer_column(col(["2019-06-30", *dates[1:]]))
    assert (older["min"], older["max"]) == ("2019-01-01", span["max"])
    mixed = [*dates, *dates, "2024-13-45"]  # past the first 50 values
    assert infer_column(col(mixed)).startswith("dates in more than one format")


@pytest.mark.parametrize(("values", "fmt"), [
    (["4/29/17", "5/6/17", "9/24/16", "12/3/16"], "%m/%d/%y"),       # day 29 > 12: month first
    (["24.09.2016", "01.10.2016", "3.11.2016", "5.12.2016"], "%d.%m.%Y"),
    (["13/01/2016", "02/03/2016", "28/12/2016", "1/6/2016"], "%d/%m/%Y"),  # day 13, 28 first
    (["2016/09/24", "2016/10/01", "2016/12/31", "2016/01/02"], "%Y/%m/%d"),
    (["Sep 24, 2016", "Oct 1, 2016", "Dec 31, 2016", "Jan 2, 2016"], "%b %d, %Y"),
    (["9/24/2016 10:30", "10/1/2016 08:05", "1/2/2016 23:59", "3/4/2016 00:00"],
     "%m/%d/%Y %H:%M"),
])
def test_dates_in_a_common_format_are_a_datetime_with_that_format(values, fmt):
    spec = infer_column(col(values * 10 + [None]))
    assert spec == {"kind": "datetime", "format": fmt, "min": "2016-01-01",
                    "max": f"{2017 + YEARS_AHEAD if '17' in values[0] else 2016 + YEARS_AHEAD}"
                           "-12-31", "nullable": True}


def test_dates_either_day_or_month_first_are_not_guessed_and_the_note_says_why():
    frame = pd.DataFrame({"When": ["03/04/2016", "05/06/2016", "01/02/2016", "11/12/2016"] * 10,
                          "y": [0, 1, 1, 0, 1] * 8})
    table = infer_table(frame, "y")
    assert table.columns["when"]["kind"] == "categorical"  # as its values say, not a date
    note = table.notes["when"]
    assert "%m/%d/%Y or %d/%m/%Y" in note and "no day above 12" in note
    assert f"# {note}" in render_columns(table, "visits.csv")
    assert infer_column(col(["03/04/2016", "13/04/2016"] * 20))["format"] == "%d/%m/%Y"


def test_an_inferred_format_is_written_by_the_yaml_serializer_and_read_back(tmp_path):
    from nbprod.data.columns import ColumnTable

    frame = pd.DataFrame({"Date": ["4/29/17", "5/6/17", "9/24/16"] * 10,
                          "price": np.linspace(1, 30, 30)})
    table = infer_table(frame, "price")
    text = render_columns(table, "pumpkins.csv")
    assert "format: '%m/%d/%y'" in text
    path = tmp_path / "columns.yaml"
    path.write_text(text)
    assert ColumnTable.load(path).column("date").format == "%m/%d/%y"
    assert not table.notes


@pytest.mark.parametrize(("lo", "hi", "integer", "expected"), [
    (18, 75, True, (0, 200)),
    (0.01, 0.99, False, (0.0, 2.0)),
    (-3, 4, True, (-10, 10)),
    (-5.0, -1.0, False, (-10.0, 0.0)),
])
def test_ranges_are_widened_to_round_numbers(lo, hi, integer, expected):
    assert numeric_range(lo, hi, integer) == expected


def frame():
    return pd.DataFrame({"Risk Score": np.arange(30) % 7, "Outcome": ["no"] * 20 + ["yes"] * 10})


def test_target_found_by_header_or_identifier_and_minority_positive():
    for given in ("Outcome", "outcome"):
        table = infer_table(frame(), given)
        assert table.target == "outcome" and table.classes == ["no", "yes"]
        assert table.positive == "yes" and not table.positive_given
    table = infer_table(frame(), "Outcome", positive="no")
    assert table.positive == "no" and table.positive_given


def test_integer_target_keeps_integer_classes():
    df = pd.DataFrame({"a": np.arange(30) % 5 * 1.5, "y": [0, 1, 1] * 10})
    table = infer_table(df, "y", positive="1")
    assert table.classes == [0, 1] and table.positive == 1
    assert table.columns["y"] == {"kind": "categorical", "categories": [0, 1]}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target": "Churn"}, "--target 'Churn' is not a column of the data; its columns: 'Risk Score'"),
    ({"target": "Outcome", "positive": "maybe"},
     "--positive 'maybe' is not a value of target column 'Outcome'; its values: 'no', 'yes'"),
    ({"target": "Risk Score", "positive": "3"},
     "--positive: a multiclass model has no positive class (target 'Risk Score': 7 values"),
    ({"target": "Outcome", "kind": "regression"},
     "target column 'Outcome' has 30 value(s) that are not numbers (row 0: 'no', row 1: 'no'"),
    ({"target": "Outcome", "kind": "multiclass"}, "--kind multiclass: target column 'Outcome' has 2"),
    ({"target": "Risk Score", "kind": "binary"}, "--kind binary: target column 'Risk Score' has 7"),
])
def test_bad_target_is_a_clear_error(kwargs, message):
    with pytest.raises((ConfigError, TargetError)) as err:
        infer_table(frame(), **kwargs)
    assert message in str(err.value)


def test_target_with_blanks_or_one_value_is_refused():
    df = frame()
    df.loc[3, "Outcome"] = None
    with pytest.raises(ConfigError, match="blank on 1 row"):
        infer_table(df, "Outcome")
    with pytest.raises(TargetError, match="'Outcome' has one value only \\('no'\\)"):
        infer_table(frame().assign(Outcome="no"), "Outcome")
    with pytest.raises(TargetError, match="'Outcome' is blank on every row"):
        infer_table(frame().assign(Outcome=None), "Outcome")
    with pytest.raises(TargetError, match="'Outcome' is blank on every row"):
        infer_table(frame().assign(Outcome="  "), "Outcome")


def test_the_kind_is_inferred_from_the_target_with_the_reason():
    n = 60
    df = pd.DataFrame({"a": np.arange(n) % 7 * 1.5, "b": np.arange(n) % 3,
                       "grade": ["x", "y", "z", "w"] * (n // 4),
                       "amount": np.linspace(10.0, 99.5, n), "count": np.arange(n) * 3})
    grade = infer_table(df, "grade")
    assert (grade.kind, grade.kind_reason) == ("multiclass", "4 values (at most 20 make classes)")
    assert grade.columns["grade"] == {"kind": "categorical", "categories": ["w", "x", "y", "z"]}
    assert grade.positive is None
    amount = infer_table(df, "amount")
    assert (amount.kind, amount.kind_reason) == ("regression", "numbers with 60 distinct values")
    assert amount.columns["amount"] == {"kind": "number", "min": 0.0, "max": 200.0}
    assert amount.classes == []
    counts = infer_table(df, "count")
    assert counts.kind == "regression" and counts.columns["count"]["kind"] == "integer"
    few = infer_table(df, "b")
    assert few.kind == "multiclass" and few.classes == [0, 1, 2]
    forced = infer_table(df, "b", kind="regression")
    assert (forced.kind, forced.kind_reason, forced.kind_given) == ("regression", "given with --kind", True)
    assert infer_table(df.assign(y=["p", "q"] * (n // 2)), "y").kind == "binary"


def test_no_usable_feature_is_refused():
    df = pd.DataFrame({"id": range(30), "y": [0, 1] * 15})
    with pytest.raises(ConfigError, match="no usable feature column"):
        infer_table(df, "y")


def test_read_data_errors_name_the_file(tmp_path):
    with pytest.raises(DataFileError, match="missing.csv: no such file"):
        read_data(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="empty.csv: the file is empty"):
        read_data(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataFileError, match="header.csv: has a header .2 columns. but no rows"):
        read_data(tmp_path / "header.csv")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(DataFileError, match=r"data.xlsx: unknown format; name it \*.csv"):
        read_data(tmp_path / "data.xlsx")
    (tmp_path / "sms.tsv").write_text("label\tmsg\nham\thello\n")
    with pytest.raises(DataFileError, match=r"sms.tsv: unknown format; .*delimiter is sniffed"
                                            r".*name a delimited text file \*.csv"):
        read_data(tmp_path / "sms.tsv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataFileError, match="bad.parquet: cannot be parsed"):
        read_data(tmp_path / "bad.parquet")


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_the_data_sets_tables(name):
    ds = DATASETS[name]
    table = infer_table(ds.frame, ds.target, ds.positive)
    assert table.positive == ds.expected_positive
    assert set(table.dropped) == set(ds.dropped)
    for header, reason in ds.dropped.items():
        assert table.dropped[header].startswith(reason)
    for header, field in ds.renamed.items():
        assert table.columns[field]["source"] == header
    bad_field, _ = ds.bad_category
    assert table.columns[bad_field]["kind"] == "categorical"
    assert table.columns[ds.out_of_range[0]]["kind"] in ("integer", "number")
    assert any(spec.get("nullable") for spec in table.columns.values())
    text = render_columns(table, f"{name}.csv")
    loaded = yaml.safe_load(text)
    assert loaded["columns"] == table.columns
    assert loaded["dropped"] == table.dropped
    assert loaded["target"] == table.target and loaded["positive"] == table.positive


def test_the_data_sets_cover_the_cases():
    tables = {n: infer_table(d.frame, d.target, d.positive) for n, d in DATASETS.items()}
    kinds = {s["kind"] for t in tables.values() for s in t.columns.values()}
    assert {"categorical", "integer", "number"} <= kinds
    reasons = " ".join(r for t in tables.values() for r in t.dropped.values())
    assert "text" in kinds
    for reason in ("id-like", "constant"):
        assert reason in reasons
    assert any(isinstance(t.positive, str) for t in tables.values())
    assert any(t.classes == [0, 1] for t in tables.values())
    int_codes = [s for t in tables.values() for s in t.columns.values()
                 if s["kind"] == "categorical" and isinstance(s["categories"][0], int)
                 and s["categories"] != [0, 1]]
    assert int_codes
    nullable = {s["kind"] for t in tables.values() for s in t.columns.values()
                if s.get("nullable")}
    assert {"categorical", "number"} <= nullable
    headers = [h for d in DATASETS.values() for h in d.frame.columns]
    assert any(" " in h for h in headers) and any(h != h.lower() for h in headers)


@pytest.mark.parametrize("name", ["wine", "diabetes"])
def test_the_files_of_every_kind_parse(name):
    """The notebooks are JSON and the YAML files YAML for a multiclass and a regression
    project; the parameters follow the kind."""
    import json

    from datasets import KIND_DATASETS

    from nbprod.scaffold.project import project_files

    ds, kind, metric = KIND_DATASETS[name]
    files = project_files(name, infer_table(ds.frame, ds.target), f"{name}.csv", "w.whl")
    notebooks = {rel: json.loads(text) for rel, text in files.items() if rel.endswith(".ipynb")}
    assert len(notebooks) == 6
    for rel in ("env.yaml", "env.smoke.yaml", "columns.yaml", "bentofile.yaml", "pipeline.yaml"):
        yaml.safe_load(files[rel])
    env = yaml.safe_load(files["env.yaml"])
    assert env["gate"]["metric"] == metric and yaml.safe_load(files["columns.yaml"])["kind"] == kind
    register = "".join(notebooks["notebooks/register.ipynb"]["cells"][1]["source"])
    assert f'gate = {{"metric": "{metric}"' in register
