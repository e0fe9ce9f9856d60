"""The churn API served from the source by a real `bentoml serve`, over real HTTP."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import bentoml
import pytest

from nbprod.columns import ColumnTable
from projectkit import FEATURES, ROOT, wait_for_text

MAX_BATCH_SIZE = 256  # nbprod.service.MAX_BATCH_SIZE's default

def test_health_and_metrics_endpoints_stay(server):
    for path in ("/livez", "/readyz", "/metrics"):
        assert server.get(path).status_code == 200, path
    assert "bentoml_service_request" in server.get("/metrics").text


def test_openapi_documents_the_real_features(server, project):
    spec = server.get("/docs.json").json()
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


def test_predict_one_customer(server, project, customer):
    resp = server.post("/predict", json={"customer": customer})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == project.tag == resp.headers["x-model-version"]
    assert 0.0 < body["probability"] < 1.0
    assert body["threshold"] == 0.5
    assert body["label"] == ("Yes" if body["probability"] >= 0.5 else "No")


def test_metadata_has_version_metrics_and_lineage(server, project):
    resp = server.post("/metadata", json={})
    assert resp.status_code == 200
    meta = resp.json()
    assert meta["model_version"] == project.tag == resp.headers["x-model-version"]
    assert meta["features"] == FEATURES
    assert 0.5 < meta["metrics"]["roc_auc"] <= 1.0
    lineage = {"parameters", "git", "data", "notebooks", "versions", "artifact"}
    assert lineage <= set(meta["lineage"])


def test_single_and_batch_probabilities_equal_the_evaluation(server, project):
    rows, expected = project.test_rows()
    batch = server.post("/predict_batch", json={"customers": rows})
    assert batch.status_code == 200, batch.text
    got = [p["probability"] for p in batch.json()]
    assert got == pytest.approx(expected, abs=1e-9, rel=0)
    with ThreadPoolExecutor(8) as pool:
        single = list(pool.map(lambda r: server.post("/predict", json={"customer": r}), rows))
        # one customer per request, concurrently: the batcher merges them, order must hold
        merged = list(
            pool.map(lambda r: server.post("/predict_batch", json={"customers": [r]}), rows)
        )
    assert [r.json()["probability"] for r in single] == pytest.approx(expected, abs=1e-9, rel=0)
    assert [r.json()[0]["probability"] for r in merged] == pytest.approx(expected, abs=1e-9, rel=0)


def test_python_client_example(server, customer):
    with bentoml.SyncHTTPClient(str(server.base_url)) as client:
        one = client.predict(customer=customer)
        many = client.predict_batch(customers=[customer, customer])
    assert one["model_version"] == many[0]["model_version"]
    assert [m["probability"] for m in many] == pytest.approx([one["probability"]] * 2, abs=1e-9)


def _bad_cases(good: dict) -> dict[str, tuple]:
    """name -> (path, body: bytes or JSON, text the error must contain[, content type])."""
    def with_(**changes):
        return {"customer": {**good, **changes}}

    def raw(key: str, literal: str) -> bytes:  # JSON that json.dumps will not write
        text = json.dumps(with_(**{key: 0.0}))
        return text.replace(f'"{key}": 0.0', f'"{key}": {literal}').encode()

    missing = {k: v for k, v in good.items() if k != "tenure"}
    too_many = [good] * (MAX_BATCH_SIZE + 1)
    return {
        "missing field": ("/predict", {"customer": missing}, "tenure"),
        "extra field": ("/predict", with_(shoe_size=42), "shoe_size"),
        "wrong type": ("/predict", with_(tenure="twelve"), "tenure"),
        "number as string": ("/predict", with_(monthly_charges="20.5"), "monthly_charges"),
        "boolean flag": ("/predict", with_(partner=True), "partner"),
        "flag not 0/1": ("/predict", with_(partner=2), "partner"),
        "unknown category": ("/predict", with_(contract="Lifetime"), "contract"),
        "null": ("/predict", with_(internet_service=None), "internet_service"),
        "NaN": ("/predict", raw("monthly_charges", "NaN"), "monthly_charges"),
        "Infinity": ("/predict", raw("total_charges", "Infinity"), "total_charges"),
        "negative": ("/predict", with_(monthly_charges=-1.0), "monthly_charges"),
        "out of range": ("/predict", with_(tenure=1000), "tenure"),
        "customer not an object": ("/predict", {"customer": [1, 2]}, "customer"),
        "bad row in a batch": ("/predict_batch", {"customers": [good, {**good, "tenure": -1}]},
                               "tenure"),
        "empty batch": ("/predict_batch", {"customers": []}, "customers"),
        "batch over the limit": ("/predict_batch", {"customers": too_many}, "customers"),
        "malformed JSON": ("/predict", b'{"customer": {"tenure": 1,', "JSON"),
        "empty body": ("/predict", b"", "customer"),
        "wrong content type": ("/predict", json.dumps({"customer": good}).encode(),
                               "Content-Type", "text/plain"),
        "form content type": ("/predict_batch", b"customers=1", "Content-Type",
                              "application/x-www-form-urlencoded"),
    }


def test_every_bad_input_is_a_4xx_naming_the_problem_and_the_server_survives(server, customer):
    start = server.log.stat().st_size  # what this test's requests log comes after
    failures = []
    for name, (path, body, needle, *ctype) in _bad_cases(customer).items():
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": ctype[0] if ctype else "application/json"}
        resp = server.post(path, content=content, headers=headers)
        if not (400 <= resp.status_code < 500 and needle in resp.text):
            failures.append(f"{name}: {resp.status_code} {resp.text[:300]}")
    assert not failures, "\n".join(failures)
    assert server.get("/livez").status_code == 200
    # each mistake is one warning line naming the field, without a traceback or the value sent;
    # a last one in the log shows the service has logged the requests before it
    last = f"last_{uuid.uuid4().hex[:12]}"
    assert server.post("/predict", json={"customer": {**customer, last: 1}}).status_code == 400
    log = wait_for_text(server.log, f"400 on /predict: customer.{last}: Extra inputs are not permitted")
    ours = server.log.read_bytes()[start:].decode(errors="replace")
    assert "WARNING" in ours and "400 on /predict: customer.tenure: Field required" in ours
    assert "Traceback" not in log and "ValidationError" not in log and "twelve" not in log
    good = server.post("/predict", json={"customer": customer})
    assert good.status_code == 200 and good.json()["model_version"]
