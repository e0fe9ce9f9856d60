"""Fuzzing the guarded service: schemathesis on its own OpenAPI spec, hypothesis on its input.

In CI each of the 8 fuzz tests runs ``NBPROD_FUZZ_EXAMPLES`` (default 40) seeded examples,
about 320 requests in all (schemathesis: valid and invalid cases of each operation); the full
run (README "Reliability") sets it to 200, about 1,600 requests:

    NBPROD_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/service/hardening/test_fuzz.py

Every answer must be a 2xx or a 4xx whose JSON body says what is wrong (``error``) and,
for invalid input, where (``detail[].loc``); never a 5xx; ``/livez`` stays healthy.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis import GenerationMode

from nbprod.data.schema import Feature, FeatureSchema
from nbprod.serving.predictor import input_model

EXAMPLES = int(os.environ.get("NBPROD_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)


def assert_clear_answer(status: int, body: bytes) -> None:
    """A 2xx, or a 4xx with a JSON error (and, for invalid input, where it is)."""
    assert status < 500, f"{status}: {body[:500]!r}"
    if status < 400:
        return
    payload = json.loads(body)
    assert isinstance(payload.get("error"), str) and payload["error"], payload
    if status == 400 and "detail" in payload:
        assert payload["detail"] and all(
            isinstance(d["loc"], list) and d["msg"] for d in payload["detail"]), payload


@pytest.fixture(scope="module")
def api_schema(guarded):
    return schemathesis.openapi.from_url(f"{guarded.base_url}/docs.json")


# schemathesis' own pytest plugin (``from_fixture``) does not run under pytest 9, so each
# operation's hypothesis strategy is driven here.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/metadata"])
def test_openapi_operations_answer_every_input_clearly(api_schema, route, mode, auth):
    operation = api_schema[route]["POST"]

    @FUZZ
    @given(operation.as_strategy(mode))
    def check(case):
        response = case.call(headers=auth, timeout=30)
        assert_clear_answer(response.status_code, response.content)

    check()


# -- hypothesis on the generated input model -------------------------------------------


@pytest.fixture(scope="module")
def features(project) -> FeatureSchema:
    return FeatureSchema.from_dict(
        json.loads((project.smoke / "model/feature_schema.json").read_text()))


def valid_value(feature: Feature) -> st.SearchStrategy:
    if feature.kind == "categorical":
        value = st.sampled_from(list(feature.categories))
    elif feature.kind == "binary":
        value = st.sampled_from([0, 1])
    elif feature.kind == "integer":
        value = st.integers(int(feature.min), int(feature.max))
    else:
        value = st.floats(feature.min, feature.max, allow_nan=False, allow_infinity=False)
    return st.one_of(st.none(), value) if feature.nullable else value


def invalid_value(feature: Feature) -> st.SearchStrategy:
    """Values the input model must refuse for ``feature``: wrong type, out of range, unknown."""
    wrong = [st.text(max_size=5).filter(lambda s: s not in (feature.categories or ())),
             st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                   st.integers(), max_size=1)]
    if not feature.nullable:
        wrong.append(st.none())
    if feature.kind in ("binary", "integer", "number"):
        wrong += [st.floats(max_value=feature.min, exclude_max=True, allow_nan=False),
                  st.floats(min_value=feature.max, exclude_min=True, allow_nan=False),
                  st.just(str(feature.example)), st.booleans()]
    if feature.kind in ("binary", "integer"):
        wrong.append(st.floats(feature.min, feature.max).filter(lambda x: x != int(x)))
    return st.one_of(wrong)


@st.composite
def customers(draw, schema: FeatureSchema, broken: bool = False) -> tuple[dict, str | None]:
    row = {f.name: draw(valid_value(f)) for f in schema.features}
    if not broken:
        return row, None
    feature = draw(st.sampled_from(schema.features))
    how = draw(st.sampled_from(["value", "missing"]))
    if how == "missing":
        del row[feature.name]
    else:
        row[feature.name] = draw(invalid_value(feature))
    return row, feature.name


def test_valid_customers_are_scored(guarded, auth, features):
    model = input_model(features)

    @FUZZ
    @given(customers(features))
    def check(drawn):
        row, _ = drawn
        model.model_validate(row)
        response = guarded.post("/predict", json={"customer": row}, headers=auth)
        assert response.status_code == 200, response.text
        assert 0.0 <= response.json()["probability"] <= 1.0

    check()


def test_one_bad_field_gets_400_naming_it(guarded, auth, features):
    model = input_model(features)

    @FUZZ
    @given(customers(features, broken=True))
    def check(drawn):
        row, field = drawn
        with pytest.raises(ValidationError):
            model.model_validate(row)
        response = guarded.post("/predict", json={"customer": row}, headers=auth)
        assert_clear_answer(response.status_code, response.content)
        assert response.status_code == 400, response.text
        assert {tuple(d["loc"][:2]) for d in response.json()["detail"]} == {("customer", field)}

    check()


def test_livez_after_fuzzing(guarded):
    # the last test of this module: after every fuzz test above (pytest keeps file order)
    assert guarded.get("/livez").status_code == 200
    assert guarded.get("/readyz").status_code == 200
