"""What a service worker sets up for itself when it starts (its ASGI lifespan begins).

:func:`on_worker_start` (called by :class:`nbprod.serving.guard.GuardMiddleware` on the lifespan
event, in the worker process, before the service's ``__init__``):

- :func:`nbprod.compat.bentoml.die_with_parent`: the kernel sends the worker SIGTERM when its
  server dies (BentoML starts workers in their own session, so they outlived a killed
  server): it drains (see the guard) and exits, closing the port;
- :func:`nbprod.compat.uvicorn.install`: the request-head deadline and the HTTP/0.9 refusal;
- ``nbprod`` log records at INFO reach the server's output (BentoML shows only its own
  loggers below WARNING), so the worker says at start-up where its prediction log is.
"""

from __future__ import annotations

import logging

from ..compat import uvicorn
from ..compat.bentoml import die_with_parent

log = logging.getLogger(__name__)


def on_worker_start(head_timeout: float) -> None:
    """Tie this worker to its server, bound request heads, show nbprod's INFO lines."""
    nbprod = logging.getLogger("nbprod")
    if nbprod.level == logging.NOTSET:
        nbprod.setLevel(logging.INFO)
    die_with_parent()
    uvicorn.install(head_timeout)
