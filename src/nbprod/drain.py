"""Graceful shutdown of a service worker: every connection already accepted gets an answer.

On SIGTERM, :class:`Drain` (installed by :class:`nbprod.guard.GuardMiddleware` in the
worker) puts itself in front of uvicorn's handler and

1. marks the worker as draining: the guard answers new requests 503 with
   ``Connection: close`` (and ``/readyz`` 503), and every other response while draining also
   says ``Connection: close``, so no client keeps a connection it could send on later;
2. waits (at most ``timeout`` seconds in all) until the requests in progress are answered;
3. stops the listening socket taking connections (:func:`stop_listening`): later clients are
   refused at once instead of queueing in a socket nobody reads, which BentoML's process
   manager keeps open until the worker is gone, and which resets them when it closes;
4. waits until every connection it accepted has been closed (:meth:`Drain.idle`), for
   ``QUIET`` seconds in a row, so no idle keep-alive connection is closed under a client
   that is sending on it;
5. hands over to uvicorn's own shutdown, which closes the idle connections and exits.

Uvicorn alone stopped at once: idle keep-alive connections were closed under clients that
were sending on them, and connections queued in the listening socket were reset (issue 15,
item 10: 32 to 53 clients per run got a TCP reset).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import connections
from .exposure import last_option

log = logging.getLogger(__name__)


def stop_listening(argv: list[str] | None = None) -> bool:
    """Stop the worker's listening socket (``--fd N``) taking connections, if it has one.

    The event loop stops watching it first (a shut-down listening socket is always readable,
    and every ``accept`` fails with EINVAL), takes the connections queued in it (closing the
    queue resets them), then ``shutdown(SHUT_RD)`` in the same step: from then on the kernel
    refuses new connections to it, in every process that shares it.
    """
    fd = last_option(sys.argv if argv is None else argv, "--fd")
    if fd is None or not fd.isdigit():
        return False
    loop = asyncio.get_running_loop()
    try:  # the loop's accept callback for this socket (a selector event loop's private state)
        accept = loop._selector.get_key(int(fd)).data[0]  # type: ignore[attr-defined]
    except (AttributeError, KeyError, ValueError, IndexError):
        accept = None
    try:
        if accept is not None and not accept.cancelled():
            accept._run()  # take what is queued now, as the loop would: those get answers
        loop.remove_reader(int(fd))  # (cancels that callback: so after it ran)
        sock = socket.socket(fileno=int(fd))
        try:
            sock.shutdown(socket.SHUT_RD)
        finally:
            sock.detach()  # the descriptor stays uvicorn's
        return True
    except OSError as exc:
        log.debug("listening socket not shut down: %s", exc)
        return False


class Drain:
    """SIGTERM -> drain -> uvicorn's shutdown, for one worker."""

    #: Seconds with nothing in progress before the worker hands over to uvicorn's shutdown.
    QUIET = 0.3
    #: Poll interval of the drain.
    TICK = 0.02

    def __init__(self, in_flight: Callable[[], int], timeout: float) -> None:
        self.in_flight = in_flight
        self.timeout = timeout
        self.draining = False
        self._installed = False
        self._tasks: set[asyncio.Task] = set()

    def install(self) -> None:
        """Put the drain in front of the current SIGTERM handler (main thread only, once)."""
        if self._installed or threading.current_thread() is not threading.main_thread():
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
            log.info("SIGTERM: finishing %d requests in progress, refusing new ones",
                     self.in_flight())
            loop.call_soon_threadsafe(self._start, previous, sig, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._installed = True

    def idle(self) -> bool:
        """Nothing in progress and no connection open: a keep-alive connection left idle may
        carry a request any moment, so it is waited for too (its next request gets 503 and
        ``Connection: close``; a silent one is closed by uvicorn's keep-alive timeout, or by
        the head deadline if it never sent a byte)."""
        return self.in_flight() == 0 and connections.open_connections() == 0

    def _start(self, previous: Any, sig: int, frame: Any) -> None:
        async def drain() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            while self.in_flight() and loop.time() < deadline:
                await asyncio.sleep(self.TICK)
            stop_listening()  # later clients: refused at once
            # the connections already accepted: each request on them gets its answer (503)
            quiet_since = None
            while loop.time() < deadline:
                if not self.idle():
                    quiet_since = None
                elif quiet_since is None:
                    quiet_since = loop.time()
                elif loop.time() - quiet_since >= self.QUIET:
                    break
                await asyncio.sleep(self.TICK)
            previous(sig, frame)

        task = asyncio.get_running_loop().create_task(drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
