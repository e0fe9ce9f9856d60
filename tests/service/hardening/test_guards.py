"""The guards of a real `bentoml serve`: API key, body size, load shedding, time limit."""

from __future__ import annotations

import statistics
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from projectkit import BIN, free_port, wait_for_text

from .conftest import API_KEY, LIMITS, hold_slots

JSON = {"content-type": "application/json"}
OPEN = ("/livez", "/readyz", "/metrics", "/docs.json")


def test_api_key_protects_every_api_route_and_only_those(guarded, auth, customer):
    routes = {
        "/predict": {"customer": customer},
        "/predict_batch": {"customers": [customer]},
        "/metadata": {},
    }
    for route, body in routes.items():
        missing = guarded.post(route, json=body)
        assert missing.status_code == 401, route
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in missing.json()["error"]
        wrong = guarded.post(route, json=body, headers={"Authorization": "Bearer not-the-key"})
        assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers[
            "www-authenticate"]
        prefix = guarded.post(route, json=body, headers={"Authorization": f"Bearer {API_KEY[:-1]}"})
        assert prefix.status_code == 401, "a prefix of the key is not the key"
        basic = guarded.post(route, json=body, headers={"Authorization": f"Basic {API_KEY}"})
        assert basic.status_code == 401
        assert guarded.post(route, json=body, headers=auth).status_code == 200, route
    # a route the service may add later (e.g. /feedback) is protected by default
    assert guarded.post("/feedback", json={}).status_code == 401
    for path in OPEN:
        assert guarded.get(path).status_code == 200, path


def test_the_key_never_reaches_the_logs(guarded, auth, customer):
    guarded.post("/predict", json={"customer": customer}, headers=auth)
    guarded.post("/predict", json={"customer": {"tenure": "x"}}, headers=auth)
    guarded.post("/predict", json={"customer": customer},
                 headers={"Authorization": "Bearer wrong-key-5e1d"})
    # a last mistake, logged as one warning line: once it is in the log, so is everything
    # the service logged about the requests before it
    last = f"last_{uuid.uuid4().hex[:12]}"
    guarded.post("/predict", json={"customer": {**customer, last: 1}}, headers=auth)
    log = wait_for_text(guarded.log,
                        f"400 on /predict: customer.{last}: Extra inputs are not permitted")
    assert "Service churn initialized" in log, "the log capture works"
    assert API_KEY not in log and "wrong-key-5e1d" not in log


def test_a_key_is_required_beyond_loopback(project):
    env = project.env()
    env.pop("NBPROD_API_KEY", None)
    result = subprocess.run(
        [str(BIN / "bentoml"), "serve", "nbprod.serving.service:ModelService",
         "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=project.path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "refusing to serve on 0.0.0.0 (from --host) without an API key: set $NBPROD_API_KEY" in (
        result.stdout + result.stderr)


def test_a_body_over_the_limit_gets_413_before_parsing(guarded, auth):
    headers = {**auth, **JSON}
    big = b'{"customer": "' + b"x" * LIMITS["body"] + b'"}'
    declared = guarded.post("/predict", content=big, headers=headers)
    assert declared.status_code == 413
    assert "request body over 65536 bytes" in declared.json()["error"]

    def chunks():  # no Content-Length: the body is counted as it streams in
        for _ in range(LIMITS["body"] // 1024 + 8):
            yield b" " * 1024

    streamed = guarded.post("/predict", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    # just under the limit, the body reaches the parser, which names what is wrong
    small = guarded.post("/predict", content=b" " * 100 + b"{}", headers=headers)
    assert small.status_code == 400 and small.json()["detail"][0]["loc"] == ["customer"]


def _timed(client: httpx.Client, method: str, path: str, **kwargs) -> tuple[int, float, dict]:
    start = time.perf_counter()
    response = client.request(method, path, **kwargs)
    return response.status_code, time.perf_counter() - start, dict(response.headers)


def test_overload_sheds_with_429_and_health_still_answers(guarded, auth):
    limit, delay_ms = LIMITS["concurrency"], 1200
    slow = {**auth, "x-debug-delay-ms": str(delay_ms)}
    with ThreadPoolExecutor(2 * limit + 3) as pool:
        # the first `limit` hold every slot
        busy = hold_slots(guarded.served_env, limit, lambda: pool.submit(
            _timed, guarded, "POST", "/metadata", json={}, headers=slow))
        excess = [pool.submit(_timed, guarded, "POST", "/metadata", json={}, headers=slow)
                  for _ in range(limit)]
        shed = [f.result() for f in excess]
        probes = {path: [_timed(guarded, "GET", path)[:2] for _ in range(5)] for path in
                  ("/livez", "/readyz", "/metrics")}
        served = [f.result() for f in busy]
    assert [s for s, _, _ in served] == [200] * limit
    assert [s for s, _, _ in shed] == [429] * limit
    assert all(h["retry-after"] == "1" for _, _, h in shed)
    # shed at once: far quicker than the requests they would have queued behind
    assert max(t for _, t, _ in shed) < min(t for _, t, _ in served) / 4
    for path, timings in probes.items():
        assert all(status == 200 for status, _ in timings), path
        # not queued behind the held requests: answered in a fraction of their time
        assert statistics.median(t for _, t in timings) < min(t for _, t, _ in served) / 4, \
            (path, timings)
    # once the load is gone, the service takes requests again
    assert guarded.post("/metadata", json={}, headers=auth).status_code == 200


def test_a_request_over_the_time_limit_gets_504(guarded, auth):
    status, elapsed, _ = _timed(guarded, "POST", "/metadata", json={},
                                headers={**auth, "x-debug-delay-ms": "6000"})
    assert status == 504
    assert elapsed < 6.0 / 2, "answered at the limit, not when the work would have ended"
    response = guarded.post("/metadata", json={},
                            headers={**auth, "x-debug-delay-ms": "6000"})
    assert response.json() == {"error": f"no response within {LIMITS['timeout']:g} s"}
