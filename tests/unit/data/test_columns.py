"""The declared column table (columns.yaml): what it accepts and how it says no."""

import copy

import pytest
import yaml

from nbprod import ConfigError
from nbprod.data.columns import ColumnTable
from tables import LOAN


def test_the_table_reads_its_parts(loan_table):
    assert loan_table.features == ["age", "income", "home", "grade", "has_guarantor"]
    assert loan_table.target == "status" and loan_table.positive == "bad"
    assert loan_table.negative == "good" and loan_table.classes == ["good", "bad"]
    assert loan_table.renames == {"Age": "age", "Annual Income": "income"}
    assert loan_table.column("grade").categories == (1, 2, 3)
    assert loan_table.column("age").header == "Age"
    assert loan_table.record == "Loan"


def test_round_trip_through_yaml(loan_table, tmp_path):
    path = tmp_path / "columns.yaml"
    path.write_text(yaml.safe_dump(loan_table.to_dict(), sort_keys=False))
    assert ColumnTable.load(path) == ColumnTable.from_dict(LOAN, source=str(path))


def broken(change) -> str:
    data = copy.deepcopy(LOAN)
    change(data)
    with pytest.raises(ConfigError) as info:
        ColumnTable.from_dict(data, source="columns.yaml")
    return str(info.value)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["columns"]["age"].update(kind="int"), "columns.age.kind: 'int' is not one of"),
    (lambda d: d["columns"]["home"].pop("categories"), "columns.home.categories: a categorical"),
    (lambda d: d["columns"]["grade"].update(categories=[1, "2"]), "all strings or all integers"),
    (lambda d: d["columns"]["age"].update(min=50, max=20), "min 50 is above max 20"),
    (lambda d: d["columns"]["age"].update(colour="red"), r"unknown key\(s\) \['colour'\]"),
    (lambda d: d.update(positive="ugly"), "positive 'ugly' is not a category"),
    (lambda d: d.update(target="nope"), "target 'nope' is not among the columns"),
    (lambda d: d["columns"]["status"].update(categories=["a", "b", "c"]), "exactly two categories"),
    (lambda d: d["columns"].update({"Annual Income": {"kind": "number"}}), "must be an identifier"),
    (lambda d: d["dropped"].update({"Age": "no"}), "both declared and dropped"),
    (lambda d: d.pop("columns"), "missing key 'columns'"),
    (lambda d: d["columns"]["home"].update(min=1), "min/max apply to integer, number and datetime"),
])
def test_a_broken_table_names_the_key(change, message):
    assert message in broken(change) or __import__("re").search(message, broken(change))


def test_a_missing_or_invalid_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: no such file"):
        ColumnTable.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [unclosed")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        ColumnTable.load(bad)


def test_the_reference_table_loads(telco_table):
    assert telco_table.target == "churn" and telco_table.positive == "Yes"
    assert len(telco_table.features) == 19
