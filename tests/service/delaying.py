"""The service with a test-only knob, served only by the tests: ``x-debug-delay-ms: N`` holds a
request N ms inside its request slot (within the guards' admission and time limit).

nbprod has no such knob: a bento serves ``nbprod.serving.service:ModelService``, which never reads the
header. The tests serve ``service.delaying:ModelService`` with ``tests/`` on ``PYTHONPATH``
(``tests/service/hardening/conftest.py: delaying_env``); this module adds the innermost
middleware. Importing it imports the service, so only `bentoml serve` does.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from nbprod.compat.asgi import header
from nbprod.serving.service import ModelService

HEADER = b"x-debug-delay-ms"
#: where the middleware writes how many requests it holds now (read by the tests' hold_slots)
HELD_FILE_ENV = "NBPROD_TEST_HELD_FILE"


class DelayMiddleware:
    """Sleeps for the request's ``x-debug-delay-ms`` before passing it on, and keeps the
    number of requests it holds in ``$NBPROD_TEST_HELD_FILE`` (one worker)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.held = 0
        self.file = Path(os.environ[HELD_FILE_ENV]) if os.environ.get(HELD_FILE_ENV) else None

    def _count(self, change: int) -> None:
        self.held += change
        if self.file is not None:
            self.file.write_text(str(self.held))

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (delay := header(scope, HEADER)).isdigit():
            self._count(+1)
            try:
                await asyncio.sleep(int(delay) / 1000)
            finally:
                self._count(-1)
        await self.app(scope, receive, send)


ModelService.add_asgi_middleware(DelayMiddleware)
