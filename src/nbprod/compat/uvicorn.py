"""Workarounds of uvicorn's HTTP/1.1 server (h11), which BentoML 1.4 serves with, written for
uvicorn 0.54.0 (the pinned version).

**The request head** (:func:`install`, once per process, in the worker). Bug (uvicorn 0.54.0
with h11, and earlier): no timer runs while a request's head is arriving, so a connection that
sends part of a head, or an HTTP/0.9 request line (``GET /`` with no version, which h11 waits
on for headers that never come), holds its socket forever; the keep-alive timer only runs
between two requests. The patch of the private ``H11Protocol``:

- a request head must be complete within ``head_timeout`` seconds of the connection opening
  or of its first byte after a response: otherwise the client gets ``408`` and the
  connection closes (one that never sent a byte is closed quietly);
- a request line without an HTTP version (HTTP/0.9) gets ``400`` and is closed at once;
- the open connections are known (:func:`open_connections`), so a draining server can wait
  until each connection it accepted has had its answer.

Can go when uvicorn gains a head timeout (the canary in ``tests/unit/compat/test_compat_uvicorn.py``
sees an unpatched server close a half-sent head).

**Graceful shutdown** (:class:`Drain`, installed by :class:`nbprod.serving.guard.GuardMiddleware` in
the worker). Bug (uvicorn 0.54.0 under BentoML 1.4.40's process manager): on SIGTERM uvicorn
stops at once: idle keep-alive connections are closed under clients that are sending on them,
and connections queued in the listening socket (which BentoML keeps open until the worker is
gone) are reset. :class:`Drain` puts itself in front of uvicorn's handler and

1. marks the worker as draining: the guard answers new requests 503 with
   ``Connection: close`` (and ``/readyz`` 503), and every other response while draining also
   says ``Connection: close``, so no client keeps a connection it could send on later;
2. waits (at most ``timeout`` seconds in all) until the requests in progress are answered;
3. stops the listening socket taking connections (:func:`stop_listening`): later clients are
   refused at once instead of queueing in a socket nobody reads;
4. waits until every connection it accepted has been closed (:meth:`Drain.idle`), for
   ``QUIET`` seconds in a row, so no idle keep-alive connection is closed under a client
   that is sending on it;
5. hands over to uvicorn's own shutdown, which closes the idle connections and exits.

Can go when uvicorn drains keep-alive connections on shutdown and BentoML closes the listening
socket of a stopping worker (``tests/service/hardening/test_shutdown.py`` then passes without it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import written_for
from .bentoml import last_option

log = logging.getLogger(__name__)

#: The uvicorn version the patches here were written for (and tested against).
WRITTEN_FOR = "0.54.0"

_OPEN: set[Any] = set()
_PATCHED = "_nbprod_head_deadline"


def _raw_response(status: int, reason: str, error: str) -> bytes:
    body = json.dumps({"error": error}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode() + body


def http09(buffered: bytes) -> bool:
    """Whether the first complete line of ``buffered`` is a request line without a version."""
    line, found, _ = buffered.lstrip(b"\r\n").partition(b"\n")
    if not found:
        return False
    parts = line.rstrip(b"\r").split()
    return 0 < len(parts) < 3 or (len(parts) >= 3 and not parts[-1].startswith(b"HTTP/"))


def open_connections() -> int:
    """HTTP connections open in this process (once :func:`install` ran)."""
    return len(_OPEN)


def busy_connections() -> int:
    """Open connections that owe a client an answer: a request in progress, bytes of one
    received, or no request yet (a client that just connected is about to send one; if it
    does not, the head deadline closes it)."""
    return sum(1 for p in list(_OPEN) if p.cycle is None or not _waiting(p) or _buffered(p))


def _waiting(protocol: Any) -> bool:
    """Between requests: no cycle yet, or the last response is complete."""
    cycle = protocol.cycle
    return cycle is None or cycle.response_complete


def _buffered(protocol: Any) -> bytes:
    try:
        return bytes(protocol.conn.trailing_data[0])
    except Exception:  # an h11 connection in an error state
        return b""


def install(head_timeout: float) -> None:
    """Patch uvicorn's h11 protocol with the head deadline and HTTP/0.9 refusal (idempotent)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    written_for("uvicorn", WRITTEN_FOR, "nbprod.compat.uvicorn.install")
    if getattr(H11Protocol, _PATCHED, False):
        return
    made, lost, received = (H11Protocol.connection_made, H11Protocol.connection_lost,
                            H11Protocol.data_received)
    complete = H11Protocol.on_response_complete

    def refuse(self: Any, status: int, reason: str, error: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(_raw_response(status, reason, error))
            self.transport.close()

    def expire(self: Any) -> None:
        self._nbprod_timer = None
        if not _waiting(self):
            return
        if _buffered(self):
            refuse(self, 408, "Request Timeout",
                   f"request head not received within {head_timeout:g} s")
        elif not self.transport.is_closing():
            self.transport.close()  # a connection that never sent a byte: closed quietly

    def arm(self: Any) -> None:
        if getattr(self, "_nbprod_timer", None) is None:
            self._nbprod_timer = self.loop.call_later(head_timeout, expire, self)

    def disarm(self: Any) -> None:
        timer = getattr(self, "_nbprod_timer", None)
        if timer is not None:
            timer.cancel()
            self._nbprod_timer = None

    def connection_made(self: Any, transport: Any) -> None:
        made(self, transport)
        _OPEN.add(self)
        arm(self)

    def connection_lost(self: Any, exc: Exception | None) -> None:
        disarm(self)
        _OPEN.discard(self)
        lost(self, exc)

    def data_received(self: Any, data: bytes) -> None:
        received(self, data)
        if not _waiting(self):
            disarm(self)  # the head arrived: the body and the answer have their own limits
        elif http09(_buffered(self)):
            disarm(self)
            refuse(self, 400, "Bad Request", "HTTP/0.9 is not supported: send HTTP/1.1")
        elif not self.transport.is_closing():
            arm(self)  # part of a head: it must be complete in time

    def on_response_complete(self: Any) -> None:
        complete(self)
        disarm(self)  # idle now: uvicorn's keep-alive timer closes the connection in time

    H11Protocol.connection_made = connection_made  # type: ignore[method-assign]
    H11Protocol.connection_lost = connection_lost  # type: ignore[method-assign]
    H11Protocol.data_received = data_received  # type: ignore[method-assign]
    H11Protocol.on_response_complete = on_response_complete  # type: ignore[method-assign]
    setattr(H11Protocol, _PATCHED, True)


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
        written_for("uvicorn", WRITTEN_FOR, "nbprod.compat.uvicorn.Drain")
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
        return self.in_flight() == 0 and open_connections() == 0

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
