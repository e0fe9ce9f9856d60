"""A column of kind ``datetime`` (ISO dates and timestamps) through the whole toolkit:
declared and validated, one dtype for training and serving, its parts learnt by the default
model (saved and loaded under the default trust), checked in batch files, and its drift."""

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import features, split, target
from nbprod.data.drift import DriftDetector
from nbprod.data.frames import model_frame
from nbprod.data.schema import derive_feature_schema, reference_statistics
from nbprod.data.validation import validate
from nbprod.errors import BatchInputError, ConfigError, DataValidationError
from nbprod.model.artifacts import load_model_file, save_model
from nbprod.model.modeling import build_model
from nbprod.model.trust import Trust
from nbprod.serving.batch import check_chunk

TABLE = {
    "target": "churned", "positive": "yes", "record": "Account",
    "columns": {
        "opened": {"source": "Opened On", "kind": "datetime"},
        "last_visit": {"kind": "datetime", "nullable": True, "missing": ["never"]},
        "spend": {"kind": "number", "min": 0},
        "churned": {"kind": "categorical", "categories": ["no", "yes"]},
    },
}


def accounts(n: int = 600, seed: int = 0, start: str = "2021-01-01") -> pd.DataFrame:
    """Raw rows whose label is read from the month an account opened (late-year ones leave)."""
    rng = np.random.default_rng(seed)
    opened = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    late = opened.month >= 7
    leave = np.where(late, rng.random(n) < 0.85, rng.random(n) < 0.1)
    visits = [("never" if i % 9 == 0 else (o + pd.Timedelta(days=int(d))).isoformat())
              for i, (o, d) in enumerate(zip(opened, rng.integers(1, 300, n), strict=True))]
    return pd.DataFrame({
        "Opened On": [o.date().isoformat() if i % 2 else f"{o.date()}T08:30:00+02:00"
                      for i, o in enumerate(opened)],
        "last_visit": visits,
        "spend": rng.gamma(2.0, 30.0, n).round(2),
        "churned": np.where(leave, "yes", "no"),
    })


@pytest.fixture
def table() -> ColumnTable:
    return ColumnTable.from_dict(TABLE, source="accounts.yaml")


def test_iso_dates_are_valid_and_others_are_named(table):
    df = validate(accounts(), table, source="accounts.csv")
    assert df["last_visit"].isna().sum() == len(df[df.index % 9 == 0])
    raw = accounts(40)
    raw.loc[[3, 11], "Opened On"] = ["03/07/2023", "soon"]
    with pytest.raises(DataValidationError) as err:
        validate(raw, table, source="accounts.csv")
    text = str(err.value)
    assert "opened" in text and "iso_date_or_timestamp" in text and "2 row" in text


def test_training_and_serving_see_one_instant_in_utc(table):
    schema = derive_feature_schema(validate(accounts(20), table), table)
    feature = schema.features[0]
    served = model_frame({"opened": ["2024-07-01T08:30:00+02:00"], "last_visit": [np.nan],
                          "spend": [1.0]}, schema.features)
    trained = model_frame(pd.DataFrame({"opened": ["2024-07-01T06:30:00"],
                                        "last_visit": [None], "spend": [1.0]}), schema.features)
    assert feature.kind == "datetime" and str(served["opened"].dtype) == "datetime64[ns]"
    assert served["opened"].iloc[0] == trained["opened"].iloc[0] == pd.Timestamp("2024-07-01 06:30")


def test_the_default_model_learns_from_the_parts_of_a_date(table, tmp_path):
    df = validate(accounts(), table).reset_index(drop=True)
    train, test = split(df, table, 0.25, 0)
    schema = derive_feature_schema(train, table)
    model = build_model(schema, "logistic_regression", {"C": 1.0}, seed=0)
    model.fit(features(train, table), target(train, table))
    loaded = load_model_file(save_model(model, tmp_path / "model.skops"), Trust())
    proba = loaded.predict_proba(features(test, table))[:, 1]
    # the month is what decides; a model blind to dates would be near 0.5
    assert roc_auc_score(target(test, table), proba) > 0.75
    no_date = build_model(derive_feature_schema(train, table).__class__(
        [f for f in schema.features if f.kind != "datetime"], schema.target, schema.classes),
        "logistic_regression", {}, seed=0)
    no_date.fit(features(train, table)[["spend"]], target(train, table))
    blind = no_date.predict_proba(features(test, table)[["spend"]])[:, 1]
    assert roc_auc_score(target(test, table), blind) < 0.65


