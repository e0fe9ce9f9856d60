"""A ``datetime`` column declared with a ``format`` (``"%m/%d/%y"``): every reader parses
its text in that format and refuses the rest, ISO included, naming the column (or the
field) and the format: validation, the model's frame, batch scoring, the range check, the
API's field and drift by day."""

import re

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import split
from nbprod.data.dates import as_datetimes, check_format, days, expected, outside
from nbprod.data.drift import DriftDetector
from nbprod.data.frames import model_frame
from nbprod.data.schema import derive_feature_schema, reference_statistics
from nbprod.data.validation import validate
from nbprod.errors import BatchInputError, ConfigError, DataValidationError
from nbprod.serving.batch import check_chunk
from nbprod.serving.predictor import input_model

US = "%m/%d/%y"
TABLE = {
    "kind": "regression", "target": "price", "record": "Sale",
    "columns": {
        "sold": {"source": "Date", "kind": "datetime", "format": US,
                 "min": "2016-01-01", "max": "2018-12-31"},
        "size": {"kind": "number", "min": 0},
        "price": {"kind": "number"},
    },
}


def sales(n: int = 300, seed: int = 0, start: str = "2016-01-01") -> pd.DataFrame:
    """Raw rows with US dates written as people do (``4/29/17``, no leading zero)."""
    rng = np.random.default_rng(seed)
    sold = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    return pd.DataFrame({"Date": [f"{d.month}/{d.day}/{d.year % 100:02d}" for d in sold],
                         "size": rng.gamma(2.0, 3.0, n).round(1),
                         "price": rng.normal(100, 10, n).round(2)})


@pytest.fixture
def table() -> ColumnTable:
    return ColumnTable.from_dict(TABLE, source="sales.yaml")


def test_one_parser_reads_her_format_and_refuses_iso_in_it():
    read = as_datetimes(["4/29/17", "12/3/16", "2017-04-29", "2017-13-45", None], US)
    assert read.iloc[0] == pd.Timestamp("2017-04-29") and read.iloc[1] == pd.Timestamp("2016-12-03")
    assert read.iloc[2:].isna().all()
    assert as_datetimes(["2017-04-29"]).iloc[0] == pd.Timestamp("2017-04-29")  # no format: ISO
    assert expected(US) == "a date in the format %m/%d/%y (e.g. 07/01/24)"
    assert days(["1/2/70"], US).tolist() == [1.0]


def test_the_declared_format_is_kept_and_a_wrong_one_is_refused_naming_the_key(table):
    assert table.column("sold").format == US and table.column("sold").spec()["format"] == US
    assert ColumnTable.from_dict(table.to_dict()).column("sold").format == US
    for spec, message in [
        ({"kind": "datetime", "format": "%Q"}, "columns.sold.format: a strftime format"),
        ({"kind": "datetime", "format": "%d/%Q/%y"}, "does not read back what it writes"),
        ({"kind": "text", "format": US}, "columns.sold.format: only a datetime column"),
    ]:
        bad = {**TABLE, "columns": {**TABLE["columns"], "sold": {"source": "Date", **spec}}}
        with pytest.raises(ConfigError, match=re.escape(message)):
            ColumnTable.from_dict(bad, source="sales.yaml")
    assert check_format(None, "datetime", "x") is None


def test_validation_names_the_column_the_format_and_the_rows(table):
    assert len(validate(sales(), table)) == 300
    raw = sales(40)
    raw.loc[[3, 11], "Date"] = ["2017-04-29", "13/29/17"]
    with pytest.raises(DataValidationError) as err:
        validate(raw, table, source="sales.csv")
    text = str(err.value)
    assert "'sold' breaks date_in_format %m/%d/%y in 2 row(s)" in text
    assert "row 3" in text and "row 11" in text


def test_the_range_stays_iso_and_is_checked_on_her_dates(table):
    raw = sales(40)
    raw.loc[5, "Date"] = "1/1/19"
    with pytest.raises(DataValidationError, match=r"'sold' breaks date from 2016-01-01 to "
                                                  r"2018-12-31 in 1 row"):
        validate(raw, table, source="sales.csv")
    assert outside(pd.Series(["12/31/18", "1/1/19"]), None, "2018-12-31", US).tolist() == [
        False, True]


def test_training_and_serving_see_the_same_instant(table):
    schema = derive_feature_schema(validate(sales(20), table), table)
    assert schema.features[0].format == US
    served = model_frame({"sold": ["4/29/17"], "size": [1.0]}, schema.features)
    trained = model_frame(validate(sales(20), table), table.feature_columns())
    assert str(served["sold"].dtype) == "datetime64[ns]" == str(trained["sold"].dtype)
    assert served["sold"].iloc[0] == pd.Timestamp("2017-04-29")
    assert trained["sold"].notna().all()


def test_batch_scoring_names_the_rows_not_in_her_format(table):
    schema = derive_feature_schema(validate(sales(20), table), table)
    chunk = pd.DataFrame({"sold": ["4/29/17", "2017-04-29", "5/6/17"], "size": [1.0, 2.0, 3.0]})
    with pytest.raises(BatchInputError) as err:
        check_chunk(chunk, schema, "new.csv")
    text = str(err.value)
    assert "sold" in text and "%m/%d/%y" in text and "row 1" in text and "row 2" not in text


def test_the_api_field_says_her_format_and_refuses_another(table):
    schema = derive_feature_schema(validate(sales(20), table), table)
    record = input_model(schema)
    assert record(sold="4/29/17", size=1.0).sold == "4/29/17"
    for value in ("2017-04-29", "2017-13-45", "13/1/17"):
        with pytest.raises(ValidationError) as err:
            record(sold=value, size=1.0)
        assert err.value.errors()[0]["loc"] == ("sold",)
        assert "a date in the format %m/%d/%y" in str(err.value)
    with pytest.raises(ValidationError, match="from 2016-01-01 to 2018-12-31"):
        record(sold="1/1/19", size=1.0)
    field = record.model_json_schema()["properties"]["sold"]
    assert "a date in the format %m/%d/%y" in field["description"]
    assert field.get("format") != "date-time"  # not ISO: no client may send one


def test_her_dates_drift_by_day(table):
    train = validate(sales(600), table)
    reference = reference_statistics(train, derive_feature_schema(train, table))
    assert reference["sold"]["of"] == "days" and reference["sold"]["format"] == US
    assert sum(reference["sold"]["frequencies"]) == pytest.approx(1.0)  # every date counted
    detector = DriftDetector(threshold=0.2, min_rows=50).fit(reference)
    same = validate(sales(600, seed=1), table)
    later = validate(sales(600, seed=1, start="2017-01-01"), table)
    assert not detector.score(same).loc["sold", "drifted"]
    assert detector.score(later).loc["sold", "drifted"]


def test_a_date_split_reads_the_column_in_her_format():
    table = ColumnTable.from_dict({**TABLE, "split": {"column": "sold", "test_from": "2017-06-01"}},
                                  source="sales.yaml")
    train, test = split(validate(sales(), table), table, 0.2, 0)
    assert as_datetimes(test["sold"], US).min() >= pd.Timestamp("2017-06-01")
    assert as_datetimes(train["sold"], US).max() < pd.Timestamp("2017-06-01")
    assert len(train) and len(test)
