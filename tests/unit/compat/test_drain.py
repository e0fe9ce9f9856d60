"""nbprod.compat.uvicorn.stop_listening on a real listening socket served by an asyncio server."""

from __future__ import annotations

import asyncio
import socket

from nbprod.compat.uvicorn import stop_listening


def test_queued_connections_are_taken_and_answered_later_ones_refused():
    async def scenario() -> tuple[list, int, str]:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(50)
        port = listener.getsockname()[1]
        handled = []

        async def handle(reader, writer):
            handled.append(await reader.read(100))
            writer.write(b"ok")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        await asyncio.sleep(0.05)  # the server watches its socket
        # five clients queued in the socket while the loop does not run
        queued = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        for sock in queued:
            sock.sendall(b"x")
        assert stop_listening(["worker", "--fd", str(listener.fileno())])
        await asyncio.sleep(0.3)
        answers = []
        for sock in queued:
            sock.settimeout(2)
            try:
                answers.append(sock.recv(10))
            except OSError as exc:  # reset: the queue was closed under it
                answers.append(type(exc).__name__)
            sock.close()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            later = "connected"
        except ConnectionRefusedError:
            later = "refused"
        server.close()
        return answers, len(handled), later

    answers, handled, later = asyncio.run(scenario())
    assert answers == [b"ok"] * 5 and handled == 5
    assert later == "refused"
