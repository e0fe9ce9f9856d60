"""A guarded churn service: an API key, small limits and the test-only delay knob.

The limits are small so the tests can reach them with a handful of requests: 4 requests in
progress, a 2 s time limit, a 64 KiB body received within 2 s, a request head within 2 s.
``x-debug-delay-ms`` holds a request inside its slot for that long: the service is served
from the test module ``tests/service/delaying.py``, which adds that knob (nbprod has none).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from projectkit import ROOT

from ..conftest import bentoml_serve

API_KEY = "tk-3f9a1c77e2b04d58a6c1"
LIMITS = {"concurrency": 4, "timeout": 2.0, "body": 64 * 1024, "body_timeout": 2.0,
          "head_timeout": 2.0}


#: The service with the test-only delay header (tests/service/delaying.py).
DELAYING = "service.delaying:ModelService"


def delaying_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with ``tests/`` on ``PYTHONPATH``, so `bentoml serve DELAYING` finds its module,
    and a fresh file where the delay middleware counts the requests it holds (:func:`held`)."""
    tests = str(ROOT / "tests")
    fd, held_file = tempfile.mkstemp(prefix="nbprod-held-", suffix=".txt")
    os.close(fd)
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [tests, env.get("PYTHONPATH")])),
            "NBPROD_TEST_HELD_FILE": held_file}


def held(env: dict[str, str]) -> int:
    """How many requests the delay middleware of the service served with ``env`` holds now."""
    text = Path(env["NBPROD_TEST_HELD_FILE"]).read_text().strip()
    return int(text) if text.isdigit() else 0


def guarded_env(project, **extra: str) -> dict[str, str]:
    return project.env(
        NBPROD_API_KEY=API_KEY,
        NBPROD_MAX_CONCURRENCY=str(LIMITS["concurrency"]),
        NBPROD_REQUEST_TIMEOUT=str(LIMITS["timeout"]),
        NBPROD_MAX_BODY_BYTES=str(LIMITS["body"]),
        NBPROD_BODY_TIMEOUT=str(LIMITS["body_timeout"]),
        NBPROD_HEADER_TIMEOUT=str(LIMITS["head_timeout"]),
        NBPROD_MAX_WAIT="30",  # admission by the concurrency limit here (test_admission.py)
        **extra,
    )


def hold_slots(env: dict[str, str], count: int, send, attempts: int = 3) -> list:
    """Send ``count`` delayed requests with ``send()`` (which returns a future) until the
    service (served with ``env``, :func:`delaying_env`) holds all of them at once, and return
    their futures.

    The count comes from the delay middleware itself (a file it rewrites), not from a
    ``/metrics`` scrape, which can take longer than the hold on a loaded machine. The first
    requests can still finish their hold before the last one arrives; that round is waited
    out and sent again, so a test never starts from slots that were never full.
    """
    for _ in range(attempts):
        futures = [send() for _ in range(count)]
        deadline = time.monotonic() + 10
        while (now := held(env)) < count:
            if any(future.done() for future in futures) or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        else:
            return futures
        for future in futures:
            future.result()
    answers = [future.result()[0] for future in futures]
    raise AssertionError(f"{count} delayed requests were never held at once "
                         f"({attempts} rounds; last count {now}; last answers {answers})")


@pytest.fixture(scope="session")
def guarded(project):
    """A client of the guarded service (it sends no key unless a test adds one)."""
    env = delaying_env(guarded_env(project))
    with bentoml_serve(DELAYING, project.path, env) as client:
        client.served_env = env  # hold_slots reads the delay middleware's count through it
        yield client


@pytest.fixture(scope="session")
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}
