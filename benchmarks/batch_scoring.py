"""Batch scoring on the compiled fast path against scikit-learn, in one run.

    make bench-batch          # after `make run`; or: python benchmarks/batch_scoring.py --help

On the project's registered model (``products/model/registration.json``), in a temporary
folder:

* **throughput**, in one process, over the same chunks of one file (best of 3, alternating):
  scikit-learn's ``predict_proba`` on each chunk already in memory (the baseline), the
  compiled graph on the same chunks, and ``nbprod.serving.batch.score_chunks`` file to file
  (reading, validation and writing included) on each path;
* **memory**: ``nbprod score`` at 1M and 10M rows (``--rows``) on the compiled path and on
  the artifact (``NBPROD_COMPILED=0``): wall time, rows/s and peak RSS of the whole command.
  Chunked scoring should hold its memory flat as the rows grow tenfold.

Only the ratios mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHUNK = 100_000


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"failed: {' '.join(args)}\n{out[-3000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def throughput(tag: str, source: Path, work: Path, repeats: int = 3) -> dict[str, float]:
    """Best-of-``repeats`` rows/s of each way over the same chunks of ``source``."""
    import pandas as pd

    from nbprod.data.frames import model_frame
    from nbprod.registry.store import get_model, load_artifact, load_compiled, schema_of
    from nbprod.serving.batch import score_chunks

    stored = get_model(tag)
    model, graph, schema = load_artifact(stored), load_compiled(stored), schema_of(stored)
    if graph is None:
        sys.exit(f"{tag} has no compiled graph: `nbprod models show {tag}` says why")
    frame = pd.read_parquet(source, columns=schema.names)
    chunks = [model_frame(frame.iloc[i:i + CHUNK], schema.features)
              for i in range(0, len(frame), CHUNK)]
    ways = {
        "scikit-learn predict_proba, in memory": lambda: [model.predict_proba(c) for c in chunks],
        "compiled graph, in memory": lambda: [graph.predict_proba(c) for c in chunks],
        "score_chunks, artifact (file to file)": lambda: score_chunks(
            model, schema, tag, source, work / "a.parquet", chunk_rows=CHUNK),
        "score_chunks, compiled (file to file)": lambda: score_chunks(
            graph, schema, tag, source, work / "c.parquet", chunk_rows=CHUNK),
    }
    best = dict.fromkeys(ways, 0.0)
    for _ in range(repeats):
        for name, way in ways.items():
            t = time.perf_counter()
            way()
            best[name] = max(best[name], len(frame) / (time.perf_counter() - t))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000,10000000",
                        help="row counts of the `nbprod score` runs (the first is also the "
                             "throughput file)")
    parser.add_argument("--tag", help="model tag (default: the project's registered model)")
    opts = parser.parse_args()
    counts = [int(n) for n in opts.rows.split(",")]
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    sys.path.insert(0, str(ROOT / "src"))
    from nbprod.serving.predictor import model_tag

    tag = opts.tag or model_tag(ROOT / "products" / "model" / "registration.json")
    nbprod = str(BIN / "nbprod")
    env = dict(os.environ)
    print(f"model {tag}, {os.cpu_count()} CPUs, chunks of {CHUNK:,} rows; "
          f"load average {os.getloadavg()[0]:.1f} before start", flush=True)
    with tempfile.TemporaryDirectory(prefix="nbprod-batch-") as tmp:
        work = Path(tmp)
        files = {}
        for n in counts:
            files[n] = work / f"customers-{n}.parquet"
            run([nbprod, "synth", str(n), str(files[n]), "--seed", "1"], env)

        best = throughput(tag, files[counts[0]], work)
        base = best["scikit-learn predict_proba, in memory"]
        print(f"\n## Throughput on {counts[0]:,} rows (best of 3, one process)\n")
        print("| way | rows/s | x scikit-learn |")
        print("|---|---:|---:|")
        for name, rps in best.items():
            print(f"| {name} | {rps:,.0f} | {rps / base:.2f} |")

        print("\n## nbprod score, whole command\n")
        print("| rows | path | wall s | rows/s | peak RSS MB |")
        print("|---:|---|---:|---:|---:|")
        rss: dict[str, list[float]] = {"compiled": [], "artifact": []}
        for n in counts:
            for path, flag in (("compiled", "1"), ("artifact", "0")):
                wall, peak = run([nbprod, "score", str(files[n]), str(work / "out.parquet"),
                                  "--model", tag], dict(env, NBPROD_COMPILED=flag))
                rss[path].append(peak)
                print(f"| {n:,} | {path} | {wall:.1f} | {n / wall:,.0f} | {peak:,.0f} |",
                      flush=True)
        compiled = best["score_chunks, compiled (file to file)"]
        print(f"\nbatch scoring, compiled: {compiled / base:.2f}x scikit-learn's predict_proba "
              f"rows/s (target >= 3): {'met' if compiled / base >= 3 else 'NOT met'}")
        growth = rss["compiled"][-1] / rss["compiled"][0]
        print(f"peak RSS from {counts[0]:,} to {counts[-1]:,} rows, compiled: {growth:.2f}x "
              f"(flat: <= 1.2x): {'met' if growth <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
