"""The service's guards, as ASGI middleware: key, body size and deadline, admission, time limit.

:class:`GuardMiddleware` sits in front of a service's routes (``nbprod.serving.service`` registers it
outside :class:`nbprod.serving.predictor.ServingMiddleware`) and, for every route but the open ones
(health, metrics, docs), in this order:

1. **API key**: when a key is configured, a request without ``Authorization: Bearer <key>``
   gets 401 with ``WWW-Authenticate: Bearer``; keys are compared in constant time (their
   SHA-256 digests, with :func:`hmac.compare_digest`) and never logged;
2. **body size and deadline**: a ``Content-Length`` over the limit gets 413 before anything
   is read; a streamed (chunked) body is counted as it arrives and gets 413 once it passes
   the limit; a body not received within ``body_timeout`` seconds gets 408. The body is read
   *before* admission, so a client trickling its body holds no request slot;
3. **admission** (:mod:`nbprod.serving.admission`): a request expected to take longer than
   ``max_wait`` (requests in progress x measured time per place), or past ``max_concurrency``
   in progress, gets 429 with ``Retry-After`` at once, without queueing; an admitted one
   whose response has not started within ``max_wait`` after all gets the same 429 then
   (counted in ``nbprod_requests_late_total``), so every admitted request is answered within
   the bound;
4. **time limit**: a request that has not started its response within ``timeout`` gets 504;
   an admitted request's answer says how long it took from admission
   (``Server-Timing: service;dur=<ms>``);
Without a key the service is bound to loopback (:mod:`nbprod.serving.exposure`), and a served
worker answers only requests addressed to it there: a ``Host`` header that is not ``localhost``
or a loopback address gets 403 on every route, so a web page whose name an attacker points at
127.0.0.1 (DNS rebinding) cannot read ``/metadata`` or post to the API from a browser.

5. **graceful shutdown** (:class:`nbprod.compat.uvicorn.Drain`): on SIGTERM new requests get 503 with
   ``Connection: close`` and ``/readyz`` 503, while every connection already accepted gets
   its answer.

``/metrics`` is rendered at most once per ``metrics_cache`` seconds, however many
scrapers ask (the others get the cached page), and, with ``NBPROD_METRICS_AUTH=1`` and a key
set, needs the key like the API. Health, docs and (by default) metrics need no key and pass
every limit, so they answer under any load. On the lifespan event the guard also sets up the
worker (:func:`nbprod.serving.worker.on_worker_start`: it dies with its server; request heads have a
deadline). :func:`guard_settings` reads the settings from the environment; :mod:`nbprod.serving.exposure`
refuses a key-less service bound beyond loopback.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..compat.asgi import header, respond
from ..compat.uvicorn import Drain
from ..settings import env_positive
from .admission import Admission
from .exposure import host_name, is_loopback

log = logging.getLogger(__name__)

KEY_ENV = "NBPROD_API_KEY"
BODY_ENV = "NBPROD_MAX_BODY_BYTES"
CONCURRENCY_ENV = "NBPROD_MAX_CONCURRENCY"
TIMEOUT_ENV = "NBPROD_REQUEST_TIMEOUT"
MAX_WAIT_ENV = "NBPROD_MAX_WAIT"
BODY_TIMEOUT_ENV = "NBPROD_BODY_TIMEOUT"
HEAD_TIMEOUT_ENV = "NBPROD_HEADER_TIMEOUT"
METRICS_AUTH_ENV = "NBPROD_METRICS_AUTH"
METRICS_CACHE_ENV = "NBPROD_METRICS_CACHE"

#: Routes that stay open (no key, no limits): health, metrics, the docs page and its assets.
OPEN_PATHS = frozenset(
    {"/", "/livez", "/readyz", "/healthz", "/metrics", "/docs", "/docs.json", "/schema.json"}
)
OPEN_PREFIXES = ("/static_content/",)
METRICS = "/metrics"
CLOSE = (b"connection", b"close")


@dataclass(frozen=True)
class GuardSettings:
    """What the guards enforce; ``api_key`` empty means no authentication."""

    api_key: str = ""
    max_body_bytes: int = 1 << 20
    max_concurrency: int = 256
    timeout: float = 30.0
    max_wait: float = 5.0
    body_timeout: float = 10.0
    head_timeout: float = 10.0
    metrics_auth: bool = False
    metrics_cache: float = 1.0


def guard_settings(environ: Mapping[str, str] | None = None) -> GuardSettings:
    """The guard settings from the environment (README "Reliability" lists the defaults)."""
    env = os.environ if environ is None else environ
    d = GuardSettings()
    return GuardSettings(
        api_key=env.get(KEY_ENV, "").strip(),
        max_body_bytes=env_positive(BODY_ENV, int, d.max_body_bytes, env),
        max_concurrency=env_positive(CONCURRENCY_ENV, int, d.max_concurrency, env),
        timeout=env_positive(TIMEOUT_ENV, float, d.timeout, env),
        max_wait=env_positive(MAX_WAIT_ENV, float, d.max_wait, env),
        body_timeout=env_positive(BODY_TIMEOUT_ENV, float, d.body_timeout, env),
        head_timeout=env_positive(HEAD_TIMEOUT_ENV, float, d.head_timeout, env),
        metrics_auth=env.get(METRICS_AUTH_ENV, "").strip().lower() in ("1", "true", "on"),
        metrics_cache=env_positive(METRICS_CACHE_ENV, float, d.metrics_cache, env),
    )


async def _cancelled(task: asyncio.Future) -> None:
    """Cancel ``task`` and wait until it has stopped; what it raised on the way is dropped,
    while a cancellation of the caller itself still reaches the caller."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved: asyncio would log it as never retrieved


