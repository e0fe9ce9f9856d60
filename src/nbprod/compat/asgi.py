"""Two ASGI helpers: read a request header, send a JSON error.

Not a workaround: the ASGI primitives that :class:`~nbprod.compat.bentoml.JsonApiMiddleware`
shares with the service's own middlewares (:mod:`nbprod.serving.guard`). They sit here because
``compat`` is the floor every stage may import, and imports nothing of theirs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def header(scope: dict, name: bytes) -> bytes:
    """The value of request header ``name`` (lower-case bytes), or ``b""``."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return b""


async def respond(
    send: Any, status: int, error: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a JSON error response ``{"error": ...}`` with ``headers`` added."""
    body = json.dumps({"error": error}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
    await send({"type": "http.response.body", "body": body})
