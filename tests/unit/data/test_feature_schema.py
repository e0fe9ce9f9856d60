import json

import pytest

import churn
from nbprod import ConfigError, Feature, FeatureSchema, derive_feature_schema, reference_statistics
from nbprod.data.validation import validate


@pytest.fixture
def schema(make_frame, telco_table):
    return derive_feature_schema(churn.clean(make_frame(8)), telco_table)


def test_schema_follows_the_declaration(schema, telco_table):
    assert schema.names == telco_table.features
    assert schema.record == "Customer"
    contract = next(f for f in schema.features if f.name == "contract")
    assert contract.kind == "categorical"
    assert contract.categories == ["Month-to-month", "One year", "Two year"]
    tenure = next(f for f in schema.features if f.name == "tenure")
    assert (tenure.min, tenure.max, tenure.unit) == (0, 120, "months")
    female = next(f for f in schema.features if f.name == "female")
    assert (female.kind, female.min, female.max) == ("binary", 0, 1)
    assert schema.classes == ["No", "Yes"] and schema.target == "churn"


def test_nullability_comes_from_the_declaration_not_the_training_rows(loan_table, loan_frame):
    """A column declared nullable stays nullable when the training split has no blank (the
    API then accepts null for it); one declared not nullable never becomes nullable."""
    full = validate(loan_frame(12), loan_table)
    no_blanks = full.dropna()
    assert not no_blanks[["income", "home"]].isna().any().any()
    for frame in (full, no_blanks):
        schema = derive_feature_schema(frame, loan_table)
        nullable = {f.name for f in schema.features if f.nullable}
        assert nullable == {"income", "home"}


def test_example_is_a_valid_row(schema):
    example = schema.example()
    assert set(example) == set(schema.names)
    for f in schema.features:
        if f.kind == "categorical":
            assert example[f.name] in f.categories
        else:
            assert f.min <= example[f.name] <= f.max


def test_round_trip_through_json(schema, tmp_path):
    schema.save(tmp_path / "s.json")
    assert FeatureSchema.load(tmp_path / "s.json") == schema
    assert ": null" not in (tmp_path / "s.json").read_text()


def test_the_model_kind_round_trips_and_is_binary_when_absent(schema):
    assert schema.model_kind == "binary"
    stored = schema.to_dict()
    assert stored["model_kind"] == "binary"
    del stored["model_kind"]
    assert FeatureSchema.from_dict(stored).model_kind == "binary"
    stored.update(model_kind="multiclass", classes=["a", "b", 3])
    multi = FeatureSchema.from_dict(stored)
    assert (multi.model_kind, multi.classes) == ("multiclass", ["a", "b", "3"])
    assert FeatureSchema.from_dict(multi.to_dict()) == multi
    reg = FeatureSchema.from_dict({**stored, "model_kind": "regression", "classes": []})
    assert (reg.model_kind, reg.classes) == ("regression", [])
    with pytest.raises(ConfigError, match="model_kind: 'ordinal' is not one of"):
        FeatureSchema.from_dict({**stored, "model_kind": "ordinal"})


def test_a_broken_schema_file_is_a_clear_error():
    with pytest.raises(ConfigError, match="not a valid feature schema"):
        FeatureSchema.from_dict({"features": [{"kind": "number"}], "target": "y"})
    with pytest.raises(ConfigError, match="kind 'sound'"):
        Feature(name="a", kind="sound")
    with pytest.raises(ConfigError, match="needs categories"):
        Feature(name="a", kind="categorical")


def test_missing_declared_column_is_named(make_frame, telco_table):
    with pytest.raises(ConfigError, match="contract"):
        derive_feature_schema(make_frame(4).drop(columns=["contract"]), telco_table)


def test_reference_statistics(schema, make_frame):
    frame = churn.clean(make_frame(8))
    ref = reference_statistics(frame, schema)
    assert ref["_rows"] == 8
    assert ref["contract"] == {
        "type": "categorical",
        "frequencies": {"Month-to-month": 0.0, "One year": 1.0, "Two year": 0.0},
        "missing": 0.0,
    }
    assert ref["female"]["frequencies"] == {"0": 0.5, "1": 0.5}
    tenure = ref["tenure"]
    assert tenure["type"] == "numeric"
    assert tenure["min"] == 5 and tenure["max"] == 12 and tenure["mean"] == pytest.approx(8.5)
    assert sum(tenure["frequencies"]) == pytest.approx(1.0)
    assert tenure["bin_edges"] == sorted(tenure["bin_edges"])
    json.dumps(ref)  # JSON-able, to be stored with the model