@functools.cache
def late_requests() -> Any:
    """The counter of admitted requests refused at the bound (created in the worker, on first
    use: BentoML sets the metrics' multiprocess folder after importing the service)."""
    from prometheus_client import Counter

    return Counter("nbprod_requests_late", "Requests admitted, then refused with 429 at the "
                   f"waiting bound (${MAX_WAIT_ENV}): not answered in time")


def is_open(path: str) -> bool:
    """Whether ``path`` is a health, metrics or docs route (no key, no limits)."""
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class MetricsCache:
    """The last ``/metrics`` page for ``ttl`` seconds; one rendering at a time."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._page: tuple[float, list[dict]] | None = None
        self._lock = asyncio.Lock()

    async def serve(self, app: Any, scope: dict, receive: Any, send: Any) -> None:
        async with self._lock:  # concurrent scrapers wait for one rendering, then share it
            loop = asyncio.get_running_loop()
            if self._page is None or loop.time() - self._page[0] > self.ttl:
                messages: list[dict] = []

                async def keep(message: dict) -> None:
                    messages.append(message)

                await app(scope, receive, keep)
                ok = messages and messages[0].get("status") == 200
                self._page = (loop.time(), messages) if ok else None
            else:
                messages = self._page[1]
        for message in messages:
            await send(message)


class GuardMiddleware:
    """ASGI middleware enforcing :class:`GuardSettings` on every route but the open ones."""

    def __init__(self, app: Any, settings: GuardSettings | None = None) -> None:
        self.app = app
        self.settings = s = settings or guard_settings()
        self.key_digest = hashlib.sha256(s.api_key.encode()).digest() if s.api_key else None
        self.admission = Admission(s.max_wait, s.max_concurrency)
        self.drain = Drain(lambda: self.admission.in_flight, s.timeout)
        self.metrics = MetricsCache(s.metrics_cache)
        self.served = False  # in a worker of `bentoml serve` (not an in-process test client)

    @property
    def in_flight(self) -> int:
        return self.admission.in_flight

    @property
    def draining(self) -> bool:
        return self.drain.draining

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self._start_worker()
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.served and self.key_digest is None and not self._addressed_here(scope):
            await respond(send, 403, "the Host header names another machine: without an API key "
                          "this service answers only requests to localhost or 127.0.0.1 "
                          f"(set ${KEY_ENV} to serve other names)")
            return
        if self.draining:
            send = self._closing(send)
        path = scope["path"]
        if path == METRICS:
            await self._metrics(scope, receive, send)
        elif is_open(path):
            if self.draining and path == "/readyz":
                await respond(send, 503, "shutting down", [CLOSE])
                return
            await self.app(scope, receive, send)
        else:
            await self._guarded(scope, receive, send)

    def _start_worker(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # an in-process test client, not a served worker
        from .worker import on_worker_start

        on_worker_start(self.settings.head_timeout)
        self.drain.install()
        self.served = True

    @staticmethod
    def _addressed_here(scope: dict) -> bool:
        """Whether the request's ``Host`` is loopback (or absent, as HTTP/1.0 allows)."""
        host = header(scope, b"host").decode("latin-1")
        return not host or is_loopback(host_name(host))

    @staticmethod
    def _closing(send: Any) -> Any:
        """``send`` with ``Connection: close`` on the response (the worker is draining)."""
        async def closing(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message["headers"] = [*headers, CLOSE]
            await send(message)
        return closing

    async def _metrics(self, scope: dict, receive: Any, send: Any) -> None:
        if self.settings.metrics_auth and not await self._authenticate(scope, send):
            return
        await self.metrics.serve(self.app, scope, receive, send)

    async def _authenticate(self, scope: dict, send: Any) -> bool:
        """True when no key is set or the request carries it; else answers 401."""
        if self.key_digest is None or self._authorized(scope):
            return True
        challenge = b'Bearer realm="nbprod"'
        if header(scope, b"authorization"):
            challenge += b', error="invalid_token"'
        await respond(send, 401, "missing or wrong API key: send 'Authorization: Bearer <key>'",
                      [(b"www-authenticate", challenge)])
        return False

    async def _guarded(self, scope: dict, receive: Any, send: Any) -> None:
        s = self.settings
        if self.draining:
            await respond(send, 503, "shutting down; retry on another instance",
                          [(b"retry-after", b"1"), CLOSE])
            return
        if not await self._authenticate(scope, send):
            return
        length = header(scope, b"content-length")
        if length.isdigit() and int(length) > s.max_body_bytes:
            await self._too_large(send)
            return
        try:  # the whole body, before the request takes a place in the queue
            body = await asyncio.wait_for(self._read_body(receive), s.body_timeout)
        except TimeoutError:
            await respond(send, 408, f"request body not received within {s.body_timeout:g} s "
                          f"(${BODY_TIMEOUT_ENV})", [CLOSE])
            return
        if body is None:
            await self._too_large(send)
            return
        verdict = self.admission.admit()
        if not verdict.admitted:
            await respond(send, 429, f"busy: expected {verdict.expected:.2f} s, over the "
                          f"{s.max_wait:g} s bound (${MAX_WAIT_ENV}); retry later",
                          [(b"retry-after", str(verdict.retry_after).encode())])
            return
        answered = True
        try:
            answered = await self._serve_in_time(scope, body, receive, send)
        finally:
            self.admission.done(verdict, answered)

    async def _serve_in_time(self, scope: dict, body: bytes, receive: Any, send: Any) -> bool:
        """Serve an admitted request within its deadline: the bound (``max_wait``) when it is
        below the time limit, else the time limit. A response that has not started by then
        is not sent: the request is cancelled (or its late answer dropped) and refused with
        429 at the bound, or 504 at the time limit. A response started in time is never cut
        short. False when the request was refused at the bound (no sample of the time per
        place, :meth:`nbprod.serving.admission.Admission.done`)."""
        s = self.settings
        loop = asyncio.get_running_loop()
        admitted = loop.time()
        deadline = min(s.max_wait, s.timeout)
        started = late = False

        async def tracking_send(message: dict) -> None:
            nonlocal started, late
            if message["type"] == "http.response.start" and not late:
                took = loop.time() - admitted  # how long the service took, as admission saw it
                if took > deadline:  # the event loop woke the deadline late: too late still
                    late = True
                else:
                    started = True
                    message["headers"] = [*message.get("headers", []),
                                          (b"server-timing", f"service;dur={took * 1000:.1f}".encode())]
                    if self.draining:  # SIGTERM came while it ran: the client must not reuse it
                        message["headers"].append(CLOSE)
            if not late:
                await send(message)

        serving = asyncio.ensure_future(self._serve(scope, body, receive, tracking_send))
        try:
            await asyncio.wait({serving}, timeout=deadline)
            if not serving.done() and started:  # its answer is on the way: not cut short
                await asyncio.wait({serving}, timeout=s.timeout - deadline)
            if serving.done() and not late:
                serving.result()  # its exception, if it raised one
                return True
            await _cancelled(serving)
            if started:
                return True
            busy = deadline < s.timeout
            await self._give_up(send, busy)
            return not busy
        finally:
            if not serving.done():
                serving.cancel()

    async def _give_up(self, send: Any, busy: bool) -> None:
        """Answer a request whose response did not start in time: 429 at the bound (``busy``),
        504 at the time limit."""
        s = self.settings
        if not busy:
            await respond(send, 504, f"no response within {s.timeout:g} s")
            return
        late_requests().inc()
        retry = max(1, math.ceil(self.admission.expected() - s.max_wait))
        await respond(send, 429, f"busy: not answered within the {s.max_wait:g} s bound "
                      f"(${MAX_WAIT_ENV}); retry later", [(b"retry-after", str(retry).encode())])

    def _authorized(self, scope: dict) -> bool:
        scheme, _, token = header(scope, b"authorization").partition(b" ")
        digest = hashlib.sha256(token.strip()).digest()
        return scheme.lower() == b"bearer" and hmac.compare_digest(digest, self.key_digest or b"")

    async def _serve(self, scope: dict, body: bytes, receive: Any, send: Any) -> None:
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Any) -> bytes | None:
        """The whole request body, or None once it passes the size limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send: Any) -> None:
        limit = self.settings.max_body_bytes
        await respond(send, 413, f"request body over {limit} bytes (${BODY_ENV})", [CLOSE])
