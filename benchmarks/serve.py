"""Load benchmark: the BentoML churn service against a bare Starlette app, in one run.

    make bench-serve            # after `make run`; or: python benchmarks/serve.py --help

Starts, on loopback and with the same number of worker processes,
(a) the BentoML service (``bentoml serve nbprod.service:ModelService``) and
(b) ``benchmarks/bare_app.py`` on uvicorn (parses the same JSON, one ``predict_proba`` per
request), both serving the same registered model. Each is loaded with wrk at 1, 32 and 128
concurrent connections, then 1 again right after the burst, one customer per request, in
interleaved rounds. The script prints req/s (successful responses only), p50, p99 and the
non-200 count of each, and the ratios service/bare. Only ratios measured in the same run
mean anything on a shared machine.

With ``--monitoring`` (``make bench-monitoring``) a third server runs the same service with
``NBPROD_MONITORING=0`` (no prediction log, drift gauges, histogram or feedback memory), and a
second table gives the monitored/unmonitored ratios: the cost of monitoring.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


@dataclass
class Result:
    target: str
    clients: int
    ok_rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} not ready after {timeout} s")


def customer(tag: str) -> dict:
    from nbprod.registry import feature_schema

    return feature_schema(tag).example()


def parse_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(url: str, body: dict, clients: int, seconds: int, workdir: Path) -> tuple:
    script = workdir / f"body{clients}.lua"
    script.write_text(LUA % json.dumps(body))
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "--latency",
           "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Latency Distribution" not in out or " 0 requests in" in out:
        raise SystemExit(f"wrk got no answer from {url}:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    duration = parse_ms(re.search(r"requests in ([\d.]+\w+),", out).group(1)) / 1e3
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0
    )
    p50 = parse_ms(re.search(r"^\s*50%\s+([\d.]+[a-z]+)", out, re.M).group(1))
    p99 = parse_ms(re.search(r"^\s*99%\s+([\d.]+[a-z]+)", out, re.M).group(1))
    return total, failed, duration, p50, p99


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(*procs: subprocess.Popen) -> None:
    """Terminate the servers (each stops its workers), killing any that hang."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(name: str, url: str, body: dict, clients: int, seconds: int, workdir: Path) -> Result:
    total, failed, duration, p50, p99 = run_wrk(url, body, clients, seconds, workdir)
    return Result(name, clients, (total - failed) / duration, p50, p99, total, failed)


