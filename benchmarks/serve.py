"""Load benchmark: the nbprod service against the servers a user would pick instead, in one run.

    make bench-serve            # after `make run`; or: python benchmarks/serve.py --help

Starts, on loopback, with one worker process each (``--workers``), all serving the same
registered model:

- **service**: ``bentoml serve nbprod.serving.service:ModelService``, one customer per request to
  ``/predict_batch`` (adaptive batching merges concurrent requests into one model call), or
  with ``--endpoint predict`` one customer per request to ``/predict`` (no batching);
- **bentoml**: ``benchmarks/plain_bento.py``, the model served the way BentoML's
  scikit-learn example does (``/predict``, BentoML's defaults, no batching, no checks);
- **mlflow**: the same fitted pipeline saved as an MLflow model and served by
  ``mlflow models serve --env-manager local`` from its own virtual environment
  (``.venv-mlflow``, created on first use from ``benchmarks/mlflow-requirements.txt``; nothing
  is downloaded once it exists), with MLflow's request format (``dataframe_records``);
- **bare**: ``benchmarks/bare_app.py`` on uvicorn (parses the JSON, one ``predict_proba``
  per request): the twenty-line scikit-learn app;
- **artifact**: the service itself with ``NBPROD_COMPILED=0``, answering from the stored
  scikit-learn artifact instead of the compiled graph (:mod:`nbprod.model.compiling`);
- **noop**: ``benchmarks/noop_bento.py``, a BentoML endpoint that answers a constant: the
  floor the HTTP stack allows;
- **uvicorn**: ``benchmarks/uvicorn_service.py``, the service's own code (the same instance,
  predictor, batcher, monitor and middlewares) on a bare uvicorn app, without BentoML's
  request path: what ``bentoml serve`` adds (with ``--endpoint predict``).

Each is loaded with wrk at 1, 32 and 128 concurrent connections, then 1 again right after the
burst, in interleaved rounds. The script prints ok req/s (200 answers only), p50, p99 and the
non-200 count of each server, then the service's ratios to every peer and the targets. Only
ratios measured in the same run mean anything on a shared machine.

With ``--monitoring`` (``make bench-monitoring``) the same service also runs with
``NBPROD_MONITORING=0`` and a second table gives the monitored/unmonitored ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
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
MLFLOW_ENV = ROOT / ".venv-mlflow"
MLFLOW_REQUIREMENTS = ROOT / "benchmarks" / "mlflow-requirements.txt"
PEERS = ("bare", "bentoml", "mlflow", "artifact", "noop", "uvicorn")

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


def customer(tag: str) -> dict:
    from nbprod.registry.store import feature_schema

    return feature_schema(tag).example()


def parse_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(url: str, body: dict, clients: int, seconds: int, workdir: Path,
            allow_none: bool = False) -> tuple:
    """(requests, failed, seconds, p50 ms, p99 ms) of one wrk run; with ``allow_none``, a
    server too slow to finish any request in the round scores 0 requests (p50 and p99
    infinite) instead of stopping the benchmark."""
    script = workdir / f"body{abs(hash(url))}.lua"
    script.write_text(LUA % json.dumps(body))
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "--latency",
           "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if allow_none and " 0 requests in" in out:
        return 0, 0, float(seconds), float("inf"), float("inf")
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


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    """Wait until ``url`` answers 200 (``overload.py`` and ``soak.py`` start servers with it)."""
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
    total, failed, duration, p50, p99 = run_wrk(url, body, clients, seconds, workdir,
                                                allow_none=True)
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


def mlflow_env() -> Path:
    """The MLflow environment's ``bin`` folder, created from the pinned requirements if missing
    or out of date (a stamp holds the requirements' hash)."""
    digest = hashlib.sha256(MLFLOW_REQUIREMENTS.read_bytes()).hexdigest()
    stamp, bin_dir = MLFLOW_ENV / ".requirements.sha256", MLFLOW_ENV / "bin"
    if stamp.is_file() and stamp.read_text() == digest:
        return bin_dir
    print(f"creating {MLFLOW_ENV.name} from {MLFLOW_REQUIREMENTS.name} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(MLFLOW_ENV)], check=True)
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                    "-r", str(MLFLOW_REQUIREMENTS)], check=True)
    stamp.write_text(digest)
    return bin_dir


