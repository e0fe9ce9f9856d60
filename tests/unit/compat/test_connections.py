"""nbprod.compat.uvicorn's head deadline on a real uvicorn (the pinned one, h11) in a thread of this process."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from nbprod.compat import uvicorn as connections
from nbprod.compat.uvicorn import http09
from projectkit import wait_until


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def port():
    connections.install(head_timeout=0.5)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, http="h11", log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "uvicorn did not start", interval=0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(5)


def exchange(port: int, data: bytes, wait: float = 5) -> tuple[bytes, float]:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            answer += b"<still open>"
    return answer, time.monotonic() - start


def test_http09_is_a_request_line_without_a_version():
    assert http09(b"GET /\r\n") and http09(b"GET\n") and http09(b"GET / FOO/1.0\r\n")
    assert not http09(b"GET / HTTP/1.1\r\n") and not http09(b"GET / HT")  # line not complete


def test_a_partial_head_gets_408_at_the_deadline(port):
    answer, elapsed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 408") and b"within 0.5 s" in answer
    assert 0.4 < elapsed < 3


def test_http09_gets_400_at_once(port):
    answer, elapsed = exchange(port, b"GET /\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"HTTP/0.9" in answer and elapsed < 0.4


def test_a_whole_request_is_untouched_and_counted(port):
    answer, _ = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and b"\r\nok\r\n" in answer
    # the server closes its side a moment later
    wait_until(lambda: not connections.open_connections(), 5,
               lambda: f"a closed connection is still counted: {connections.open_connections()}",
               interval=0.01)
