"""Scale benchmark: the pipeline at 100k and 1M rows, batch scoring at 1M and 10M.

    make bench-scale        # or: .venv/bin/python benchmarks/scale.py [--quick]

Prints, in one run:
* batch scoring (`nbprod.serving.batch.score_chunks`, Parquet file -> Parquet file, I/O and
  per-chunk validation included) in rows/s against the raw `predict_proba` rows/s on
  the same rows already in memory (best of 3 each, alternating), and their ratio;
* `nbprod score` at 1M and 10M rows: wall time and peak RSS of the process;
* `ploomber build --force` at 100k and 1M rows: wall time, per-task times, peak RSS.

Everything runs in a temporary folder with a temporary BentoML store; the model scored
is the one the 1M-row build registered. Peak RSS comes from wait4() on each child.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TASKS = ("ingest", "features", "train", "evaluate", "register", "score")


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{out[-3000:]}")
    return wall, usage.ru_maxrss / 1024, out


def task_times(output: str) -> dict[str, float]:
    return {m[0]: float(m[1]) for m in re.findall(r"^(\w+)\s+True\s+([\d.]+)", output, re.M)}


def throughput(tag: str, source: Path, work: Path, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` rows/s of raw predict_proba (in memory) and of batch scoring."""
    import pandas as pd

    from nbprod import feature_schema, load_model
    from nbprod.serving.batch import score_chunks

    model, schema = load_model(tag), feature_schema(tag)
    frame = pd.read_parquet(source, columns=schema.names)
    raw, batch = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict_proba(frame)
        raw.append(len(frame) / (time.perf_counter() - t))
        t = time.perf_counter()
        score_chunks(model, schema, tag, source, work / "throughput.parquet")
        batch.append(len(frame) / (time.perf_counter() - t))
    return max(raw), max(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer rows (a smoke run)")
    opts = parser.parse_args()
    scale = 10 if opts.quick else 1
    pipeline_rows = [100_000 // scale, 1_000_000 // scale]
    score_rows = [1_000_000 // scale, 10_000_000 // scale]

    with tempfile.TemporaryDirectory(prefix="nbprod-scale-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, BENTOML_HOME=str(work / "bentoml"), BENTOML_DO_NOT_TRACK="true",
                   PLOOMBER_STATS_ENABLED="false", PLOOMBER_ENV_FILENAME="env.yaml")
        os.environ.update(BENTOML_HOME=env["BENTOML_HOME"], BENTOML_DO_NOT_TRACK="true")
        nbprod = str(BIN / "nbprod")
        print(f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
              f"{platform.python_version()}, {platform.machine()}")

        print("\n## Pipeline (ploomber build --force, ploomber-engine)\n")
        print("| rows | wall s | " + " | ".join(f"{t} s" for t in TASKS) + " | peak RSS MB |")
        print("|---:|---:|" + "---:|" * len(TASKS) + "---:|")
        for n in pipeline_rows:
            raw = work / f"raw-{n}.parquet"
            run([nbprod, "synth", str(n), str(raw), "--seed", "0"], env)
            wall, rss, out = run([str(BIN / "ploomber"), "build", "--force",
                                  "--env--raw_data", str(raw),
                                  "--env--products", str(work / f"products-{n}")], env)
            times = task_times(out)
            print(f"| {n:,} | {wall:.1f} | " + " | ".join(f"{times.get(t, float('nan')):.1f}"
                                                        for t in TASKS) + f" | {rss:,.0f} |")
        tag = (work / f"products-{pipeline_rows[-1]}/model/registration.json").read_text()
        tag = re.search(r'"tag": "([^"]+)"', tag).group(1)

        print(f"\n## Batch scoring (nbprod score, chunks of 100,000, model {tag})\n")
        print("| rows | wall s (whole command, imports included) | rows/s | peak RSS MB |")
        print("|---:|---:|---:|---:|")
        files = {}
        for n in score_rows:
            files[n] = work / f"customers-{n}.parquet"
            run([nbprod, "synth", str(n), str(files[n]), "--seed", "1"], env)
            wall, rss, _ = run([nbprod, "score", str(files[n]), str(work / f"scores-{n}.parquet"),
                                "--model", tag], env)
            print(f"| {n:,} | {wall:.1f} | {n / wall:,.0f} | {rss:,.0f} |")

        raw_rps, batch_rps = throughput(tag, files[score_rows[0]], work)
        print(f"\n## Throughput on {score_rows[0]:,} rows (best of 3, in one process)\n")
        print("| raw predict_proba (in memory) rows/s | batch scoring (file to file) rows/s | ratio |")
        print("|---:|---:|---:|")
        print(f"| {raw_rps:,.0f} | {batch_rps:,.0f} | {batch_rps / raw_rps:.2f} |")


if __name__ == "__main__":
    main()