def test_a_batch_file_with_a_date_that_is_not_iso_is_refused_naming_it(table):
    schema = derive_feature_schema(validate(accounts(20), table), table)
    chunk = pd.DataFrame({"opened": ["2024-01-01", "1/2/2024"], "last_visit": [None, "never"],
                          "spend": [1.0, 2.0]})
    with pytest.raises(BatchInputError) as err:
        check_chunk(chunk, schema, "new.csv")
    assert "opened" in str(err.value) and "ISO date" in str(err.value) and "row 1" in str(err.value)


RANGED = {**TABLE, "columns": {**TABLE["columns"],
                                "opened": {"source": "Opened On", "kind": "datetime",
                                           "min": date(2021, 1, 1), "max": "2023-12-31"}}}


def test_a_declared_date_range_is_checked_by_validation_and_batch_scoring():
    table = ColumnTable.from_dict(RANGED, source="accounts.yaml")
    assert (table.column("opened").min, table.column("opened").max) == ("2021-01-01", "2023-12-31")
    assert len(validate(accounts(), table)) == 600  # 2021-2023, the last day whole
    raw = accounts(40)
    raw.loc[[2, 7], "Opened On"] = ["2020-12-31T23:59:00", "2024-01-01"]
    raw.loc[9, "Opened On"] = "2023-12-31T23:59:59"
    with pytest.raises(DataValidationError) as err:
        validate(raw, table, source="accounts.csv")
    assert "'opened' breaks date from 2021-01-01 to 2023-12-31 in 2 row(s)" in str(err.value)
    assert "row 2" in str(err.value) and "row 7" in str(err.value)
    schema = derive_feature_schema(validate(accounts(20), table), table)
    chunk = pd.DataFrame({"opened": ["2022-01-01", "2031-01-01"], "last_visit": [None, None],
                          "spend": [1.0, 2.0]})
    with pytest.raises(BatchInputError) as batch:
        check_chunk(chunk, schema, "new.csv")
    assert "from 2021-01-01 to 2023-12-31" in str(batch.value) and "row 1" in str(batch.value)


@pytest.mark.parametrize(("bounds", "message"), [
    ({"min": "soon"}, "columns.opened.min: an ISO date"),
    ({"max": 2024}, "columns.opened.max: an ISO date"),
    ({"min": "2024-01-01", "max": "2023-01-01"}, "min 2024-01-01 is above max 2023-01-01"),
])
def test_a_bad_date_range_is_refused_naming_the_key(bounds, message):
    spec = {**TABLE, "columns": {**TABLE["columns"], "opened": {"kind": "datetime", **bounds}}}
    with pytest.raises(ConfigError, match=re.escape(message)):
        ColumnTable.from_dict(spec, source="accounts.yaml")


def test_dates_drift_when_they_move(table):
    train = validate(accounts(600), table)
    schema = derive_feature_schema(train, table)
    reference = reference_statistics(train, schema)
    assert reference["opened"]["type"] == "numeric" and reference["opened"]["of"] == "days"
    assert sum(reference["opened"]["frequencies"]) == pytest.approx(1.0)  # days, counted
    detector = DriftDetector(threshold=0.2, min_rows=50).fit(reference)
    same = validate(accounts(600, seed=1), table)
    later = validate(accounts(600, seed=1, start="2026-01-01"), table)
    scores = detector.score(same), detector.score(later)
    assert not scores[0].loc["opened", "drifted"]
    assert scores[1].loc["opened", "drifted"] and scores[1].loc["opened", "psi"] > 1.0
    assert not scores[1].loc["spend", "drifted"]
