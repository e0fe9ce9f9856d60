"""The service with a test-only knob, served only by the tests: ``x-debug-delay-ms: N`` holds a
request N ms inside its request slot (within the guards' admission and time limit).

nbprod has no such knob: a bento serves ``nbprod.service:ModelService``, which never reads the
header. The tests serve ``service.delaying:ModelService`` with ``tests/`` on ``PYTHONPATH``
(``tests/service/hardening/conftest.py: delaying_env``); this module adds the innermost
middleware. Importing it imports the service, so only `bentoml serve` does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nbprod.asgi import header
from nbprod.service import ModelService

HEADER = b"x-debug-delay-ms"


class DelayMiddleware:
    """Sleeps for the request's ``x-debug-delay-ms`` before passing it on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (delay := header(scope, HEADER)).isdigit():
            await asyncio.sleep(int(delay) / 1000)
        await self.app(scope, receive, send)


ModelService.add_asgi_middleware(DelayMiddleware)
