"""Soak test: the churn service under a steady mix of good and bad requests.

    make soak                      # 60 s at 64 clients on a service it starts (after `make run`)
    python benchmarks/soak.py --url http://127.0.0.1:3000 --pid PID --seconds 10

64 clients (asyncio, one connection each) send, for ``--seconds``, a mix (``--bad-share``
of them bad, default half) of good requests
(``/predict``, ``/predict_batch`` with 1 to 8 customers, ``/metadata``) and bad ones (a
missing field, a value out of range, an unknown category, a string for a number, broken
JSON, the wrong content type). Good ones must get 200, bad ones a 4xx; any 5xx, connection
error or other answer counts as a failure. The resident memory of the server's process tree
(the ``bentoml serve`` process and its workers) is read after a warm-up and at the end: it
must not grow by 10% or more. Prints one JSON summary; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import BIN, ROOT, free_port, start, stop, wait_ready  # noqa: E402

MAX_GROWTH = 0.10


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def requests(customer: dict) -> list[tuple[str, str, bytes, dict, bool]]:
    """(name, path, body, headers, good) for every kind of request the soak sends."""
    js = {"content-type": "application/json"}

    def with_(**changes) -> dict:
        return {**customer, **changes}

    missing = {k: v for k, v in customer.items() if k != "tenure"}
    kinds = [
        ("predict", "/predict", {"customer": customer}, js, True),
        ("batch", "/predict_batch", {"customers": [customer] * 4}, js, True),
        ("batch1", "/predict_batch", {"customers": [customer]}, js, True),
        ("metadata", "/metadata", {}, js, True),
        ("missing", "/predict", {"customer": missing}, js, False),
        ("range", "/predict", {"customer": with_(tenure=10_000)}, js, False),
        ("category", "/predict", {"customer": with_(contract="Forever")}, js, False),
        ("string", "/predict", {"customer": with_(monthly_charges="12")}, js, False),
        ("empty", "/predict_batch", {"customers": []}, js, False),
        ("ctype", "/predict", {"customer": customer}, {"content-type": "text/plain"}, False),
    ]
    out = [(n, p, json.dumps(b).encode(), h, g) for n, p, b, h, g in kinds]
    out.append(("broken", "/predict", b'{"customer": {', js, False))
    return out


async def client(url: str, headers: dict, kinds: list, bad_share: float, until: float,
                 seed: int, counts: Counter, failures: list) -> None:
    """One client: its own connection (kept alive, never idle), random requests until ``until``."""
    rng = random.Random(seed)
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, limits=one, timeout=30, headers=headers) as http:
        await _requests(http, rng, kinds, bad_share, until, counts, failures)


async def _requests(http: httpx.AsyncClient, rng: random.Random, kinds: list,
                    bad_share: float, until: float, counts: Counter, failures: list) -> None:
    good_kinds = [k for k in kinds if k[-1]]
    bad_kinds = [k for k in kinds if not k[-1]]
    while time.monotonic() < until:
        name, path, body, headers, good = rng.choice(
            bad_kinds if rng.random() < bad_share else good_kinds)
        try:
            response = await http.post(path, content=body, headers=headers)
            status = response.status_code
        except httpx.TransportError as exc:
            counts["connection error"] += 1
            failures.append(f"{name}: {type(exc).__name__} {until - time.monotonic():.1f} s "
                            f"before the end: {exc}")
            continue
        counts[status] += 1
        ok = status == 200 if good else 400 <= status < 500
        if not ok:
            failures.append(f"{name}: {status} {response.text[:200]}")


async def soak(url: str, pid: int, seconds: float, clients: int, warmup: float,
               headers: dict[str, str], bad_share: float = 0.5) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:
        spec = (await http.get("/docs.json")).json()
        kinds = requests(spec["components"]["schemas"]["Customer"]["example"])
        counts: Counter = Counter()
        failures: list[str] = []
        start_time = time.monotonic()
        until = start_time + warmup + seconds
        tasks = [asyncio.create_task(client(url, headers, kinds, bad_share, until, i,
                                                   counts, failures))
                 for i in range(clients)]
        await asyncio.sleep(warmup)
        rss_start, served_warmup = tree_rss(pid), sum(counts.values())
        trace = [rss_start]
        while time.monotonic() < until - 0.5:  # the memory every 5 s, to see its trend
            await asyncio.sleep(min(5.0, until - time.monotonic()))
            trace.append(tree_rss(pid))
        await asyncio.gather(*tasks)
        rss_end = tree_rss(pid)
        live = (await http.get("/livez")).status_code
    total = sum(counts.values()) - served_warmup
    growth = rss_end / rss_start - 1
    return {
        "seconds": seconds, "clients": clients, "bad_share": bad_share, "requests": total,
        "req_per_s": round(total / seconds, 1),
        "statuses": {str(k): v for k, v in sorted(counts.items(), key=str)},
        "server_5xx": sum(v for k, v in counts.items() if isinstance(k, int) and k >= 500),
        "connection_errors": counts["connection error"],
        "unexpected": len(failures), "first_failures": failures[:5],
        "rss_start_mb": round(rss_start / 2**20, 1), "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_growth": round(growth, 4),
        "rss_trace_mb": [round(r / 2**20, 1) for r in trace], "livez_after": live,
        "ok": not failures and growth < MAX_GROWTH and live == 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start one here)")
    parser.add_argument("--pid", type=int, help="with --url: the `bentoml serve` process id")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=5, help="seconds before the first RSS")
    parser.add_argument("--bad-share", type=float, default=0.5, help="share of bad requests")
    args = parser.parse_args()
    headers = {}
    if key := os.environ.get("NBPROD_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    if args.url:
        if not args.pid:
            parser.error("--url needs --pid (the server process, for its memory)")
        report = asyncio.run(soak(args.url, args.pid, args.seconds, args.clients, args.warmup,
                                  headers, args.bad_share))
    else:
        port, report = free_port(), {"ok": False}
        env = dict(os.environ, BENTOML_DO_NOT_TRACK="true")
        with tempfile.TemporaryDirectory() as tmp:
            proc = start([str(BIN / "bentoml"), "serve", "nbprod.serving.service:ModelService",
                          "--host", "127.0.0.1", "--port", str(port)],
                         env, Path(tmp) / "service.log")
            try:
                wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
                report = asyncio.run(soak(f"http://127.0.0.1:{port}", proc.pid, args.seconds,
                                          args.clients, args.warmup, headers,
                                          args.bad_share))
            finally:
                stop(proc)
                if not report["ok"]:
                    print((Path(tmp) / "service.log").read_text()[-5000:], file=sys.stderr)
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