def mlflow_model(tag: str, example: dict, workdir: Path, bin_dir: Path) -> Path:
    """The served model saved as an MLflow model (its pyfunc calls ``predict_proba``)."""
    from nbprod.registry.store import load_model

    (workdir / "model.pkl").write_bytes(pickle.dumps(load_model(tag)))
    (workdir / "example.json").write_text(json.dumps(example))
    out = workdir / "mlflow_model"
    subprocess.run([str(bin_dir / "python"), str(ROOT / "benchmarks" / "mlflow_model.py"),
                    str(workdir / "model.pkl"), str(workdir / "example.json"), str(out)],
                   check=True, env=mlflow_environ())
    return out


def mlflow_environ() -> dict:
    """No telemetry, no tracking server: MLflow stays on this machine."""
    return dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
                MLFLOW_TRACKING_URI="file:///dev/null",  # it starts its own uvicorn by name:
                PATH=f"{MLFLOW_ENV / 'bin'}{os.pathsep}{os.environ['PATH']}")


def servers(names: list[str], tag: str, example: dict, workers: int, workdir: Path,
            env: dict, variants: dict[str, dict], endpoint: str) -> dict[str, tuple]:
    """name -> (process, url, body) for every server in ``names``, started; a variant is the
    service with more environment variables; the service and its variants get ``endpoint``."""
    started: dict[str, tuple] = {}
    try:
        for name in names:
            started[name] = _start(name, tag, example, workers, workdir, env, variants, endpoint)
    except BaseException:  # one failed to start: stop the others
        stop(*(proc for proc, _, _ in started.values()))
        raise
    return started


