"""The churn API served from the source by a real `bentoml serve`, over real HTTP.

What a request gets back is tested in this process (``tests/service/inprocess``); here, what
only the served process shows: its health routes, the batcher, the Python client, its log."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import bentoml
import pytest

from projectkit import FEATURES, SERVED, wait_for_text

from .inputs import bad_cases


def test_health_and_metrics_endpoints_stay(server):
    for path in ("/livez", "/readyz", "/metrics"):
        assert server.get(path).status_code == 200, path
    assert "bentoml_service_request" in server.get("/metrics").text


def test_predict_one_customer(server, project, customer):
    resp = server.post("/predict", json={"customer": customer})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == project.tag == resp.headers["x-model-version"]
    assert 0.0 < body["probability"] < 1.0
    assert body["threshold"] == 0.5
    assert body["label"] == ("Yes" if body["probability"] >= 0.5 else "No")
    # no exporter configured: no OpenTelemetry span for a prediction (BentoML names its span
    # in this header), while the other routes keep theirs
    assert "x-bentoml-request-id" not in resp.headers
    assert "x-bentoml-request-id" in server.post("/metadata", json={}).headers


def test_metadata_has_version_metrics_and_lineage(server, project):
    resp = server.post("/metadata", json={})
    assert resp.status_code == 200
    meta = resp.json()
    assert meta["model_version"] == project.tag == resp.headers["x-model-version"]
    assert meta["features"] == FEATURES
    assert 0.5 < meta["metrics"]["roc_auc"] <= 1.0
    lineage = {"parameters", "git", "data", "notebooks", "versions", "artifact", "compiled"}
    assert lineage <= set(meta["lineage"])
    # the reference model answers from its compiled graph, within its recorded parity
    assert meta["served_from"] == "compiled"
    assert meta["lineage"]["compiled"]["parity"]["max_difference"] <= SERVED


def test_single_and_batch_probabilities_equal_the_evaluation(server, project):
    rows, expected = project.test_rows()
    batch = server.post("/predict_batch", json={"customers": rows})
    assert batch.status_code == 200, batch.text
    got = [p["probability"] for p in batch.json()]
    assert got == pytest.approx(expected, abs=SERVED, rel=0)
    with ThreadPoolExecutor(8) as pool:
        single = list(pool.map(lambda r: server.post("/predict", json={"customer": r}), rows))
        # one customer per request, concurrently: the batcher merges them, order must hold
        merged = list(
            pool.map(lambda r: server.post("/predict_batch", json={"customers": [r]}), rows)
        )
    assert [r.json()["probability"] for r in single] == pytest.approx(expected, abs=SERVED, rel=0)
    assert [r.json()[0]["probability"] for r in merged] == pytest.approx(expected, abs=SERVED, rel=0)


def test_python_client_example(server, customer):
    with bentoml.SyncHTTPClient(str(server.base_url)) as client:
        one = client.predict(customer=customer)
        many = client.predict_batch(customers=[customer, customer])
    assert one["model_version"] == many[0]["model_version"]
    # the graph's float32 kernels for one row and for two may round apart (6e-8 seen): the
    # single-record trial's bound (nbprod.serving.trial.TOLERANCE)
    assert [m["probability"] for m in many] == pytest.approx([one["probability"]] * 2, abs=1e-6)


#: One bad input per concern, sent to the served process (every case: the in-process tier).
SERVED_CASES = ("missing field", "wrong type", "NaN", "bad row in a batch", "malformed JSON",
                "wrong content type", "JSON in latin-1")


def test_bad_inputs_are_a_4xx_logged_as_one_line_and_the_server_survives(server, customer):
    start = server.log.stat().st_size  # what this test's requests log comes after
    failures = []
    cases = bad_cases(customer)
    for name in SERVED_CASES:
        path, body, needle, *ctype = cases[name]
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
