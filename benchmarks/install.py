"""A fresh clone's first `make run`, installed with pip and with uv, in one run.

    .venv/bin/python benchmarks/install.py [--ref HEAD] [--warm-uv]

Clones the repository at REF into two temporary folders and runs `make run` in each,
one after the other: `INSTALLER=pip` (pip's own cache as it is on this machine) and
`INSTALLER=uv` with an empty uv cache (the first install a new user meets). `--warm-uv`
adds a clone installed by uv with the cache the second left, `--compile` one where uv also
compiles bytecode at install time (``UV_COMPILE_BYTECODE=1``, as pip does by default).
Each run has its own BentoML store. Prints the wall time of each (venv + install + build + bento), the time
until the install was done, and the ratio to pip.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_make(clone: Path, installer: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds of `make install` and of the whole `make run` (install included)."""
    env = {**env, "INSTALLER": installer}
    start = time.perf_counter()
    log = (clone / "make-run.log").open("w")
    subprocess.run(["make", "install", f"INSTALLER={installer}"], cwd=clone, env=env,
                   stdout=log, stderr=subprocess.STDOUT, check=True)
    installed = time.perf_counter() - start
    subprocess.run(["make", "run", f"INSTALLER={installer}"], cwd=clone, env=env,
                   stdout=log, stderr=subprocess.STDOUT, check=True)
    return installed, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD")
    parser.add_argument("--warm-uv", action="store_true")
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    cases = [("pip", "pip", {}), ("uv (empty cache)", "uv", {})]
    if args.warm_uv:
        cases.append(("uv (warm cache)", "uv", {}))
    if args.compile:
        cases.append(("uv + bytecode", "uv", {"UV_COMPILE_BYTECODE": "1"}))
    results = []
    with tempfile.TemporaryDirectory(prefix="nbprod-install-") as tmp:
        tmp = Path(tmp)
        uv_cache = tmp / "uv-cache"
        for i, (label, installer, extra) in enumerate(cases):
            clone = tmp / f"clone{i}"
            subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
            subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", args.ref], check=True)
            env = {
                **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
                "PATH": os.environ["PATH"].replace(str(Path(sys.executable).parent) + ":", ""),
                "BENTOML_HOME": str(tmp / f"bentoml{i}"),
                "UV_CACHE_DIR": str(uv_cache),
                "BENTOML_DO_NOT_TRACK": "true",
                "PLOOMBER_STATS_ENABLED": "false",
                **extra,
            }
            installed, total = run_make(clone, installer, env)
            results.append((label, installed, total))
            print(f"{label:<18} install {installed:7.1f} s   make run {total:7.1f} s   "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    base_install, base_total = results[0][1], results[0][2]
    print(f"\n{platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'installer':<18} {'install s':>10} {'x pip':>7} {'make run s':>11} {'x pip':>7}")
    for label, installed, total in results:
        print(f"{label:<18} {installed:10.1f} {installed / base_install:7.2f} "
              f"{total:11.1f} {total / base_total:7.2f}")


if __name__ == "__main__":
    main()