def _start(name: str, tag: str, example: dict, workers: int, workdir: Path, env: dict,
           variants: dict[str, dict], endpoint: str = "predict_batch") -> tuple:
    """Start one server; (process, url, body)."""
    port = free_port()
    host = ["--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    log = workdir / f"{name}.log"
    if name in ("bare", "uvicorn"):
        app = "benchmarks.bare_app:app" if name == "bare" else "benchmarks.uvicorn_service:app"
        cmd = [str(BIN / "uvicorn"), app, *host, "--workers", str(workers), "--no-access-log",
               "--log-level", "warning"]
        extra = {"NBPROD_PREDICTION_LOG_DIR": str(workdir / "predictions" / name)}
        proc, url = start(cmd, dict(env, **extra), log), f"{base}/predict"
        body = {"customer": example}
    elif name in ("bentoml", "noop"):
        service = ("benchmarks.plain_bento:PlainService" if name == "bentoml" else
                   "benchmarks.noop_bento:NoopService")
        cmd = [str(BIN / "bentoml"), "serve", service, *host]
        proc, url, body = start(cmd, env, log), f"{base}/predict", {"customer": example}
    elif name == "mlflow":
        bin_dir = mlflow_env()
        model = mlflow_model(tag, example, workdir, bin_dir)
        cmd = [str(bin_dir / "mlflow"), "models", "serve", "-m", str(model), "-h",
               "127.0.0.1", "-p", str(port), "-w", str(workers), "--env-manager", "local"]
        proc = start(cmd, mlflow_environ(), log)
        url, body = f"{base}/invocations", {"dataframe_records": [example]}
    else:  # service, unmonitored, a variant
        cmd = [str(BIN / "bentoml"), "serve", "nbprod.serving.service:ModelService", *host]
        extra = ({"NBPROD_MONITORING": "0"} if name == "unmonitored" else
                 {"NBPROD_PREDICTION_LOG_DIR": str(workdir / "predictions" / name),
                  **({"NBPROD_COMPILED": "0"} if name == "artifact" else {}),
                  **variants.get(name, {})})
        proc, url = start(cmd, dict(env, **extra), log), f"{base}/{endpoint}"
        body = {"customers": [example]} if endpoint == "predict_batch" else {"customer": example}
    return proc, url, body


def wait_post(url: str, body: dict, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Wait until ``url`` answers ``body`` with a 200."""
    deadline = time.monotonic() + timeout
    data = json.dumps(body).encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{log.stem} exited with code {proc.returncode}:\n{log.read_text()}")
        try:
            req = urllib.request.Request(url, data=data,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} ({log.stem}) not ready after {timeout} s:\n{log.read_text()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each server")
    parser.add_argument("--seconds", type=int, default=5, help="duration of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level (median kept)")
    parser.add_argument("--clients", default="1,32,128,1",
                        help="concurrency levels, in order (the last 1: right after the burst)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"servers to compare the service with, among {', '.join(PEERS)}")
    parser.add_argument("--endpoint", choices=("predict_batch", "predict"),
                        default="predict_batch",
                        help="the service's route: one-record lists to /predict_batch "
                             "(batched), or single records to /predict")
    parser.add_argument("--tag", help="model tag (default: products/model/registration.json)")
    parser.add_argument("--monitoring", action="store_true",
                        help="also serve the service with NBPROD_MONITORING=0 and print the "
                             "cost of monitoring (prediction log, drift, histogram)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=V,...",
                        help="also serve the service with these environment variables (e.g. "
                             "w2:NBPROD_WORKERS=2) and print its ratios to the service")
    args = parser.parse_args()
    variants = {v.partition(":")[0]: dict(kv.split("=", 1) for kv in
                                          v.partition(":")[2].split(",") if kv)
                for v in args.variant}
    peers = [p for p in args.peers.split(",") if p]
    if not set(peers) <= set(PEERS):
        raise SystemExit(f"--peers: unknown {sorted(set(peers) - set(PEERS))}; use {PEERS}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on kill too
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench-serve does it)")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    sys.path.insert(0, str(ROOT / "src"))
    from nbprod.serving.predictor import TAG_ENV, model_tag

    if args.tag:
        os.environ[TAG_ENV] = args.tag
    tag = model_tag(ROOT / "products" / "model" / "registration.json")
    levels = [int(c) for c in args.clients.split(",")]
    example = customer(tag)
    env = dict(os.environ, NBPROD_MODEL_TAG=tag, NBPROD_WORKERS=str(args.workers),
               BENTOML_DO_NOT_TRACK="true", PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    names = ["service", *peers, *variants] + (["unmonitored"] if args.monitoring else [])
    print(f"model {tag}, {args.workers} worker(s) each, {os.cpu_count()} CPUs, wrk -t1, "
          f"service on /{args.endpoint}, "
          f"{args.rounds} interleaved rounds of {args.seconds} s per level (medians); "
          f"load average {os.getloadavg()[0]:.1f} before start", flush=True)
    table: list[dict[str, Result]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        running: dict[str, tuple] = {}
        try:
            running.update(servers(names, tag, example, args.workers, workdir, env, variants,
                                   args.endpoint))
            for name, (proc, url, body) in running.items():
                wait_post(url, body, proc, workdir / f"{name}.log")
            for _, url, body in running.values():  # warm-up: imports, the batcher's calibration
                run_wrk(url, body, 8, 3, workdir)
            for clients in levels:
                rounds: dict[str, list[Result]] = {name: [] for name in names}
                for i in range(args.rounds):
                    order = names if i % 2 == 0 else list(reversed(names))
                    for name in order:
                        _, url, body = running[name]
                        rounds[name].append(
                            measure(name, url, body, clients, args.seconds, workdir)
                        )
                level = {name: median(results) for name, results in rounds.items()}
                for r in level.values():
                    print(f"  {r.target:11s} {clients:4d} clients  {r.ok_rps:8.1f} ok req/s  "
                          f"p50 {r.p50_ms:7.1f} ms  p99 {r.p99_ms:7.1f} ms  "
                          f"non-200 {r.failed}/{r.requests}", flush=True)
                table.append(level)
        finally:
            stop(*(proc for proc, _, _ in running.values()))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    report(table, ["service", *peers, *variants])
    report_ratios(table, peers)
    report_targets(table, peers)
    if variants:
        report_ratios(table, list(variants), invert=True)
    if args.monitoring:
        report_monitoring(table)
    return 0


def ratio(a: float, b: float) -> str:
    """``a / b`` to two decimals; "inf" when ``b`` is 0 (a peer that finished no request)."""
    return "inf" if b == 0 else f"{a / b:.2f}"


def labels(table: list[dict[str, Result]]) -> list[str]:
    """Row labels: the number of clients, "1 (after 128)" for a level seen before."""
    seen: list[int] = []
    out = []
    for level in table:
        clients = next(iter(level.values())).clients
        out.append(f"{clients} (after {max(seen)})" if clients in seen else str(clients))
        seen.append(clients)
    return out


def report(table: list[dict[str, Result]], names: list[str]) -> None:
    print("\n| clients | server | ok req/s | p50 | p99 | non-200 |")
    print("|---|---|---:|---:|---:|---:|")
    for label, level in zip(labels(table), table, strict=True):
        for name in names:
            r = level[name]
            print(f"| {label} | {name} | {r.ok_rps:.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms "
                  f"| {r.failed}/{r.requests} |")


def report_ratios(table: list[dict[str, Result]], peers: list[str], invert: bool = False) -> None:
    """The service's figures divided by each peer's (> 1 req/s: faster; < 1 p50/p99: faster);
    ``invert``: each variant's divided by the service's."""
    head = " | ".join(f"req/s x {p} | p50 x {p} | p99 x {p}" for p in peers)
    if invert:
        head = " | ".join(f"{p} req/s x service | p50 | p99" for p in peers)
    print(f"\n| clients | {head} | service non-200 | {' | '.join(f'{p} non-200' for p in peers)} |")
    print("|---|" + "---:|" * (3 * len(peers) + 1 + len(peers)))
    for label, level in zip(labels(table), table, strict=True):
        s = level["service"]
        pairs = [(level[p], s) if invert else (s, level[p]) for p in peers]
        cells = " | ".join(f"{ratio(a.ok_rps, b.ok_rps)} | {ratio(a.p50_ms, b.p50_ms)} "
                           f"| {ratio(a.p99_ms, b.p99_ms)}" for a, b in pairs)
        fails = " | ".join(f"{level[p].failed}/{level[p].requests}" for p in peers)
        print(f"| {label} | {cells} | {s.failed}/{s.requests} | {fails} |")


def report_targets(table: list[dict[str, Result]], peers: list[str]) -> None:
    """The fast path's targets, for each peer measured: one client, p50 at most 0.3x MLflow's,
    0.5x the bare scikit-learn app's and 1.5x the no-op endpoint's; 32 clients and more, 20x
    MLflow's ok req/s, every answer a 200. Without MLflow, under load: 3x the best peer's."""
    print()
    for label, level in zip(labels(table), table, strict=True):
        s = level["service"]
        if s.clients == 1:
            bounds = {"mlflow": 0.3, "bare": 0.5, "noop": 1.5}
            parts, met = [], True
            for peer, bound in bounds.items():
                if peer in level and level[peer].p50_ms:
                    times = s.p50_ms / level[peer].p50_ms
                    met = met and times <= bound
                    parts.append(f"{times:.2f}x {peer}'s (target <= {bound})")
            print(f"{label} client, p50: {'; '.join(parts) or 'no peer'}: "
                  f"{'met' if met and parts else 'NOT met'}")
            continue
        if "mlflow" in level:
            best, bound = "mlflow", 20.0
        else:
            best = max((p for p in peers if p not in ("noop", "artifact", "uvicorn")),
                       key=lambda p: level[p].ok_rps, default=None)
            bound = 3.0
        if best is None:
            continue
        times = s.ok_rps / level[best].ok_rps if level[best].ok_rps else float("inf")
        met = times >= bound and s.failed == 0
        print(f"{label} clients: {times:.2f}x {best}'s ok req/s (target >= {bound:g}), "
              f"{s.failed} non-200: {'met' if met else 'NOT met'}")


def report_monitoring(table: list[dict[str, Result]]) -> None:
    print("\n| clients | unmonitored ok req/s | monitored ok req/s | ratio | unmonitored p50 | "
          "monitored p50 | p50 ratio | unmonitored p99 | monitored p99 | p99 ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, level in zip(labels(table), table, strict=True):
        off, on = level["unmonitored"], level["service"]
        print(f"| {label} | {off.ok_rps:.0f} | {on.ok_rps:.0f} | {on.ok_rps / off.ok_rps:.2f}x | "
              f"{off.p50_ms:.1f} ms | {on.p50_ms:.1f} ms | {on.p50_ms / off.p50_ms:.2f} | "
              f"{off.p99_ms:.1f} ms | {on.p99_ms:.1f} ms | {on.p99_ms / off.p99_ms:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
