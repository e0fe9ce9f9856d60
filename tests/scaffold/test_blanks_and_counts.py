"""What `nbprod new` proposes for numbers written with blank-like strings and for small
integer columns, on real files: the IBM Telco sample (``' '`` in ``TotalCharges``),
plotly's bundled ``tips`` (``size``: a party of 1 to 6, a count) and ``iris``
(``species_id``: a code); and how the declared blanks are read by validation, batch
scoring and the service's record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import pytest

from nbprod.data.columns import ColumnTable
from nbprod.data.files import read_table
from nbprod.data.schema import Feature, FeatureSchema
from nbprod.data.validation import validate
from nbprod.errors import BatchInputError, ConfigError
from nbprod.scaffold.column_rules import infer_column, looks_like_codes
from nbprod.scaffold.infer import infer_table
from nbprod.serving.batch import check_chunk
from nbprod.serving.predictor import input_model

TELCO = Path(__file__).parent / "fixtures" / "ibm_telco" / "Telco-Customer-Churn-sample.csv"
PLOTLY_DATA = Path(plotly.__file__).parent / "package_data" / "datasets"


def test_telcos_total_charges_is_a_nullable_number_with_its_blank_declared():
    raw = read_table(TELCO)
    assert int((raw["TotalCharges"] == " ").sum()) == 11
    assert infer_column(raw["TotalCharges"]) == {
        "kind": "number", "min": 0.0, "max": 20000.0, "nullable": True, "missing": [" "]}


@pytest.mark.parametrize("blank", [" ", "", "NA", "?", "-", "  ", "n/a"])
def test_numbers_with_any_blank_like_string_are_nullable_numbers(blank):
    values = pd.Series([f"{v * 1.5:.2f}" for v in range(60)] + [blank] * 3, name="Charges")
    spec = infer_column(values)
    assert spec == {"kind": "number", "min": 0.0, "max": 200.0, "nullable": True,
                    "missing": [blank]}


def test_text_with_a_word_among_numbers_stays_text():
    values = pd.Series([str(v) for v in range(10)] * 3 + ["unknown", " "] * 3, name="x")
    assert infer_column(values)["kind"] == "categorical"


def test_the_reason_for_leaving_a_column_out_is_true():
    # nearly unique text: not "a different value on every row"
    values = pd.Series([f"K{i:04d}" for i in range(95)] + ["K0000"] * 5, name="code")
    assert infer_column(values) == "id-like (95 distinct values in 100 rows)"
    assert infer_column(pd.Series([f"K{i:04d}" for i in range(100)])) == \
        "id-like (a different value on every row)"
    ids = pd.Series([*range(60), np.nan, np.nan], name="serial")
    assert infer_column(ids) == "id-like (a different value on every non-blank row)"


def test_counts_are_numbers_and_codes_categories_on_plotly_data():
    tips = read_table(PLOTLY_DATA / "tips.csv.gz")
    assert sorted(tips["size"].unique()) == [1, 2, 3, 4, 5, 6]
    assert infer_column(tips["size"]) == {"kind": "integer", "min": 0, "max": 20}
    iris = read_table(PLOTLY_DATA / "iris.csv.gz")
    assert infer_column(iris["species_id"]) == {"kind": "categorical", "categories": [1, 2, 3]}
    table = infer_table(tips, "tip")
    assert table.columns["size"]["kind"] == "integer"


@pytest.mark.parametrize(("values", "header", "codes"), [
    ([0, 1, 2, 3, 4, 5], "children", False),   # a count from 0
    ([0, 1, 3], "owner", False),               # a count with a gap
    ([8, 9, 10, 11, 12], "month", False),      # a run of consecutive values: a scale
    ([10, 20, 30], "shift", True),             # neither a run nor from 0: codes
    ([3, 7, 12], "x", True),
    ([1, 2, 3], "Machine Type", True),         # the header names a code
    ([1, 2, 3, 4], "region_code", True),
])
def test_looks_like_codes(values, header, codes):
    assert looks_like_codes(values, header) is codes


def test_a_count_declared_categorical_in_columns_yaml_is_kept():
    """columns.yaml overrides the inference: `size` declared categorical validates."""
    tips = read_table(PLOTLY_DATA / "tips.csv.gz")
    table = ColumnTable.from_dict({
        "kind": "regression", "target": "tip", "columns": {
            "size": {"kind": "categorical", "categories": [1, 2, 3, 4, 5, 6]},
            "tip": {"kind": "number", "min": 0}},
        "dropped": {h: "not used" for h in tips.columns if h not in ("size", "tip")}})
    assert validate(tips, table)["size"].tolist() == tips["size"].tolist()


def blank_table(**extra) -> dict:
    return {"kind": "regression", "target": "y", "columns": {
        "total": {"kind": "number", "min": 0, "nullable": True, "missing": [" ", "?"], **extra},
        "y": {"kind": "number"}}}


def test_declared_blanks_are_read_as_missing_by_validation():
    table = ColumnTable.from_dict(blank_table())
    frame = pd.DataFrame({"total": ["1.5", " ", "?", "7"], "y": [1.0, 2.0, 3.0, 4.0]})
    out = validate(frame, table)
    assert out["total"].dtype == "float64"
    assert out["total"].isna().tolist() == [False, True, True, False]
    assert table.column("total").spec()["missing"] == [" ", "?"]


@pytest.mark.parametrize(("extra", "message"), [
    ({"nullable": False}, "strings read as blank need `nullable: true`"),
    ({"missing": " "}, "a non-empty list of strings, got ' '"),
    ({"missing": []}, "a non-empty list of strings"),
])
def test_a_bad_missing_declaration_names_the_key(extra, message):
    with pytest.raises(ConfigError, match="columns.total.missing: ") as err:
        ColumnTable.from_dict(blank_table(**extra))
    assert message in str(err.value)


def schema() -> FeatureSchema:
    return FeatureSchema([Feature("total", "number", min=0, max=100, nullable=True,
                                  missing=[" "])], target="y", model_kind="regression")


def test_the_services_record_reads_a_declared_blank_as_null():
    record = input_model(schema())
    assert record.model_validate({"total": " "}).total is None
    assert record.model_validate({"total": 5.0}).total == 5.0
    with pytest.raises(ValueError, match="total"):
        record.model_validate({"total": "x"})
    described = record.model_json_schema()["properties"]["total"]["anyOf"][0]["description"]
    assert described == "total: number in [0, 100]; may be null (or ' ', read as null)"
    stored = FeatureSchema.from_dict(schema().to_dict())
    assert stored.features[0].missing == [" "]


def test_batch_scoring_reads_a_declared_blank_as_missing():
    frame = pd.DataFrame({"total": ["3.5", " ", "12"]})
    out = check_chunk(frame, schema(), "file.csv")
    assert out["total"].isna().tolist() == [False, True, False]
    with pytest.raises(BatchInputError, match="is not a number"):
        check_chunk(pd.DataFrame({"total": ["3.5", "?"]}), schema(), "file.csv")
