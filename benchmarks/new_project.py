"""Wall time from `nbprod new` to a served model, install excluded and included.

    python benchmarks/new_project.py              # install excluded (this environment's nbprod)
    python benchmarks/new_project.py --install    # also: a fresh venv (`make run` + `make serve`)

On the credit data set of the scaffold tests (1,500 rows, tests/scaffold/datasets.py), or
on any file with --data/--target. Install excluded: `nbprod new` -> `ploomber build` (the full
env.yaml) -> `nbprod bento` -> `bentoml serve` of the bento -> the first answered /predict,
each with the tools of this environment. Install included: `nbprod new` -> the generated
project's `make run` (a fresh .venv from its wheel and lock file) -> `make serve` -> the first
answer. Every phase is also printed as a ratio of the baseline measured in the same run: a
`python -c "import bentoml, ploomber, sklearn"` (median of three: the machine's speed now).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def a_row(project: Path, data: Path) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from nbprod.scaffold.infer import read_data

    spec = yaml.safe_load((project / "columns.yaml").read_text())
    features = [c for c in spec["columns"] if c != spec["target"]]
    raw = read_data(data)[[spec["columns"][c].get("source", c) for c in features]]
    row = raw.dropna().astype(object).iloc[0].tolist()
    return {c: (v.item() if hasattr(v, "item") else v) for c, v in zip(features, row, strict=True)}


def serve_until_answered(args: list[str], cwd: Path, env: dict[str, str], port: int,
                         row: dict) -> float:
    """Seconds from starting ``args`` to the first 200 of /predict with ``row``."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while True:
                if proc.poll() is not None:
                    sys.exit(f"{' '.join(args)} exited")
                try:
                    if client.post("/predict", json={"record": row}).status_code == 200:
                        return time.perf_counter() - start
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
    finally:
        for child in psutil.Process(proc.pid).children():
            child.terminate()
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a data file (default: the credit data set)")
    parser.add_argument("--target", default="Status")
    parser.add_argument("--install", action="store_true", help="also the fresh-venv path")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-new-"))
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "PLOOMBER_STATS_ENABLED": "false",
           "BENTOML_HOME": str(work / "bentoml-home"),
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    try:
        data = args.data
        if data is None:
            sys.path.insert(0, str(ROOT / "tests" / "scaffold"))
            from datasets import DATASETS

            data = DATASETS["credit"].write(work)
        imports = [str(BIN / "python"), "-c", "import bentoml, ploomber, sklearn"]
        base = sorted(timed(imports, work, env) for _ in range(3))[1]  # the median of three
        phases: dict[str, float] = {}
        project = work / "excluded"
        phases["nbprod new"] = timed([str(BIN / "nbprod"), "new", str(project), "--data",
                                      str(data), "--target", args.target], work, env)
        penv = {**env, "PYTHONPATH": str(project / "src")}
        phases["ploomber build"] = timed([str(BIN / "ploomber"), "build"], project, penv)
        start = time.perf_counter()
        bento = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=project, env=penv,
                               capture_output=True, text=True, check=True).stdout.split()[-1]
        phases["nbprod bento"] = time.perf_counter() - start
        port = free_port()
        phases["bentoml serve -> first answer"] = serve_until_answered(
            [str(BIN / "bentoml"), "serve", bento, "--host", "127.0.0.1", "--port", str(port)],
            project, penv, port, a_row(project, data))
        report("install excluded", phases, base)
        if args.install:
            phases = {}
            project = work / "included"
            phases["nbprod new"] = timed([str(BIN / "nbprod"), "new", str(project), "--data",
                                          str(data), "--target", args.target], work, env)
            clean = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
            clean["PATH"] = os.pathsep.join(p for p in clean["PATH"].split(os.pathsep)
                                            if Path(p) != BIN)
            python = f"PYTHON={sys.base_prefix}/bin/python3.11"
            phases["make run (venv + install + build + bento)"] = timed(
                ["make", "run", python], project, clean)
            port = free_port()
            phases["make serve -> first answer"] = serve_until_answered(
                ["make", "serve", "HOST=127.0.0.1", f"PORT={port}"], project, clean, port,
                a_row(project, data))
            report("install included", phases, base)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(title: str, phases: dict[str, float], base: float) -> None:
    total = sum(phases.values())
    print(f"\n{title}  (baseline: python -c 'import bentoml, ploomber, sklearn' = {base:.2f} s)")
    for name, seconds in phases.items():
        print(f"  {name:45s} {seconds:7.1f} s  {seconds / base:6.1f} x baseline")
    print(f"  {'total: nbprod new -> served model':45s} {total:7.1f} s  {total / base:6.1f} x baseline")


if __name__ == "__main__":
    raise SystemExit(main())