def median(results: list[Result]) -> Result:
    """The per-metric median of repeated rounds; counts are summed."""
    mid = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    first = results[0]
    return Result(
        first.target, first.clients,
        mid([r.ok_rps for r in results]), mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        sum(r.requests for r in results), sum(r.failed for r in results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each server")
    parser.add_argument("--seconds", type=int, default=5, help="duration of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level (median kept)")
    parser.add_argument("--clients", default="1,32,128,1",
                        help="concurrency levels, in order (the last 1: right after the burst)")
    parser.add_argument("--tag", help="model tag (default: products/model/registration.json)")
    parser.add_argument("--monitoring", action="store_true",
                        help="also serve the service with NBPROD_MONITORING=0 and print the "
                             "cost of monitoring (prediction log, drift, histogram)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on kill too
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench-serve does it)")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    sys.path.insert(0, str(ROOT / "src"))
    from nbprod.serving import TAG_ENV, model_tag

    if args.tag:
        os.environ[TAG_ENV] = args.tag
    tag = model_tag(ROOT / "products" / "model" / "registration.json")
    levels = [int(c) for c in args.clients.split(",")]
    example = customer(tag)
    env = dict(os.environ, NBPROD_MODEL_TAG=tag, NBPROD_WORKERS=str(args.workers),
               BENTOML_DO_NOT_TRACK="true", PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    print(f"model {tag}, {args.workers} worker(s) each, {os.cpu_count()} CPUs, wrk -t1, "
          f"{args.rounds} interleaved rounds of {args.seconds} s per level (medians)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bare_port, service_port = free_port(), free_port()
        bare = start(
            [str(BIN / "uvicorn"), "benchmarks.bare_app:app", "--host", "127.0.0.1",
             "--port", str(bare_port), "--workers", str(args.workers), "--no-access-log",
             "--log-level", "warning"],
            env, workdir / "bare.log",
        )
        service = start(
            [str(BIN / "bentoml"), "serve", "nbprod.service:ModelService", "--host", "127.0.0.1",
             "--port", str(service_port)],
            dict(env, NBPROD_PREDICTION_LOG_DIR=str(workdir / "predictions")),
            workdir / "service.log",
        )
        targets = {
            "bare": (f"http://127.0.0.1:{bare_port}/predict", {"customer": example}),
            "service": (f"http://127.0.0.1:{service_port}/predict_batch", {"customers": [example]}),
        }
        servers = [bare, service]
        if args.monitoring:
            off_port = free_port()
            servers.append(start(
                [str(BIN / "bentoml"), "serve", "nbprod.service:ModelService", "--host",
                 "127.0.0.1", "--port", str(off_port)],
                dict(env, NBPROD_MONITORING="0"), workdir / "unmonitored.log",
            ))
            targets["unmonitored"] = (f"http://127.0.0.1:{off_port}/predict_batch",
                                      {"customers": [example]})
        try:
            _wait_post(*targets["bare"], bare)
            for name in targets:
                if name != "bare":
                    wait_ready(targets[name][0].replace("/predict_batch", "/readyz"),
                               servers[list(targets).index(name)])
            for url, body in targets.values():  # warm-up: imports, the batcher's calibration
                run_wrk(url, body, 8, 3, workdir)
            rows, monitored = [], []
            for clients in levels:
                rounds: dict[str, list[Result]] = {name: [] for name in targets}
                for i in range(args.rounds):
                    order = list(targets) if i % 2 == 0 else list(reversed(targets))
                    for name in order:
                        url, body = targets[name]
                        rounds[name].append(
                            measure(name, url, body, clients, args.seconds, workdir)
                        )
                for name, results in rounds.items():
                    r = median(results)
                    print(f"  {name:8s} {clients:4d} clients  {r.ok_rps:8.1f} ok req/s  "
                          f"p50 {r.p50_ms:7.1f} ms  p99 {r.p99_ms:7.1f} ms  "
                          f"non-200 {r.failed}/{r.requests}", flush=True)
                rows.append((median(rounds["bare"]), median(rounds["service"])))
                if args.monitoring:
                    monitored.append((median(rounds["unmonitored"]), median(rounds["service"])))
        finally:
            stop(*servers)
    report(rows)
    if args.monitoring:
        report_monitoring(monitored)
    return 0


def _wait_post(url: str, body: dict, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    data = json.dumps(body).encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}")
        try:
            req = urllib.request.Request(
                url, data=data, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} not ready after {timeout} s")


def report(rows: list[tuple[Result, Result]]) -> None:
    print("\n| clients | bare ok req/s | service ok req/s | ratio | bare p50 | service p50 | "
          "p50 diff | bare p99 | service p99 | p99 ratio | service non-200 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    seen: set[int] = set()
    for bare, svc in rows:
        label = f"{bare.clients} (after {max(seen)})" if bare.clients in seen else bare.clients
        seen.add(bare.clients)
        print(f"| {label} | {bare.ok_rps:.0f} | {svc.ok_rps:.0f} | "
              f"{svc.ok_rps / bare.ok_rps:.2f}x | {bare.p50_ms:.1f} ms | {svc.p50_ms:.1f} ms | "
              f"{svc.p50_ms - bare.p50_ms:+.1f} ms | {bare.p99_ms:.1f} ms | {svc.p99_ms:.1f} ms | "
              f"{svc.p99_ms / bare.p99_ms:.2f} | {svc.failed}/{svc.requests} |")


def report_monitoring(rows: list[tuple[Result, Result]]) -> None:
    print("\n| clients | unmonitored ok req/s | monitored ok req/s | ratio | unmonitored p50 | "
          "monitored p50 | p50 ratio | unmonitored p99 | monitored p99 | p99 ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for off, on in rows:
        print(f"| {off.clients} | {off.ok_rps:.0f} | {on.ok_rps:.0f} | {on.ok_rps / off.ok_rps:.2f}x | "
              f"{off.p50_ms:.1f} ms | {on.p50_ms:.1f} ms | {on.p50_ms / off.p50_ms:.2f} | "
              f"{off.p99_ms:.1f} ms | {on.p99_ms:.1f} ms | {on.p99_ms / off.p99_ms:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
