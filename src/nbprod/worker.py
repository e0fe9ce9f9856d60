"""What a service worker sets up for itself when it starts (its ASGI lifespan begins).

:func:`on_worker_start` (called by :class:`nbprod.guard.GuardMiddleware` on the lifespan
event, in the worker process, before the service's ``__init__``):

- :func:`die_with_parent`: BentoML 1.4 starts each worker in its own session, so a SIGKILL of
  ``bentoml serve`` (or of its process group) left the worker serving on the port, ``/readyz``
  included, and the next ``bentoml serve`` failed with "Address already in use" (issue 15,
  item 7). Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``) makes the
  kernel send the worker SIGTERM when its server dies: it drains (see the guard) and exits,
  closing the port;
- :func:`nbprod.connections.install`: the request-head deadline and the HTTP/0.9 refusal;
- ``nbprod`` log records at INFO reach the server's output (BentoML shows only its own
  loggers below WARNING), so the worker says at start-up where its prediction log is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

from . import connections

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only).

    Returns whether it is armed. If the parent is already gone (this process was re-parented
    before the call), sends ``sig`` at once.
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
        return False
    if parent == 1 or os.getppid() != parent:  # the server died before we asked
        os.kill(os.getpid(), sig)
    return True


def on_worker_start(head_timeout: float) -> None:
    """Tie this worker to its server, bound request heads, show nbprod's INFO lines."""
    nbprod = logging.getLogger("nbprod")
    if nbprod.level == logging.NOTSET:
        nbprod.setLevel(logging.INFO)
    die_with_parent()
    connections.install(head_timeout)
