"""Admission by expected waiting time under overload, and /metrics behind the key and a
cache, against a real `bentoml serve`.

One server with a key, ``NBPROD_METRICS_AUTH=1``, a small waiting bound (0.25 s) and one
record per model call (``NBPROD_MAX_BATCH_SIZE=1``), so a few client threads overload it: twice as many as the bound admits, from the service time measured
at one client in the same run. The benchmark at 1x, 2x and 4x the bound is
``benchmarks/overload.py`` (BENCHMARKS.md).
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from projectkit import wait_until

from ..conftest import bentoml_serve
from .conftest import API_KEY

MAX_WAIT = 0.25
SECONDS = 6.0
#: How far past the bound a response may start, as ``Server-Timing`` rounds it and the event
#: loop wakes the deadline: the 0.1 ms of the header's precision, and a loop turn.
SLACK = 0.005
LATE = "not answered within the 0.25 s bound"


@pytest.fixture(scope="module")
def admitting(project):
    # one record per model call: with batching, a few client threads in this process could
    # not overload the model (concurrent records would share its calls); and the artifact,
    # not the compiled graph, whose microseconds no client threads here could overload
    env = project.env(NBPROD_API_KEY=API_KEY, NBPROD_MAX_WAIT=str(MAX_WAIT),
                      NBPROD_METRICS_AUTH="1", NBPROD_MAX_BATCH_SIZE="1", NBPROD_COMPILED="0")
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        yield client


def test_metrics_needs_the_key_when_the_operator_asks(admitting, auth):
    assert admitting.get("/metrics").status_code == 401
    wrong = admitting.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "invalid_token" in wrong.headers["www-authenticate"]
    page = admitting.get("/metrics", headers=auth)
    assert page.status_code == 200 and "bentoml_service_request" in page.text
    for path in ("/livez", "/readyz"):
        assert admitting.get(path).status_code == 200, path


def test_one_record_per_model_call_serves_both_routes(admitting, auth, customer):
    """NBPROD_MAX_BATCH_SIZE=1 (BentoML's batcher takes at least two): no batching, and a
    list of one record at most."""
    assert admitting.post("/predict", json={"customer": customer}, headers=auth).status_code == 200
    one = admitting.post("/predict_batch", json={"customers": [customer]}, headers=auth)
    assert one.status_code == 200 and len(one.json()) == 1, one.text
    two = admitting.post("/predict_batch", json={"customers": [customer] * 2}, headers=auth)
    assert two.status_code == 400 and "at most 1 item" in two.text, two.text


def _predictions(page: str) -> float:
    found = re.findall(r"^nbprod_prediction_probability_count\{[^}]*\} (\S+)$", page, re.M)
    return sum(map(float, found))


def test_metrics_are_rendered_at_most_once_a_second(admitting, auth, customer):
    assert admitting.post("/predict", json={"customer": customer}, headers=auth).status_code == 200
    first = admitting.get("/metrics", headers=auth).text
    assert admitting.post("/predict", json={"customer": customer}, headers=auth).status_code == 200
    assert admitting.get("/metrics", headers=auth).text == first, "a second page within 1 s"
    def newer() -> str:
        page = admitting.get("/metrics", headers=auth).text
        return page if _predictions(page) > _predictions(first) else ""

    page = wait_until(newer, 10, "the page never came back up to date", interval=0.1)
    assert _predictions(page) > _predictions(first)


def _predict_p50(client, auth, customer, n: int = 40) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        assert client.post("/predict", json={"customer": customer}, headers=auth).status_code == 200
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_sixteen_scrapers_slow_predictions_no_more_than_sixteen_health_probes(
        guarded, auth, customer):
    """Keyed /predict p50 beside 16 clients scraping /metrics in a loop, against beside 16
    clients asking /livez in a loop: the same client-side load in this process, so what is
    left is the server's cost of rendering /metrics (cached: about that of /livez).

    On the guarded server (a 30 s waiting bound), not on this module's: with 16 busy client
    threads on a loaded 2-core machine, a prediction can start later than 0.25 s, and the
    0.25 s bound would then refuse it, which is what it is for, not what this test measures.
    """
    admitting = guarded
    def p50_beside(path: str) -> tuple[float, int]:
        stop = threading.Event()

        def ask() -> int:
            with httpx.Client(base_url=admitting.base_url, headers=auth, timeout=30) as own:
                n = 0
                while not stop.is_set():
                    assert own.get(path).status_code == 200
                    n += 1
                return n

        with ThreadPoolExecutor(16) as pool:
            askers = [pool.submit(ask) for _ in range(16)]
            try:
                p50 = _predict_p50(admitting, auth, customer)
            finally:
                stop.set()
            return p50, sum(f.result() for f in askers)

    health, _ = p50_beside("/livez")
    scraped, scrapes = p50_beside("/metrics")
    assert scrapes > 16, "the scrapers ran"
    assert scraped < 1.5 * health + 0.02, (health, scraped)


def _hammer(client, auth, customer, stop: threading.Event
            ) -> list[tuple[int, float, str, bool]]:
    out = []
    with httpx.Client(base_url=client.base_url, headers=auth, timeout=30) as own:
        while not stop.is_set():
            response = own.post("/predict", json={"customer": customer})
            out.append((response.status_code, _served(response),
                        response.headers.get("retry-after", ""),
                        response.status_code == 429 and LATE in response.text))
    return out


def _served(response: httpx.Response) -> float:
    """The server's time from admission to answer (``Server-Timing``), or -1 without one."""
    served = re.fullmatch(r"service;dur=([\d.]+)", response.headers.get("server-timing", ""))
    return float(served.group(1)) / 1000 if served else -1.0


def test_overload_answers_the_admitted_in_time_and_refuses_the_rest_with_retry_after(
        admitting, auth, customer):
    one = sorted(_served(admitting.post("/predict", json={"customer": customer}, headers=auth))
                 for _ in range(30))
    admitted = max(2, round(MAX_WAIT / one[len(one) // 2]))  # clients the bound admits
    clients = 2 * admitted
    stop = threading.Event()
    with ThreadPoolExecutor(clients) as pool:
        hammers = [pool.submit(_hammer, admitting, auth, customer, stop) for _ in range(clients)]
        health = []
        until = time.monotonic() + SECONDS
        try:
            while time.monotonic() < until:
                start = time.perf_counter()
                status = admitting.get("/livez").status_code
                health.append((status, time.perf_counter() - start))
                time.sleep(0.05)
        finally:
            stop.set()
        results = [r for f in hammers for r in f.result()]
    statuses = {s for s, _, _, _ in results}
    assert statuses <= {200, 429}, statuses
    served = sorted(t for s, t, _, _ in results if s == 200)  # the server's own timing
    refused = [(t, r) for s, t, r, late in results if s == 429 and not late]
    late = [r for s, _, r, late in results if late]
    assert served and refused, (clients, len(served), len(refused))
    assert all(r.isdigit() and int(r) >= 1 for _, r in refused)
    assert all(r.isdigit() and int(r) >= 1 for r in late)
    assert all(t < 0 for t, _ in refused), "a refusal never entered the service"
    assert min(served) >= 0, "every admitted answer says how long it took"
    # every admitted request is answered within the bound: by its answer, or refused at it
    assert served[-1] <= MAX_WAIT + SLACK, (clients, one[len(one) // 2], served[-20:])
    # and the estimate keeps the refusals at the bound rare: admitting every request (the
    # slots alone) at twice the load the bound admits would make most of them late
    assert len(late) < len(served) / 4, (clients, len(late), len(served))
    if late:  # counted on /metrics (its page is cached for a second)
        def counted() -> float:
            page = admitting.get("/metrics", headers=auth).text
            found = re.search(r"^nbprod_requests_late_total (\S+)$", page, re.M)
            return float(found.group(1)) if found and float(found.group(1)) >= len(late) else 0
        wait_until(counted, 10, f"{len(late)} late refusals, not on /metrics", interval=0.2)
    assert len(health) >= 10 and all(s == 200 for s, _ in health)
    # health never queues behind the model: it is never refused at the bound (above), and
    # answered faster than an admitted request, which waits for a model call at least (the
    # event loop both share is busy with the refusals, so the margin varies with the machine)
    health_p50 = statistics.median(t for _, t in health)
    assert health_p50 < statistics.median(served), (health_p50, statistics.median(served))
