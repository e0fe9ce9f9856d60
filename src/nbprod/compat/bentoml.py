"""Workarounds of BentoML 1.4 bugs, written for bentoml 1.4.40 (the pinned version).

Each one says the bug, what the patch does, and when it can go: when a BentoML release
makes its canary in ``tests/unit/compat/test_compat_bentoml.py`` fail (the bug fixed), drop the
patch and its call. Those touching private classes break loudly there, too, when BentoML
renames them. Nothing here imports BentoML at module level.

- :func:`greedy_batching`: the adaptive batcher learns a wait that feeds on itself;
- :func:`released_timeouts`: the request timeout holds every request for 60 s after its answer;
- :func:`quiet_client_errors`: a client's 4xx logged at ERROR with a traceback;
- :func:`bounded_endpoint_labels`: ``/metrics`` grows a series per path a client invents;
- :class:`JsonApiMiddleware`: 4xx bodies as ``[{"error": ...}]`` arrays, and any Content-Type
  parsed as JSON (415 instead);
- :func:`fixed_list_media_type`: a list output's media type rebuilt on every response;
- :func:`visible_build_context`: ``bentoml build`` refuses a folder with a hidden part;
- :func:`die_with_parent`: a worker outlives its killed server.

:func:`last_option` reads BentoML's command line as click does (the worker's ``--fd``, the
``--host`` of :mod:`nbprod.serving.exposure`).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError
from . import written_for
from .asgi import header, respond

log = logging.getLogger(__name__)

#: The BentoML version every patch here was written for (and tested against).
WRITTEN_FOR = "1.4.40"


def _check(patch: str) -> None:
    written_for("bentoml", WRITTEN_FOR, f"nbprod.compat.bentoml.{patch}")


def last_option(argv: Sequence[str], name: str) -> str | None:
    """The value of the last ``name VALUE`` or ``name=VALUE`` in ``argv`` (as click reads it)."""
    value = None
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(name + "="):
            value = arg.partition("=")[2]
    return value


def greedy_batching() -> None:
    """Make BentoML's adaptive batcher dispatch as soon as the model is free.

    Bug (1.4.x, seen on 1.4.40): the batcher (``CorkDispatcher``) holds a request back for
    about the average time earlier requests waited (``Optimizer.wait``) to gather a bigger
    batch. That estimate feeds on itself: after a burst of traffic, a lone request keeps
    waiting the burst's queueing time, long after the burst (BENCHMARKS.md, "Greedy
    dispatch"). With one model call at a time, holding back buys nothing: requests that
    arrive while a batch runs form the next batch anyway.

    Patch: the learned wait is pinned at zero; queueing, the batch size limit and the
    latency bound stay BentoML's. Can go when the optimizer stops learning a wait from
    queueing time (the canary's first assertion fails). Idempotent.
    """
    from bentoml._internal.marshal.dispatcher import Optimizer

    _check("greedy_batching")
    if getattr(Optimizer.trigger_refresh, "_nbprod_greedy", False):
        return
    refresh = Optimizer.trigger_refresh

    def trigger_refresh(self: Any) -> None:
        refresh(self)
        self.wait = 0.0

    trigger_refresh._nbprod_greedy = True  # type: ignore[attr-defined]
    Optimizer.trigger_refresh = trigger_refresh  # type: ignore[method-assign]


def released_timeouts() -> None:
    """Make BentoML's request timeout let go of each request as soon as it is answered.

    Bug (1.4.x, seen on 1.4.40): ``TimeoutMiddleware`` arms ``loop.call_later(timeout, ...)``
    for every request and never cancels it. The pending timer holds the request's context
    (its OpenTelemetry span, a future, a few KB) for the whole timeout after the response,
    so a busy server's memory grows for the first 60 s of traffic (BENCHMARKS.md, "Memory
    under sustained load").

    Patch: the same ``__call__`` plus ``cancel()`` of the timer when the request ends; the
    504 on timeout is unchanged. Can go when BentoML cancels the timer itself (the canary
    finds the request released without the patch). Idempotent.
    """
    import asyncio

    from bentoml._internal.server.http.traffic import TimeoutMiddleware
    from starlette.responses import JSONResponse

    _check("released_timeouts")
    if getattr(TimeoutMiddleware.__call__, "_nbprod_released", False):
        return

    async def __call__(self: Any, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        timer = loop.call_later(self.timeout, self._set_timer_out, waiter)

        async def started(message: dict) -> None:
            if not waiter.done():
                waiter.set_result(None)
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, started))
        try:
            await waiter
        except TimeoutError:
            if task.cancel():
                await JSONResponse(
                    {"error": f"Not able to process the request in {self.timeout} seconds"},
                    status_code=504,
                )(scope, receive, send)
        else:
            await task
        finally:
            timer.cancel()

    __call__._nbprod_released = True  # type: ignore[attr-defined]
    TimeoutMiddleware.__call__ = __call__  # type: ignore[method-assign,assignment]


#: The logger BentoML 1.4 reports every failed request to, at ERROR with a traceback.
REQUEST_ERROR_LOGGER = "bentoml._internal.server.http_app"


def client_error(exc: BaseException | None) -> tuple[int, str] | None:
    """(status, one-line summary) when ``exc`` is the client's mistake (a 4xx), else None.

    The summary names the fields and what is wrong with them, never the values sent (which
    may be personal data).
    """
    from bentoml.exceptions import BentoMLException

    if isinstance(exc, ValidationError):
        problems = exc.errors(include_input=False, include_context=False, include_url=False)
        parts = [f"{'.'.join(map(str, p['loc'])) or 'body'}: {p['msg']}" for p in problems[:5]]
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        return 400, "; ".join(parts) + more
    if isinstance(exc, BentoMLException) and exc.error_code.value < 500:
        return int(exc.error_code.value), str(exc).splitlines()[0][:500]
    return None


class ClientErrorFilter(logging.Filter):
    """Rewrite BentoML's ERROR-with-traceback for a 4xx into one WARNING line.

    Bug (1.4.x, seen on 1.4.40): BentoML logs every failed request the same way, so a client
    sending bad input fills the log with tracebacks that read like server faults (and a
    pydantic error's text carries the values sent). Server errors (5xx) pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        known = client_error(record.exc_info[1]) if record.exc_info else None
        if known is None:
            return True
        status, summary = known
        path = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "%s on %s: %s", (status, path, summary)
        record.exc_info = record.exc_text = None
        return True


def quiet_client_errors() -> None:
    """Install :class:`ClientErrorFilter` on BentoML's request error logger (idempotent).

    Can go when BentoML logs a 4xx below ERROR without a traceback (the canary's record of a
    validation error leaves BentoML's logger at WARNING)."""
    _check("quiet_client_errors")
    logger = logging.getLogger(REQUEST_ERROR_LOGGER)
    if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
        logger.addFilter(ClientErrorFilter())


#: The one ``endpoint`` label of every path the service does not serve.
OTHER_PATH = "/other"


def bounded_endpoint_labels(known: Callable[[str], bool]) -> None:
    """Label BentoML's request metrics of a path the service does not serve as one path.

    Bug (1.4.x, seen on 1.4.40): the request metrics' ``endpoint`` label is the raw path of
    every request, refused ones included (it runs before any user middleware), so a client
    inventing paths grows ``/metrics`` without bound: 2,000 paths gave 40,028 series and an
    8.7 MB page. Patch: a path ``known`` refuses is labelled :data:`OTHER_PATH`; the app
    below still sees the real path (and answers 404). Can go when the label is the route
    (the canary's distinct paths stop making distinct series). Idempotent.
    """
    from bentoml._internal.server.http.instruments import RunnerTrafficMetricsMiddleware as M

    _check("bounded_endpoint_labels")
    if getattr(M.__call__, "_nbprod_bounded", False):
        return
    original = M.__call__

    async def __call__(self: Any, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if not scope.get("type", "").startswith("http") or path == "/metrics" or known(path):
            await original(self, scope, receive, send)
            return
        if not self._is_setup:
            self._setup()
        below, shim = self.app, copy.copy(self)

        async def real_path(inner: dict, receive: Any, send: Any) -> None:
            await below({**inner, "path": path}, receive, send)

        shim.app = real_path
        await original(shim, {**scope, "path": OTHER_PATH}, receive, send)

    __call__._nbprod_bounded = True  # type: ignore[attr-defined]
    M.__call__ = __call__  # type: ignore[method-assign,assignment]


def media_type(value: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """A Content-Type header split into its media type and parameters (lower-case names)."""
    kind, *params = value.split(b";")
    pairs = (p.partition(b"=") for p in params if p.strip())
    return kind.strip().lower(), {k.strip().lower(): v.strip().strip(b'"') for k, _, v in pairs}


def content_type_problem(value: bytes) -> str | None:
    """Why a request body of this Content-Type is refused (415), or None for JSON in UTF-8.

    JSON is UTF-8 (RFC 8259); a body declared in another charset would be parsed as UTF-8
    all the same, so it is refused rather than misread.
    """
    kind, params = media_type(value)
    if kind != b"application/json":
        return f"Content-Type must be application/json, got {kind.decode('latin-1') or 'none'}"
    charset = params.get(b"charset", b"utf-8").lower()
    if charset not in (b"utf-8", b"utf8"):
        return f"JSON must be UTF-8, got charset={charset.decode('latin-1')}"
    return None


def unwrap_error(body: bytes) -> bytes | None:
    """BentoML 1.4's 4xx body ``[{"error": ...}]`` as ``{"error": ...}``; None if not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict) \
            and "error" in parsed[0]:
        return json.dumps(parsed[0]).encode()
    return None


class JsonApiMiddleware:
    """ASGI middleware on the API routes (``paths``): 415 to a POST body that is not JSON in
    UTF-8 (before BentoML parses it), and every 4xx error body a JSON object.

    Bugs (1.4.x, seen on 1.4.40): BentoML parses a body of any Content-Type (``text/plain``,
    a form, none) as JSON; and ``ServiceAppFactory.api_endpoint_wrapper`` builds its 4xx
    answer to a ``BentoMLException`` from a one-element tuple, ``({"error": str(exc)},)``,
    so those errors (a refused ``/feedback``, a model that cannot score) come as a JSON
    array, unlike every other error. Can go when the canaries see a 415 and an object from
    a bare BentoML service.
    """

    def __init__(self, app: Any, paths: Sequence[str] = ()) -> None:
        _check("JsonApiMiddleware")
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST":
            problem = content_type_problem(header(scope, b"content-type"))
            if problem is not None:
                await respond(send, 415, problem)
                return
        held: dict | None = None  # a 4xx start, held until its body says what it is
        chunks: list[bytes] = []

        async def send_objects(message: dict) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                held = message
                return
            if held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                body = unwrap_error(body) or body
                held["headers"] = [(k, v) for k, v in held.get("headers", [])
                                   if k.lower() != b"content-length"]
                held["headers"].append((b"content-length", str(len(body)).encode()))
                start, held = held, None
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, send_objects)


def fixed_list_media_type(service: Any, api: str) -> None:
    """Give ``service``'s API ``api``, whose output is a list, the fixed media type JSON.

    Bug (1.4.x, seen on 1.4.40): a list output's media type is derived from its JSON schema,
    regenerated on every response (13% of a worker's time at 32 clients, measured with
    py-spy; BENCHMARKS.md, "Serving"). Can go when ``output_spec.media_type`` of a list
    output is a plain attribute again (the canary finds no schema work per response).
    """
    _check("fixed_list_media_type")
    service.apis[api].output_spec.media_type = "application/json"


def hidden_part(path: Path) -> str | None:
    """The first part of ``path`` that starts with "." (a hidden folder), or None."""
    return next((part for part in path.parts if part.startswith(".")), None)


@contextmanager
def visible_build_context(project: Path, files: Sequence[Path]) -> Iterator[Path]:
    """A temporary copy of ``files`` (paths under ``project``) at the same relative paths, in
    a folder whose absolute path has no hidden part: where to run ``bentoml build``.

    Bug (1.4.x, seen on 1.4.40): ``bentoml build`` refuses a bentofile whose *absolute* path
    has any part starting with "." ("Accessing hidden files is not allowed"), which is where
    CI workspaces and caches live (``~/.jenkins/...``, ``~/.cache/...``). The bento built
    from the copy is the same. Can go when the canary's build in a hidden folder succeeds.
    """
    _check("visible_build_context")
    with tempfile.TemporaryDirectory(prefix="nbprod-bento-") as tmp:
        if (part := hidden_part(Path(tmp))) is not None:
            raise ConfigError(f"the temporary folder {tmp} has a hidden part ({part}), which "
                              "bentoml build refuses; set TMPDIR to a folder without one")
        for src in files:
            target = Path(tmp) / src.relative_to(project)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
        yield Path(tmp)


PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only).

    Bug (1.4.x, seen on 1.4.40): BentoML starts each worker in its own session, so a SIGKILL
    of ``bentoml serve`` (or of its process group) leaves the worker serving on the port,
    ``/readyz`` included, and the next ``bentoml serve`` fails with "Address already in
    use" (docs/reliability.md). Linux's parent-death signal makes the worker drain and exit
    with its server. Can go when a worker of a killed server exits by itself
    (``tests/service/hardening``).

    Returns whether it is armed. If the parent is already gone (this process was re-parented
    before the call), sends ``sig`` at once.
    """
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    _check("die_with_parent")
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
        return False
    if parent == 1 or os.getppid() != parent:  # the server died before we asked
        os.kill(os.getpid(), sig)
    return True
