"""The uvicorn workarounds (nbprod.compat.uvicorn): a half-sent request head held open by the
pinned uvicorn, closed with 408 by the patch. Each server in its own interpreter, since the
patch is process-wide (tests/unit/compat/test_connections.py tests the patch in depth)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from nbprod import compat
from nbprod.compat import uvicorn as patch

SERVER = """
import socket, sys, uvicorn
{before}
async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({{"type": "http.response.start", "status": 200, "headers": []}})
        await send({{"type": "http.response.body", "body": b"ok"}})
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(16)  # connections queue until the server takes them
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, http="h11", log_level="warning", lifespan="off",
                              timeout_keep_alive=1)).run(sockets=[sock])
"""


@pytest.fixture
def serve():
    started: list[subprocess.Popen] = []

    def start(before: str) -> int:
        proc = subprocess.Popen([sys.executable, "-c", SERVER.format(before=before)],
                                stdout=subprocess.PIPE, text=True)
        started.append(proc)
        return int(proc.stdout.readline())

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def half_head_answer(port: int, wait: float = 3.0) -> bytes | None:
    """What the server sends on a connection whose request head never ends (None: nothing
    within ``wait`` seconds, the connection still open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head goes on
        conn.settimeout(wait)
        try:
            return conn.recv(1000)
        except TimeoutError:
            return None


def test_the_pinned_uvicorn_is_the_one_the_patches_were_written_for():
    assert compat.installed("uvicorn") == patch.WRITTEN_FOR


def test_a_half_sent_head_is_held_open_until_patched(serve):
    # the bug: past the keep-alive timeout (1 s) the connection is still open, with no answer
    assert half_head_answer(serve(""), wait=3.0) is None
    patched = serve("from nbprod.compat.uvicorn import install\ninstall(head_timeout=0.5)")
    assert half_head_answer(patched, wait=10.0).startswith(b"HTTP/1.1 408 ")
