"""SIGTERM under load: requests in progress finish, new ones are refused at once, exit 0."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from ..conftest import bentoml_serve
from .conftest import wait_in_progress

DELAY_MS = 2000


def _post(client: httpx.Client, delay_ms: int) -> tuple[str, float]:
    start = time.perf_counter()
    try:
        response = client.post("/metadata", json={}, headers={"x-debug-delay-ms": str(delay_ms)})
        outcome = str(response.status_code)
    except httpx.ConnectError:
        outcome = "refused"
    except httpx.TransportError as exc:
        outcome = type(exc).__name__
    return outcome, time.perf_counter() - start


def _readyz(client: httpx.Client) -> str:
    try:
        return str(client.get("/readyz").status_code)
    except httpx.TransportError:
        return "refused"


def _until_not_ready(client: httpx.Client, timeout: float = 10) -> str:
    """Poll /readyz until the SIGTERM has reached the service (it stops answering 200)."""
    deadline = time.monotonic() + timeout
    while (ready := _readyz(client)) == "200":
        assert time.monotonic() < deadline, "/readyz still 200 after SIGTERM"
        time.sleep(0.02)
    return ready


def test_sigterm_finishes_accepted_requests_and_refuses_new_ones(project):
    env = project.env(NBPROD_DEBUG_DELAY="1")
    with bentoml_serve("nbprod.service:ModelService", project.path, env) as client, \
            ThreadPoolExecutor(16) as pool:
        accepted = [pool.submit(_post, client, DELAY_MS) for _ in range(8)]
        wait_in_progress(client, "/metadata", 8)  # all 8 are inside the service, waiting
        client.proc.send_signal(signal.SIGTERM)
        draining = _until_not_ready(client)
        late = [_post(client, 0) for _ in range(3)]
        ready = _readyz(client)
        done = [f.result() for f in accepted]
        code = client.proc.wait(timeout=60)
        after, _ = _post(client, 0)
    assert [outcome for outcome, _ in done] == ["200"] * 8
    assert all(outcome in ("503", "refused") for outcome, _ in late), late
    assert max(t for _, t in late) < DELAY_MS / 1000 / 4, "refused at once, not held"
    assert draining in ("503", "refused") and ready in ("503", "refused")
    assert code == 0
    assert after == "refused"
