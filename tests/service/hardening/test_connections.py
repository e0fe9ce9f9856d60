"""Slow clients hold nothing, odd requests get a clear answer:
a trickled body, a request head that never ends, HTTP/0.9 (a JSON body not in UTF-8: tests/service/inprocess)."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from .conftest import LIMITS

TRICKLERS = 2 * LIMITS["concurrency"]  # twice as many as there are request slots


def _connect(client) -> socket.socket:
    sock = socket.create_connection((client.base_url.host, client.base_url.port), timeout=10)
    sock.settimeout(10)
    return sock


def _read_all(sock: socket.socket, deadline: float) -> bytes:
    data = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError) as exc:
            return data + f"<{type(exc).__name__}>".encode()
        if not chunk:
            return data  # closed by the server
        data += chunk
    return data + b"<still open>"


def _trickle(client, auth: dict, seconds: float) -> tuple[bytes, float]:
    """A /predict whose 1,000-byte body comes one byte every 0.2 s: (answer, when)."""
    sock = _connect(client)
    start = time.monotonic()
    head = (f"POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    sock.sendall(head.encode())
    try:
        while time.monotonic() - start < seconds:
            sock.sendall(b" ")
            sock.settimeout(0.2)
            try:
                if data := sock.recv(65536):  # answered before the body ended
                    sock.settimeout(5)
                    return data + _read_all(sock, time.monotonic() + 5), time.monotonic() - start
            except TimeoutError:
                pass
        return b"<no answer>", time.monotonic() - start
    except (BrokenPipeError, ConnectionResetError) as exc:
        return f"<{type(exc).__name__}>".encode(), time.monotonic() - start
    finally:
        sock.close()


def test_a_trickled_body_holds_no_slot_and_gets_408(guarded, auth, customer):
    limit = LIMITS["body_timeout"]
    with ThreadPoolExecutor(TRICKLERS) as pool:
        slow = [pool.submit(_trickle, guarded, auth, 4 * limit) for _ in range(TRICKLERS)]
        time.sleep(0.5)  # not synchronisation: let the tricklers' heads arrive first
        real = [guarded.post("/predict", json={"customer": customer}, headers=auth).status_code
                for _ in range(10)]
        answers = [f.result() for f in slow]
    assert real == [200] * 10, "the trickling bodies held request slots"
    for data, when in answers:
        assert data.startswith(b"HTTP/1.1 408"), data[:300]
        assert b"request body not received within 2 s" in data
        assert limit * 0.9 < when < 3 * limit, when


def test_a_request_head_that_never_ends_gets_408_and_is_closed(guarded):
    sock = _connect(guarded)
    start = time.monotonic()
    sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
    answer = _read_all(sock, start + 4 * LIMITS["head_timeout"])
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b'"error": "request head not received within 2 s"' in answer
    assert time.monotonic() - start < 3 * LIMITS["head_timeout"]


def test_an_http09_request_is_answered_400_and_closed_at_once(guarded):
    sock = _connect(guarded)
    start = time.monotonic()
    sock.sendall(b"GET /livez\r\n")
    answer = _read_all(sock, start + 10)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"HTTP/0.9 is not supported" in answer and not answer.endswith(b"<still open>")
    assert time.monotonic() - start < LIMITS["head_timeout"], "closed at once, not at the deadline"
    assert guarded.get("/livez").status_code == 200
