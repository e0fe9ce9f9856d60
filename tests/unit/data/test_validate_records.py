"""Raw records without the target (a target her notebook computes in training) checked
against every other declared column."""

import pandas as pd
import pytest

from nbprod.data.columns import ColumnTable
from nbprod.data.validation import validate_records
from nbprod.errors import DataValidationError

TABLE = ColumnTable.from_dict({
    "kind": "regression", "target": "price",
    "columns": {"city": {"source": "City Name", "kind": "categorical",
                         "categories": ["BOSTON", "DETROIT"]},
                "price": {"source": "Price", "kind": "number"}},
    "dropped": {"Low Price": "her notebook computes the target 'Price' from it"}})


def test_records_without_the_target_keep_the_contract_and_lose_the_dropped_columns():
    raw = pd.DataFrame({"City Name": ["BOSTON", "DETROIT"], "Low Price": [1.0, 2.0]})
    out = validate_records(raw, TABLE)
    assert list(out.columns) == ["city"]


def test_a_record_breaking_a_rule_is_named_with_its_column():
    raw = pd.DataFrame({"City Name": ["BOSTON", "PARIS"], "Low Price": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="city"):
        validate_records(raw, TABLE, source="US-pumpkins.csv")
