"""nbprod.serving.predictor without a server: tag resolution, the generated input type, the predictor."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

with warnings.catch_warnings():  # starlette announces a future switch of its test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from nbprod import FeatureSchema, ModelStoreError, PredictionError, derive_feature_schema
from nbprod.serving.predictor import (
    VERSION_HEADER,
    Predictor,
    ServingMiddleware,
    input_model,
    model_tag,
)


@pytest.fixture
def schema(frame, telco_table) -> FeatureSchema:
    return derive_feature_schema(frame, telco_table)


@pytest.fixture
def row(frame, telco_table) -> dict:
    return frame[telco_table.features].astype(object).iloc[0].to_dict()


def test_model_tag_from_env_then_registration_file(tmp_path, monkeypatch, model_name):
    registration = tmp_path / "registration.json"  # a name nothing in the store promoted
    registration.write_text(json.dumps({"tag": f"{model_name}:abc123"}))
    monkeypatch.delenv("NBPROD_MODEL_TAG", raising=False)
    assert model_tag(registration) == f"{model_name}:abc123"
    monkeypatch.setenv("NBPROD_MODEL_TAG", f"{model_name}:zzz")
    assert model_tag(registration) == f"{model_name}:zzz"


def test_bento_argument_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("NBPROD_MODEL_TAG", "telco_churn:from_env")
    assert model_tag(tmp_path / "missing.json", argument="telco_churn:arg") == "telco_churn:arg"
    assert model_tag(tmp_path / "missing.json", argument="") == "telco_churn:from_env"


def test_the_production_version_is_served(tmp_path, monkeypatch, model_name):
    from sklearn.dummy import DummyClassifier

    from nbprod import register_model
    from nbprod.registry.lifecycle import promote, rollback

    monkeypatch.delenv("NBPROD_MODEL_TAG", raising=False)
    model = DummyClassifier().fit([[0], [1]], [0, 1])
    first = register_model(model_name, model, {})
    registration = tmp_path / "registration.json"
    registration.write_text(json.dumps({"tag": first, "promoted": False}))
    assert model_tag(registration) == first  # nothing promoted yet: the registered version
    promote(first)
    candidate = register_model(model_name, model, {})
    registration.write_text(json.dumps({"tag": candidate, "promoted": False}))
    assert model_tag(registration) == first  # the gate refused the candidate
    promote(candidate)
    assert model_tag(registration) == candidate  # promoted by hand
    rollback(model_name)
    assert model_tag(registration) == first  # rolled back


@pytest.mark.parametrize("tag", ["telco_churn", "telco_churn:latest", ":v1"])
def test_model_tag_must_be_an_exact_version(tag, monkeypatch):
    monkeypatch.setenv("NBPROD_MODEL_TAG", tag)
    with pytest.raises(ModelStoreError, match="exact version"):
        model_tag()


def test_model_tag_without_registration_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("NBPROD_MODEL_TAG", raising=False)
    with pytest.raises(ModelStoreError, match=r"\(ploomber build\)"):
        model_tag(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ModelStoreError, match="no model tag"):
        model_tag(tmp_path / "bad.json")


def test_input_model_accepts_a_valid_row(schema, row):
    model = input_model(schema, "Customer")
    parsed = model.model_validate_json(json.dumps(row))
    names = list(row)
    assert [getattr(parsed, name) for name in names] == [row[n] for n in names]
    assert model.model_json_schema()["example"] == schema.example()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"contract": "Lifetime"}, "contract"),
        ({"tenure": -1}, "tenure"),
        ({"tenure": 121}, "tenure"),
        ({"tenure": 1.5}, "tenure"),
        ({"monthly_charges": "20"}, "monthly_charges"),
        ({"partner": True}, "partner"),
        ({"partner": 2}, "partner"),
        ({"extra": 1}, "extra"),
        ({"internet_service": None}, "internet_service"),
    ],
)
def test_input_model_rejects_and_names_the_field(schema, row, change, field):
    model = input_model(schema)
    with pytest.raises(ValidationError) as info:
        model.model_validate_json(json.dumps({**row, **change}))
    assert [e["loc"] for e in info.value.errors()] == [(field,)]


def test_input_model_rejects_nan_and_missing(schema, row):
    model = input_model(schema)
    with pytest.raises(ValidationError, match="finite"):
        model.model_validate_json(json.dumps({**row, "total_charges": float("nan")}))
    without = {k: v for k, v in row.items() if k != "tenure"}
    with pytest.raises(ValidationError, match="tenure"):
        model.model_validate_json(json.dumps(without))


def test_nullable_feature_accepts_null(schema, row):
    features = [f if f.name != "total_charges" else type(f)(**{**f.__dict__, "nullable": True})
                for f in schema.features]
    model = input_model(FeatureSchema(features, schema.target, schema.classes))
    parsed = model.model_validate_json(json.dumps({**row, "total_charges": None}))
    assert parsed.total_charges is None


class _Model:
    """A stand-in estimator: probability = tenure / 100, or an error."""

    def __init__(self, fail: Exception | None = None, value: float | None = None):
        self.fail, self.value, self.seen = fail, value, []

    def predict_proba(self, frame):
        self.seen.append(frame)
        if self.fail:
            raise self.fail
        p = np.full(len(frame), self.value) if self.value is not None else frame["tenure"] / 100
        return np.column_stack([1 - p, p])


def test_predictor_builds_one_frame_in_schema_order(schema, frame):
    model = _Model()
    features = [c for c in frame.columns if c != "churn"]
    rows = frame[features].astype(object).to_dict("records")
    predictor = Predictor(model, schema, "m:1", threshold=0.06)
    out = predictor.predict(rows)
    assert len(model.seen) == 1 and list(model.seen[0].columns) == features
    assert [p.probability for p in out] == pytest.approx(list(frame["tenure"] / 100))
    assert [p.label for p in out] == ["No", "Yes", "Yes", "Yes"]  # tenure 5, 6, 7, 8
    assert {p.model_version for p in out} == {"m:1"} and predictor.predict([]) == []


@pytest.mark.parametrize("model, match", [
    (_Model(fail=ValueError("Found unknown categories")), "unknown categories"),
    (_Model(value=float("nan")), "non-finite"),
])
def test_model_failures_become_prediction_errors(schema, row, model, match):
    with pytest.raises(PredictionError, match=match):
        Predictor(model, schema, "m:1").predict([row])


def test_middleware_stamps_the_version_and_refuses_non_json():
    async def echo(request):
        return JSONResponse(await request.json())

    app = Starlette(routes=[Route("/predict", echo, methods=["POST"])])
    client = TestClient(ServingMiddleware(app, version="m:1", paths=["/predict"]))
    ok = client.post("/predict", json={"a": 1})
    assert ok.status_code == 200 and ok.headers[VERSION_HEADER] == "m:1"
    bad = client.post("/predict", content=b"a=1", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 415 and "text/plain" in bad.json()["error"]
    assert bad.headers[VERSION_HEADER] == "m:1"
    none = client.post("/predict", content=b"{}", headers={"Content-Type": ""})
    assert none.status_code == 415
