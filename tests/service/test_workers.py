"""Two workers (`NBPROD_WORKERS=2`) behind one real `bentoml serve`, one prediction-log folder.

Predictions are sent from several threads, one connection per request, so both workers answer;
every label is then sent on a new connection, so about half of them reach the worker that did
not answer the prediction. Each must be accepted once, whichever worker gets it, and refused as
labelled already the second time; the log folder holds every prediction exactly once, one file
per worker; the drift gauges are those of one worker, over the rows it answered.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .conftest import bentoml_serve

REQUESTS = 80
ROUNDS = 5
UPDATE_EVERY = 10


@pytest.fixture(scope="module")
def two_workers(project, tmp_path_factory):
    logs = tmp_path_factory.mktemp("two-worker-logs")
    env = project.env(NBPROD_WORKERS="2", NBPROD_PREDICTION_LOG_DIR=str(logs),
                      NBPROD_DRIFT_UPDATE_EVERY=str(UPDATE_EVERY), NBPROD_METRICS_CACHE="0.001")
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        client.logs = logs / project.tag.partition(":")[0]  # type: ignore[attr-defined]  # its own
        yield client


def post(client, path: str, body: dict) -> httpx.Response:
    """One request on its own connection (the kernel picks the worker that accepts it)."""
    return httpx.post(f"{client.base_url}{path}", json=body, timeout=30)


def logged(logs) -> dict[str, list[str]]:
    """Prediction log file -> the request ids in it."""
    return {p.name: [json.loads(line)["request_id"] for line in p.read_text().splitlines()]
            for p in logs.glob("predictions-*.jsonl*")}


def test_feedback_reaches_the_prediction_whichever_worker_answers(project, two_workers):
    rows = project.test_rows()[0]
    customers = [rows[i % len(rows)] for i in range(REQUESTS)]
    ids: list[str] = []
    files: dict[str, list[str]] = {}
    # /readyz is 200 once one worker is ready; on a loaded machine the other may still be
    # loading and the first answers a whole round: send rounds until both have answered
    for _ in range(ROUNDS):
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda c: post(two_workers, "/predict", {"customer": c}),
                                    customers))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers][:3]
        ids += [a.json()["request_id"] for a in answers]
        deadline = time.monotonic() + 30
        while sorted(sum(logged(two_workers.logs).values(), [])) != sorted(ids):
            assert time.monotonic() < deadline, "the prediction log lacks some predictions"
            time.sleep(0.2)
        files = logged(two_workers.logs)
        if len(files) == 2:
            break
    assert len(files) == 2 and all(files.values()), {k: len(v) for k, v in files.items()}

    labels = [{"request_id": rid, "churn": i % 2} for i, rid in enumerate(ids)]
    first = [post(two_workers, "/feedback", {"labels": [label]}) for label in labels]
    assert [r.status_code for r in first] == [200] * len(ids), [r.text for r in first
                                                                 if r.status_code != 200][:3]
    again = [post(two_workers, "/feedback", {"labels": [label]}) for label in labels]
    assert [r.status_code for r in again] == [400] * len(ids)
    assert all("labelled already" in r.json()["error"] and label["request_id"] in r.text
               for r, label in zip(again, labels, strict=True))


def test_each_workers_drift_window_covers_the_rows_it_answered(two_workers):
    answered = [len(v) for v in logged(two_workers.logs).values()]
    metrics = two_workers.get("/metrics").text
    rows = float(re.search(r"^nbprod_drift_window_rows\{[^}]*\} (\S+)$", metrics, re.M).group(1))
    # the gauge is the last worker's to update; rows fewer than UPDATE_EVERY may wait their turn
    assert any(n - UPDATE_EVERY < rows <= n for n in answered), (rows, answered)
    assert re.search(r"^nbprod_drift_psi\{", metrics, re.M)
