"""A guarded churn service: an API key, small limits and the test-only delay knob.

The limits are small so the tests can reach them with a handful of requests: 4 requests in
progress, a 2 s time limit, a 64 KiB body. ``x-debug-delay-ms`` (honoured only because
``NBPROD_DEBUG_DELAY=1`` here) holds a request inside its slot for that long.
"""

from __future__ import annotations

import pytest

from ..conftest import bentoml_serve

API_KEY = "tk-3f9a1c77e2b04d58a6c1"
LIMITS = {"concurrency": 4, "timeout": 2.0, "body": 64 * 1024}


def guarded_env(project, **extra: str) -> dict[str, str]:
    return project.env(
        NBPROD_API_KEY=API_KEY,
        NBPROD_MAX_CONCURRENCY=str(LIMITS["concurrency"]),
        NBPROD_REQUEST_TIMEOUT=str(LIMITS["timeout"]),
        NBPROD_MAX_BODY_BYTES=str(LIMITS["body"]),
        NBPROD_DEBUG_DELAY="1",
        **extra,
    )


@pytest.fixture(scope="session")
def guarded(project):
    """A client of the guarded service (it sends no key unless a test adds one)."""
    with bentoml_serve("churn.service:ChurnService", project.path, guarded_env(project)) as client:
        yield client


@pytest.fixture(scope="session")
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="session")
def customer(project) -> dict:
    return project.test_rows()[0][0]
