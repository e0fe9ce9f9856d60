"""The service's guards: API key, body size, load shedding and a time limit, as ASGI middleware.

:class:`GuardMiddleware` sits in front of a service's routes (``nbprod.service`` registers it
outside :class:`nbprod.serving.ServingMiddleware`) and, for every route but the open ones
(health, metrics, docs), in this order:

1. **API key**: when a key is configured, a request without ``Authorization: Bearer <key>``
   gets 401 with ``WWW-Authenticate: Bearer``; keys are compared in constant time (their
   SHA-256 digests, with :func:`hmac.compare_digest`) and never logged;
2. **body size**: a ``Content-Length`` over the limit gets 413 before anything is read; a
   streamed (chunked) body is counted as it arrives and gets 413 once it passes the limit,
   before the service parses it;
3. **load shedding**: past the concurrency limit (requests in progress in this worker), a
   request gets 429 with ``Retry-After`` at once, without queueing;
4. **time limit**: a request that has not started its response within the timeout gets 504;
5. **graceful shutdown**: on SIGTERM the worker stops taking new work (503 with
   ``Connection: close``, and ``/readyz`` answers 503) while the requests in progress finish,
   then hands over to the server's own shutdown. Uvicorn alone would stop accepting at once,
   and new connections would wait in the listening socket (which BentoML's process manager
   keeps open) until the worker is gone.

Health (``/livez``, ``/readyz``), ``/metrics`` and the docs pass straight through, so they
answer under any load. :func:`guard_settings` reads the settings from the environment
(``NBPROD_API_KEY``, ``NBPROD_MAX_BODY_BYTES``, ``NBPROD_MAX_CONCURRENCY``,
``NBPROD_REQUEST_TIMEOUT``); :func:`check_exposure` refuses a key-less service bound beyond
loopback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .asgi import header, respond
from .errors import ConfigError
from .settings import env_positive

log = logging.getLogger(__name__)

KEY_ENV = "NBPROD_API_KEY"
BODY_ENV = "NBPROD_MAX_BODY_BYTES"
CONCURRENCY_ENV = "NBPROD_MAX_CONCURRENCY"
TIMEOUT_ENV = "NBPROD_REQUEST_TIMEOUT"
#: Test knob: when "1", the header ``x-debug-delay-ms`` makes a guarded request wait that long
#: (inside its concurrency slot and time limit). Off unless this variable is set.
DELAY_ENV = "NBPROD_DEBUG_DELAY"
DELAY_HEADER = b"x-debug-delay-ms"

#: Routes that stay open (no key, no limits): health, metrics, the docs page and its assets.
OPEN_PATHS = frozenset(
    {"/", "/livez", "/readyz", "/healthz", "/metrics", "/docs", "/docs.json", "/schema.json"}
)
OPEN_PREFIXES = ("/static_content/",)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class GuardSettings:
    """What the guards enforce; ``api_key`` empty means no authentication."""

    api_key: str = ""
    max_body_bytes: int = 1 << 20
    max_concurrency: int = 256
    timeout: float = 30.0
    retry_after: int = 1
    debug_delay: bool = False


def guard_settings(environ: Mapping[str, str] | None = None) -> GuardSettings:
    """The guard settings from the environment (defaults: no key, 1 MiB, 256, 30 s)."""
    env = os.environ if environ is None else environ
    default = GuardSettings()
    return GuardSettings(
        api_key=env.get(KEY_ENV, "").strip(),
        max_body_bytes=env_positive(BODY_ENV, int, default.max_body_bytes, env),
        max_concurrency=env_positive(CONCURRENCY_ENV, int, default.max_concurrency, env),
        timeout=env_positive(TIMEOUT_ENV, float, default.timeout, env),
        debug_delay=env.get(DELAY_ENV, "") == "1",
    )


def bind_host(argv: Sequence[str], environ: Mapping[str, str], default: str) -> str:
    """The host ``bentoml serve`` binds: its ``--host`` option, ``$BENTOML_HOST``, or ``default``."""
    for i, arg in enumerate(argv):
        if arg == "--host" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--host="):
            return arg.partition("=")[2]
    return environ.get("BENTOML_HOST", "").strip() or default


def check_exposure(settings: GuardSettings, host: str) -> None:
    """Refuse to serve beyond loopback without an API key."""
    if not settings.api_key and host not in LOOPBACK:
        raise ConfigError(
            f"refusing to serve on {host} without an API key: set ${KEY_ENV} "
            f"(clients then send 'Authorization: Bearer <key>'), or bind to 127.0.0.1"
        )


def is_open(path: str) -> bool:
    """Whether ``path`` is a health, metrics or docs route (no key, no limits)."""
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class GuardMiddleware:
    """ASGI middleware enforcing :class:`GuardSettings` on every route but the open ones."""

    def __init__(self, app: Any, settings: GuardSettings | None = None) -> None:
        self.app = app
        self.settings = settings or guard_settings()
        key = self.settings.api_key
        self.key_digest = hashlib.sha256(key.encode()).digest() if key else None
        self.in_flight = 0
        self.draining = False
        self._drain_installed = False
        self._tasks: set[asyncio.Task] = set()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self._install_drain()
        if scope["type"] != "http" or is_open(scope["path"]):
            if self.draining and scope.get("path") == "/readyz":
                await respond(send, 503, "shutting down", [(b"connection", b"close")])
                return
            await self.app(scope, receive, send)
            return
        s = self.settings
        if self.draining:
            await respond(send, 503, "shutting down; retry on another instance",
                          [(b"retry-after", str(s.retry_after).encode()), (b"connection", b"close")])
            return
        if self.key_digest is not None and not self._authorized(scope):
            challenge = b'Bearer realm="nbprod"'
            if header(scope, b"authorization"):
                challenge += b', error="invalid_token"'
            await respond(send, 401, "missing or wrong API key: send 'Authorization: Bearer <key>'",
                          [(b"www-authenticate", challenge)])
            return
        length = header(scope, b"content-length")
        if length.isdigit() and int(length) > s.max_body_bytes:
            await self._too_large(send)
            return
        if self.in_flight >= s.max_concurrency:
            await respond(send, 429, f"over {s.max_concurrency} requests in progress; retry later",
                          [(b"retry-after", str(s.retry_after).encode())])
            return
        self.in_flight += 1
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(self._serve(scope, receive, tracking_send), s.timeout)
        except TimeoutError:
            if not started:
                await respond(send, 504, f"no response within {s.timeout:g} s")
        finally:
            self.in_flight -= 1

    def _install_drain(self) -> None:
        """Put :meth:`_on_sigterm` in front of the server's SIGTERM handler (once)."""
        if self._drain_installed or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return
        loop = asyncio.get_running_loop()

        def on_sigterm(sig: int, frame: Any) -> None:
            if self.draining:  # a second SIGTERM: shut down now
                previous(sig, frame)
                return
            self.draining = True
            log.info("SIGTERM: finishing %d requests in progress, refusing new ones", self.in_flight)
            loop.call_soon_threadsafe(self._drain_then, previous, sig, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._drain_installed = True

    def _drain_then(self, previous: Any, sig: int, frame: Any) -> None:
        async def drain() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.settings.timeout
            while self.in_flight and loop.time() < deadline:
                await asyncio.sleep(0.02)
            previous(sig, frame)

        task = asyncio.get_running_loop().create_task(drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _authorized(self, scope: dict) -> bool:
        scheme, _, token = header(scope, b"authorization").partition(b" ")
        digest = hashlib.sha256(token.strip()).digest()
        return scheme.lower() == b"bearer" and hmac.compare_digest(digest, self.key_digest or b"")

    async def _serve(self, scope: dict, receive: Any, send: Any) -> None:
        body = await self._read_body(receive)
        if body is None:
            await self._too_large(send)
            return
        if self.settings.debug_delay and (delay := header(scope, DELAY_HEADER)).isdigit():
            await asyncio.sleep(int(delay) / 1000)
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
        chunks, size = [], 0
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
        await respond(send, 413, f"request body over {limit} bytes (${BODY_ENV})",
                      [(b"connection", b"close")])

