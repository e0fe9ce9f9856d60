"""``/predict`` answered in front of BentoML's router, inside the service's own middlewares.

Under ``bentoml serve`` the same service code answered 2.3-2.7x fewer requests per second
than on a bare uvicorn app (BENCHMARKS.md, "What bentoml serve adds"): BentoML's routing,
its IO descriptors and serialisation layers, its context and its hand-off of each request.
:class:`DirectRouteMiddleware` is the innermost of the service's ASGI middlewares: a valid
``POST`` to the route is parsed by the API's own input model (the pydantic model BentoML
builds from the API's signature, one ``model_validate_json`` as BentoML's JSON serde does),
answered by the service's own call (its batcher) and written as BentoML writes it
(``model_dump_json``, ``application/json``, its ``Server`` header). Everything outside stays
as it was: BentoML's request metrics and timeout, the guards and admission, the version
header and JSON contract, and ``/metrics``, ``/livez``, ``/readyz``.

Whatever this route does not answer goes on to BentoML's router with the body it read: a body
the input model refuses, an error of the call (BentoML then gives the 400 with its structured
``detail`` or the error it gives today), another media type, any other path, and every
request before the service's instance exists or when spans are exported (BentoML's span and
its ``X-BentoML-Request-ID`` header come with its own route).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..compat.asgi import header

#: ``0`` sends ``/predict`` through BentoML's router as before (to compare, or to rule it out).
ENV = "NBPROD_DIRECT_ROUTE"

#: The answer of the route for one parsed input, or None while there is none to ask.
Answer = Callable[[Any], Awaitable[Any]]


@dataclass
class DirectRoute:
    """What the middleware answers ``path`` with: ``parse`` (the body's bytes to the API's
    input, raising on a bad body), ``answer`` (set once the service's instance exists) and
    the ``Server`` header BentoML writes."""

    path: str
    parse: Callable[[bytes], Any]
    server: str
    answer: Answer | None = None


def direct_route_enabled(environ: Mapping[str, str]) -> bool:
    """Whether ``/predict`` is answered in front of BentoML's router: unless ``$ENV`` is 0."""
    return environ.get(ENV, "1").strip() != "0"


def json_body(content_type: bytes) -> bool:
    """Whether BentoML reads a body of ``content_type`` as JSON (none given: JSON)."""
    media = content_type.split(b";")[0].strip().lower()
    return media in (b"", b"application/json")


async def read_body(receive: Any) -> tuple[bytes, list[dict]]:
    """The request's body and the messages it came in (to replay them)."""
    messages, chunks = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def replaying(messages: list[dict], receive: Any) -> Any:
    """A ``receive`` that gives ``messages`` again, then what ``receive`` gives."""
    pending = list(messages)

    async def replay() -> dict:
        return pending.pop(0) if pending else await receive()

    return replay


class DirectRouteMiddleware:
    """ASGI middleware: a valid ``POST`` to ``route.path`` answered by ``route.answer``;
    anything else to the app behind, unchanged."""

    def __init__(self, app: Any, route: DirectRoute) -> None:
        self.app = app
        self.route = route
        self.head = [(b"content-type", b"application/json"), (b"server", route.server.encode())]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        route = self.route
        if (scope["type"] != "http" or scope["path"] != route.path or scope["method"] != "POST"
                or route.answer is None or not json_body(header(scope, b"content-type"))):
            await self.app(scope, receive, send)
            return
        body, messages = await read_body(receive)
        try:
            answer = await route.answer(route.parse(body or b"{}"))
        except Exception:  # noqa: BLE001 - BentoML's route gives its own answer to each error
            await self.app(scope, replaying(messages, receive), send)
            return
        content = answer.model_dump_json().encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*self.head, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})
