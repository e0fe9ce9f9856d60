"""A guarded churn service: an API key, small limits and the test-only delay knob.

The limits are small so the tests can reach them with a handful of requests: 4 requests in
progress, a 2 s time limit, a 64 KiB body received within 2 s, a request head within 2 s.
``x-debug-delay-ms`` holds a request inside its slot for that long: the service is served
from the test module ``tests/service/delaying.py``, which adds that knob (nbprod has none).
"""

from __future__ import annotations

import os
import re
import time

import httpx
import pytest

from projectkit import ROOT

from ..conftest import bentoml_serve

API_KEY = "tk-3f9a1c77e2b04d58a6c1"
LIMITS = {"concurrency": 4, "timeout": 2.0, "body": 64 * 1024, "body_timeout": 2.0,
          "head_timeout": 2.0}


#: The service with the test-only delay header (tests/service/delaying.py).
DELAYING = "service.delaying:ModelService"


def delaying_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with ``tests/`` on ``PYTHONPATH``, so `bentoml serve DELAYING` finds its module."""
    tests = str(ROOT / "tests")
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [tests, env.get("PYTHONPATH")]))}


def guarded_env(project, **extra: str) -> dict[str, str]:
    return project.env(
        NBPROD_API_KEY=API_KEY,
        NBPROD_MAX_CONCURRENCY=str(LIMITS["concurrency"]),
        NBPROD_REQUEST_TIMEOUT=str(LIMITS["timeout"]),
        NBPROD_MAX_BODY_BYTES=str(LIMITS["body"]),
        NBPROD_BODY_TIMEOUT=str(LIMITS["body_timeout"]),
        NBPROD_HEADER_TIMEOUT=str(LIMITS["head_timeout"]),
        NBPROD_MAX_WAIT="30",  # admission by the concurrency limit here (test_admission.py)
        # each /metrics scrape fresh: `in_progress` polls it (the 1 s cache would hide a
        # moment when every slot is held)
        NBPROD_METRICS_CACHE="0.001",
        **extra,
    )


def in_progress(client: httpx.Client, path: str) -> float:
    """Requests to ``path`` the service is handling now, from its /metrics: BentoML's
    traffic-metrics middleware wraps the guards, so a request held by the delay knob counts."""
    gauge = re.compile(r'^bentoml_service_request_in_progress\{[^}]*endpoint="' + re.escape(path)
                       + r'"[^}]*\} (\S+)$', re.M)
    return sum(float(value) for value in gauge.findall(client.get("/metrics").text))


def hold_slots(client: httpx.Client, path: str, count: int, send, attempts: int = 3) -> list:
    """Send ``count`` held requests with ``send()`` (which returns a future) until all of them are
    inside the service at once, and return their futures.

    On a loaded machine the first requests can finish their hold before the last one arrives; that
    round is waited out and sent again, so a test never starts from slots that were never full.
    """
    for _ in range(attempts):
        held = [send() for _ in range(count)]
        deadline = time.monotonic() + 10
        while (now := in_progress(client, path)) < count:
            if any(future.done() for future in held) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        else:
            return held
        for future in held:
            future.result()
    answers = [future.result()[0] for future in held]
    raise AssertionError(f"{count} requests to {path} were never in progress at once "
                         f"({attempts} rounds; last count {now:g}; last answers {answers})")


@pytest.fixture(scope="session")
def guarded(project):
    """A client of the guarded service (it sends no key unless a test adds one)."""
    env = delaying_env(guarded_env(project))
    with bentoml_serve(DELAYING, project.path, env) as client:
        yield client


@pytest.fixture(scope="session")
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}
