"""Connection-level defences that uvicorn's HTTP/1.1 protocol (h11) lacks.

BentoML 1.4 serves with uvicorn 0.54 on its h11 protocol, which arms no timer while a request's
head is arriving: a connection that sends part of a head, or an HTTP/0.9 request line
(``GET /`` with no version, which h11 waits on for headers that never come), holds its socket
forever (issue 15, item 12). Its keep-alive timer only runs between two requests.

:func:`install` patches ``H11Protocol`` (once per process, in the worker) so that

- a request head must be complete within ``head_timeout`` seconds of the connection opening
  or of its first byte after a response: otherwise the client gets ``408`` and the
  connection closes (one that never sent a byte is closed quietly);
- a request line without an HTTP version (HTTP/0.9) gets ``400`` and is closed at once;
- the open connections are known (:func:`open_connections`), so a draining server can wait
  until each connection it accepted has had its answer (:mod:`nbprod.guard`).

It touches uvicorn's private protocol class; tests/unit/test_connections.py checks it against
the pinned uvicorn, and tests/service/hardening/test_guards.py against a real server.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger(__name__)

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
