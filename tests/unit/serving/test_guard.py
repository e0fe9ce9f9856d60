"""The guard's settings, its open routes, and its deadlines in front of a plain ASGI app."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client import REGISTRY

from nbprod.errors import ConfigError
from nbprod.serving.guard import GuardMiddleware, GuardSettings, guard_settings, is_open


def test_settings_default_and_from_the_environment():
    assert guard_settings({}) == GuardSettings()
    s = guard_settings({"NBPROD_API_KEY": " k ", "NBPROD_MAX_BODY_BYTES": "10",
                        "NBPROD_MAX_CONCURRENCY": "3", "NBPROD_REQUEST_TIMEOUT": "0.5"})
    assert (s.api_key, s.max_body_bytes, s.max_concurrency, s.timeout) == ("k", 10, 3, 0.5)


@pytest.mark.parametrize("name,value", [("NBPROD_MAX_BODY_BYTES", "1MB"),
                                        ("NBPROD_MAX_CONCURRENCY", "0"),
                                        ("NBPROD_REQUEST_TIMEOUT", "-1")])
def test_a_bad_setting_is_named(name, value):
    with pytest.raises(ConfigError, match=f"\\${name}='{value}'"):
        guard_settings({name: value})


def test_only_health_metrics_and_docs_are_open():
    assert all(is_open(p) for p in ("/livez", "/readyz", "/metrics", "/docs.json",
                                     "/static_content/x.css"))
    assert not any(is_open(p) for p in ("/predict", "/metadata", "/feedback", "/livez/x"))


# The guard in front of a plain ASGI app whose requests take ``x-take-ms`` each, one at a
# time (a lock: one model thread), driven in this event loop through httpx's ASGI transport.

def _slow_app():
    lock = asyncio.Lock()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        async with lock:
            await asyncio.sleep(int(headers.get(b"x-take-ms", b"0")) / 1000)
        time.sleep(int(headers.get(b"x-block-ms", b"0")) / 1000)  # the event loop, blocked
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})
    return app


def _late() -> float:
    return REGISTRY.get_sample_value("nbprod_requests_late_total") or 0.0


def _client(**settings) -> httpx.AsyncClient:
    guard = GuardMiddleware(_slow_app(), GuardSettings(**settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://t")


def test_a_request_admitted_behind_another_and_not_answered_within_the_bound_is_refused_at_it():
    """The first request (an idle worker) takes 0.25 s; the estimate knows nothing yet, so the
    second is admitted behind it, but would be answered at about 0.85 s, past the 0.5 s
    bound: it gets 429 with Retry-After at the bound, counted on /metrics, not a late answer
    (each side has a quarter of a second or more to spare on a slow machine)."""
    async def run():
        async with _client(max_wait=0.5, timeout=5.0) as client:
            first = asyncio.create_task(client.post("/predict", headers={"x-take-ms": "250"}))
            await asyncio.sleep(0.05)
            second = await client.post("/predict", headers={"x-take-ms": "600"})
            return await first, second

    before = _late()
    first, second = asyncio.run(run())
    assert first.status_code == 200 and first.headers["server-timing"].startswith("service;dur=")
    assert second.status_code == 429, second.text
    assert second.json() == {"error": "busy: not answered within the 0.5 s bound "
                                      "($NBPROD_MAX_WAIT); retry later"}
    assert int(second.headers["retry-after"]) >= 1 and "server-timing" not in second.headers
    assert _late() == before + 1


def test_an_answer_ready_only_after_the_bound_is_dropped_for_the_refusal():
    """The event loop itself is blocked past the bound (the deadline cannot fire): the answer
    that comes after it is not sent, the client gets the refusal."""
    async def run():
        async with _client(max_wait=0.1, timeout=5.0) as client:
            return await client.post("/predict", headers={"x-block-ms": "250"})
    response = asyncio.run(run())
    assert response.status_code == 429 and "not answered within the 0.1 s bound" in response.text


def test_the_bound_holds_for_a_request_an_idle_worker_took_and_the_service_recovers():
    """An idle worker takes any request; one slower than the bound is refused at it too
    (every admitted request is answered within the bound), and the next fast one is served."""
    async def run():
        async with _client(max_wait=0.1, timeout=5.0) as client:
            slow = await client.post("/predict", headers={"x-take-ms": "300"})
            await asyncio.sleep(0.3)  # the cancelled request's sleep ends; the lock is free
            return slow, await client.post("/predict", headers={"x-take-ms": "0"})
    slow, fast = asyncio.run(run())
    assert slow.status_code == 429 and "not answered within the 0.1 s bound" in slow.text
    assert fast.status_code == 200


def test_past_the_time_limit_the_answer_is_a_504_as_before():
    async def run():
        async with _client(max_wait=5.0, timeout=0.1) as client:
            return await client.post("/predict", headers={"x-take-ms": "400"})
    response = asyncio.run(run())
    assert response.status_code == 504 and response.json() == {"error": "no response within 0.1 s"}


def test_waiting_for_a_cancelled_request_does_not_swallow_the_guards_own_cancellation():
    """The guard cancels a late request and waits for it to stop; if the guard itself is
    cancelled meanwhile (its client gone, the worker stopping), that must reach it."""
    from nbprod.serving.guard import _cancelled

    async def slow_to_stop():
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.2)  # cleaning up after the cancellation

    async def run():
        inner = asyncio.ensure_future(slow_to_stop())
        await asyncio.sleep(0)
        outer = asyncio.ensure_future(_cancelled(inner))
        await asyncio.sleep(0.05)
        outer.cancel()
        await asyncio.wait({outer})
        return outer.cancelled()

    assert asyncio.run(run())
