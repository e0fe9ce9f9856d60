"""Overload benchmark: admission by expected waiting time at 1x, 2x and 4x its bound.

    make bench-overload         # after `make run`; or: python benchmarks/overload.py --help

Serves the churn service on loopback (one worker, one record per model call by default:
``--batch-size``) twice, one after the other:

- ``wait bound``: ``NBPROD_MAX_WAIT=--bound`` (admission by expected waiting time);
- ``slots only``: ``NBPROD_MAX_WAIT`` so large that only the 256 request slots admit, as
  before admission by waiting time.

First it measures the service's time per request at one client, and from it the number of
clients the bound admits (``bound / service time``). Then, for each server, ``1x``, ``2x`` and
``4x`` that many clients send ``/predict`` for ``--seconds`` each: asyncio clients on
keep-alive connections that resend as soon as they are answered (a 429 too: the worst case),
each request with a 30 s client timeout, and a prober asking ``/livez`` and ``/readyz`` every
50 ms. It prints, per level: answers 200 / 429 (and how many of those were admitted, then
refused at the bound) / other / client timeouts, the share of 200s
answered within the bound as the client saw them (from sending to the last byte) and as the
server did (``Server-Timing``, from admission to answer), p50 and p99, the load generator's
own event-loop lag (a share of every client time the server cannot see), the health p50s,
and last the two servers' ratios. Only the comparison of the two servers in one run means
anything on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import BIN, ROOT, customer, free_port, start, stop, wait_ready  # noqa: E402

TIMEOUT = 30.0
LATE = b"not answered within"  # a 429 at the bound, after admission


@dataclass
class Level:
    clients: int
    ok: list[float] = field(default_factory=list)  # client time of each 200
    served: list[float] = field(default_factory=list)  # the server's own time of each 200
    refused: int = 0
    late: int = 0  # of the 429s: admitted, then refused at the bound (the estimate was wrong)
    other: int = 0
    timeouts: int = 0
    health: dict[str, list[float]] = field(default_factory=lambda: {"/livez": [], "/readyz": []})
    lag: list[float] = field(default_factory=list)  # the load generator's own event-loop delay


def request(path: str, body: bytes | None = None) -> bytes:
    if body is None:
        return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    return (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   raw: bytes) -> tuple[int, bool, float, bytes]:
    """Send one request, read its answer: (status, the server closes the connection, the
    server's time from admission to answer in ``Server-Timing``, or NaN, the body)."""
    writer.write(raw)
    status = int((await reader.readline()).split()[1])
    length, close, served = 0, False, math.nan
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and "close" in value.lower():
            close = True
        elif name.lower() == "server-timing" and "dur=" in value:
            served = float(value.partition("dur=")[2].split(";")[0]) / 1000
    body = await reader.readexactly(length)
    return status, close, served, body


async def client(port: int, raw: bytes, until: float, level: Level) -> None:
    conn = None
    while time.monotonic() < until:
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", port)
            start_ = time.perf_counter()
            status, close, served, body = await asyncio.wait_for(exchange(*conn, raw), TIMEOUT)
            elapsed = time.perf_counter() - start_
        except TimeoutError:
            level.timeouts += 1
            status, close = 0, True
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            level.other += 1
            status, close = 0, True
        if status == 200:
            level.ok.append(elapsed)
            level.served.append(served)
        elif status == 429:
            level.refused += 1
            level.late += LATE in body
        elif status:
            level.other += 1
        if close and conn is not None:
            conn[1].close()
            conn = None
    if conn is not None:
        conn[1].close()


async def prober(port: int, until: float, level: Level) -> None:
    conn = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < until:
        for path in level.health:
            start_ = time.perf_counter()
            status, _, _, _ = await exchange(*conn, request(path))
            if status == 200:
                level.health[path].append(time.perf_counter() - start_)
        await asyncio.sleep(0.05)
    conn[1].close()


async def lag(until: float, level: Level) -> None:
    """How late this process's event loop wakes from a 10 ms sleep: the clients' own queueing,
    part of every client time and none of the server's."""
    while time.monotonic() < until:
        start_ = time.perf_counter()
        await asyncio.sleep(0.01)
        level.lag.append(time.perf_counter() - start_ - 0.01)


async def load(port: int, body: bytes, clients: int, seconds: float) -> Level:
    level = Level(clients)
    until = time.monotonic() + seconds
    raw = request("/predict", body)
    await asyncio.gather(prober(port, until, level), lag(until, level),
                         *(client(port, raw, until, level) for _ in range(clients)))
    return level


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else math.nan


def within(values: list[float], bound: float) -> float:
    return sum(t <= bound for t in values) / len(values) if values else math.nan


def report(name: str, bound: float, levels: list[tuple[str, Level]]) -> None:
    print(f"\n{name}")
    print("| load | clients | 200 | 429 | of which at the bound | other | client timeouts | "
          "200 within bound (client) | (server) | client p50 | client p99 | server p99 | "
          "client loop lag p99 | /livez p50 | /readyz p50 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, lv in levels:
        print(f"| {label} | {lv.clients} | {len(lv.ok)} | {lv.refused} | {lv.late} | {lv.other} | "
              f"{lv.timeouts} | {within(lv.ok, bound):.1%} | {within(lv.served, bound):.1%} | "
              f"{pct(lv.ok, .5) * 1e3:.0f} ms | {pct(lv.ok, .99) * 1e3:.0f} ms | "
              f"{pct(lv.served, .99) * 1e3:.0f} ms | {pct(lv.lag, .99) * 1e3:.0f} ms | "
              f"{statistics.median(lv.health['/livez'] or [math.nan]) * 1e3:.0f} ms | "
              f"{statistics.median(lv.health['/readyz'] or [math.nan]) * 1e3:.0f} ms |",
              flush=True)


def ratios(bound: list[tuple[str, Level]], slots: list[tuple[str, Level]]) -> None:
    print("\nwait bound / slots only, same run")
    print("| load | 200 answered | client p50 | client p99 |")
    print("|---|---|---|---|")
    for (label, b), (_, s) in zip(bound, slots, strict=True):
        print(f"| {label} | {len(b.ok) / max(1, len(s.ok)):.2f} | "
              f"{pct(b.ok, .5) / pct(s.ok, .5):.2f} | {pct(b.ok, .99) / pct(s.ok, .99):.2f} |")


def serve(env: dict, workdir: Path, name: str, max_wait: float, batch: int) -> tuple:
    port = free_port()
    proc = start([str(BIN / "bentoml"), "serve", "nbprod.serving.service:ModelService", "--host",
                  "127.0.0.1", "--port", str(port)],
                 # the artifact, not the compiled graph (microseconds a call), unless asked:
                 # overloading it takes a model slow enough for the clients this machine runs
                 dict(env, NBPROD_MAX_WAIT=str(max_wait), NBPROD_MAX_BATCH_SIZE=str(batch),
                      NBPROD_COMPILED=env.get("NBPROD_COMPILED", "0"),
                      NBPROD_PREDICTION_LOG_DIR=str(workdir / f"predictions-{name}")),
                 workdir / f"{name}.log")
    wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
    return proc, port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bound", type=float, default=0.25,
                        help="NBPROD_MAX_WAIT of the wait-bound server, seconds")
    parser.add_argument("--seconds", type=float, default=10, help="duration of one level")
    parser.add_argument("--levels", default="1,2,4", help="multiples of the admitted clients")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the slots-only server (a quicker run, no comparison)")
    parser.add_argument("--batch-size", type=int, default=1,
                        help="NBPROD_MAX_BATCH_SIZE of both servers: records per model call (1: "
                        "a load generator on the same machine can overload the model; with "
                        "batching, concurrent records share its calls)")
    parser.add_argument("--tag", help="model tag (default: products/model/registration.json)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from nbprod.serving.predictor import TAG_ENV, model_tag

    if args.tag:
        os.environ[TAG_ENV] = args.tag
    tag = model_tag(ROOT / "products" / "model" / "registration.json")
    body = json.dumps({"customer": customer(tag)}).encode()
    env = dict(os.environ, NBPROD_MODEL_TAG=tag, BENTOML_DO_NOT_TRACK="true",
               PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    multiples = [int(m) for m in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        proc, port = serve(env, workdir, "bound", args.bound, args.batch_size)
        try:
            asyncio.run(load(port, body, 2, 3))  # warm-up
            one = asyncio.run(load(port, body, 1, 5))
            service = statistics.median(one.ok)
            admitted = max(1, round(args.bound / service))
            print(f"model {tag}, 1 worker, {args.batch_size} record(s) per model call, "
                  f"{os.cpu_count()} CPUs; service time at 1 client "
                  f"{service * 1e3:.1f} ms (p50): the {args.bound:g} s bound admits about "
                  f"{admitted} clients; {args.seconds:g} s per level")
            bound_levels = [(f"{m}x", asyncio.run(load(port, body, m * admitted, args.seconds)))
                            for m in multiples]
        finally:
            stop(proc)
        report(f"wait bound (NBPROD_MAX_WAIT={args.bound:g})", args.bound, bound_levels)
        if args.no_baseline:
            return 0
        proc, port = serve(env, workdir, "slots", 1e6, args.batch_size)
        try:
            asyncio.run(load(port, body, 2, 3))
            slot_levels = [(f"{m}x", asyncio.run(load(port, body, m * admitted, args.seconds)))
                           for m in multiples]
        finally:
            stop(proc)
        report("slots only (256 request slots, no wait bound)", args.bound, slot_levels)
        ratios(bound_levels, slot_levels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
