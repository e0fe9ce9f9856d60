"""What a request gets back from the service, in this process (``Service.to_asgi()`` with a
test client): the bad-input matrix, the OpenAPI page, odd content types.

To add a case, add a line to ``tests/service/inputs.py``. The served process (its log, its limits, its sockets) is tested in ``tests/service/test_api.py`` and
``tests/service/hardening``.
"""

from __future__ import annotations

import json

import pytest

from nbprod.data.columns import ColumnTable
from projectkit import FEATURES, ROOT

from ..inputs import bad_cases

CASES = bad_cases({})  # the names only: each test builds its cases on the example input


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_a_4xx_naming_the_problem(app, customer, name):
    path, body, needle, *ctype = bad_cases(customer)[name]
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": ctype[0] if ctype else "application/json"}
    resp = app.post(path, content=content, headers=headers)
    assert 400 <= resp.status_code < 500, f"{resp.status_code} {resp.text[:300]}"
    assert needle in resp.text, resp.text[:300]
    assert isinstance(resp.json()["error"], str), resp.text


def test_the_example_input_is_scored(app, project, customer):
    resp = app.post("/predict", json={"customer": customer})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == project.tag == resp.headers["x-model-version"]
    assert 0.0 < body["probability"] < 1.0
    assert body["label"] == ("Yes" if body["probability"] >= body["threshold"] else "No")


def test_openapi_documents_the_real_features(app):
    spec = app.get("/docs.json").json()
    customer = spec["components"]["schemas"]["Customer"]
    props = customer["properties"]
    assert list(props) == FEATURES and customer["required"] == FEATURES
    assert customer["additionalProperties"] is False
    assert props["contract"]["enum"] == list(ColumnTable.load(ROOT / "columns.yaml").column("contract").categories)
    assert props["tenure"]["type"] == "integer"
    assert (props["tenure"]["minimum"], props["tenure"]["maximum"]) == (0, 120)
    assert props["female"]["enum"] == [0, 1]
    assert set(customer["example"]) == set(FEATURES)
    assert {"/predict", "/predict_batch", "/metadata"} <= set(spec["paths"])


@pytest.mark.parametrize("charset, status", [("latin-1", 415), ("ISO-8859-1", 415),
                                             ("utf-8", 200), ('"UTF-8"', 200)])
def test_json_in_another_charset_is_refused(app, customer, charset, status):
    body = json.dumps({"customer": customer}).encode("latin-1")
    response = app.post("/predict", content=body,
                        headers={"Content-Type": f"application/json; charset={charset}"})
    assert response.status_code == status, response.text
    if status == 415:
        assert response.json() == {"error": f"JSON must be UTF-8, got charset={charset.lower()}"}


def test_predict_is_answered_in_front_of_bentomls_router_by_the_services_instance(app, customer):
    from nbprod.serving import service

    route = service.PREDICT_ROUTE
    assert route is not None and route.answer is not None  # the instance's own call
    assert route.answer.__self__.predictor.tag == app.post(  # type: ignore[attr-defined]
        "/predict", json={"customer": customer}).json()["model_version"]
