"""Two real `bentoml serve` on one store keep their own metrics: the second server's start
emptied the shared Prometheus folder, and the first server's counters read 0 from then on, with
no error (nbprod.compat.bentoml_metrics)."""

from __future__ import annotations

import re

from projectkit import wait_until

from ..conftest import bentoml_serve

SERVICE = "nbprod.serving.service:ModelService"


def predictions_counted(page: str) -> float:
    """The count of /predict requests answered 200 on a /metrics page."""
    return sum(float(value) for value in re.findall(
        r'^bentoml_service_request_total\{[^}]*endpoint="/predict"[^}]*http_response_code="200"'
        r'[^}]*\} (\S+)$', page, re.M))


def test_a_second_server_on_the_same_store_leaves_the_first_ones_metrics(project, customer,
                                                                         tmp_path):
    env = project.env(NBPROD_PREDICTION_LOG_DIR=str(tmp_path / "logs"),
                      NBPROD_METRICS_CACHE="0.001")
    with bentoml_serve(SERVICE, project.path, env) as first:
        for _ in range(5):
            assert first.post("/predict", json={"customer": customer}).status_code == 200
        assert predictions_counted(first.get("/metrics").text) == 5
        with bentoml_serve(SERVICE, project.path, env) as second:
            for _ in range(5):
                assert first.post("/predict", json={"customer": customer}).status_code == 200
            assert second.post("/predict", json={"customer": customer}).status_code == 200
            wait_until(lambda: predictions_counted(first.get("/metrics").text) == 10, 10,
                       lambda: f"the first server counts {first.get('/metrics').text[-2000:]}")
            assert predictions_counted(second.get("/metrics").text) == 1
        probability = re.search(r'^nbprod_prediction_probability_count\{[^}]*\} (\S+)$',
                                first.get("/metrics").text, re.M)
        assert probability and float(probability.group(1)) == 10
    folders = sorted(p.name for p in project.home.glob("prometheus_multiproc_dir*"))
    assert "prometheus_multiproc_dir" in folders, folders
