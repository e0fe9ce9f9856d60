"""Her cleaning step runs on the raw frame before validation (declared names, the dropped
columns still there), is named for the model's metadata and loaded back by that name; the
service's predictor runs it on every request, and its failure is the request's fault."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbprod.data.cleaning import apply_cleaning, cleaning_reference, load_cleaning
from nbprod.data.columns import ColumnTable
from nbprod.data.schema import Feature, FeatureSchema
from nbprod.data.validation import validate
from nbprod.errors import ConfigError, DataValidationError, PredictionError
from nbprod.serving.predictor import Predictor

TABLE = ColumnTable.from_dict({
    "kind": "regression", "target": "price", "columns": {
        "rooms": {"source": "Rooms", "kind": "integer", "min": 0, "max": 20},
        "area": {"kind": "number", "min": 0, "max": 1000, "nullable": True},
        "price": {"kind": "number"}},
    "dropped": {"Listing": "id-like (a different value on every row)"}})


def raw() -> pd.DataFrame:
    return pd.DataFrame({"Listing": ["a", "b", "c"], "Rooms": [2, 3, 0],
                         "area": ["50 m2", "72 m2", ""], "price": [100.0, 150.0, 90.0]})


def strip_units(df: pd.DataFrame) -> pd.DataFrame:
    """What a notebook cleans in raw data: '50 m2' -> 50.0, and sees the dropped column."""
    assert "Listing" in df.columns and "rooms" in df.columns
    out = df.copy()
    out["area"] = pd.to_numeric(out["area"].str.removesuffix(" m2").replace("", np.nan))
    return out


def test_clean_runs_on_the_raw_frame_before_the_rules():
    with pytest.raises(DataValidationError, match="column 'area' breaks coerce_dtype"):
        validate(raw(), TABLE)
    out = validate(raw(), TABLE, clean=strip_units)
    assert out["area"].tolist()[:2] == [50.0, 72.0] and np.isnan(out["area"].iloc[2])
    assert list(out.columns) == ["rooms", "area", "price"]  # the dropped column is gone after


def test_clean_must_return_a_frame():
    def forgets(df: pd.DataFrame) -> None:
        df["area"] = 0.0

    with pytest.raises(ConfigError, match=r"forgets must return the cleaned DataFrame, got "
                                          "NoneType"):
        apply_cleaning(forgets, raw())  # type: ignore[arg-type]


def test_the_reference_names_an_importable_function_and_loads_it_back():
    reference = cleaning_reference(strip_units)
    assert reference == f"{strip_units.__module__}:strip_units"
    assert load_cleaning("nbprod.data.cleaning:apply_cleaning") is apply_cleaning
    with pytest.raises(ConfigError, match="define the cleaning function in your package"):
        cleaning_reference(lambda df: df)
    with pytest.raises(ConfigError, match="'no_such_package:clean' cannot be imported"):
        load_cleaning("no_such_package:clean")


class Mean:
    """A model that answers each row's area (so a test sees what the model was given)."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["area"].to_numpy(dtype=float)


def predictor(clean) -> Predictor:
    schema = FeatureSchema([Feature("rooms", "integer", min=0, max=20),
                            Feature("area", "number", min=0, max=1000, nullable=True)],
                           target="price", model_kind="regression")
    return Predictor(Mean(), schema, "m:1", clean=clean)


def test_the_predictor_runs_her_clean_on_every_request():
    def new_flat_is_40(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        out.loc[out["area"].isna() & (out["rooms"] == 0), "area"] = 40.0
        return out

    answers = predictor(new_flat_is_40).predict([{"rooms": 0, "area": None},
                                                 {"rooms": 2, "area": 55.5}])
    assert [a.prediction for a in answers] == [40.0, 55.5]


def test_a_failing_clean_is_a_prediction_error_naming_it():
    def needs_listing(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(area=df["Listing"])

    with pytest.raises(PredictionError, match=r"the cleaning step .*needs_listing failed on the "
                                              r"input: KeyError"):
        predictor(needs_listing).predict([{"rooms": 1, "area": 3.0}])
