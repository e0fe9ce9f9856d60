"""Batch scoring of a partitioned data set: here (one process) against a Dask LocalCluster.

    make bench-dask        # or: .venv/bin/python benchmarks/dask_scoring.py [--rows N] [--parts P]

Writes a data set of ``--parts`` Parquet files (``--rows`` in all) sampled from the shipped
customers, trains and registers a model in a temporary store, then scores the data set
(best of 3 each; the model is loaded once per process, in the first) with
``nbprod.serving.dataset_scoring.score_dataset``:
* locally, in a child process (its peak RSS from wait4());
* on a ``distributed.LocalCluster`` of 2 worker processes x 1 thread (started before
  the clock, as a running cluster would be); each worker's peak RSS from getrusage().

Prints rows/s of each, their ratio (Dask / local), and the peak memory per worker. On a
2-core machine the two workers share the cores with the scheduler and this client.
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
RAW = ROOT / "data" / "raw" / "telco_churn.csv.gz"

LOCAL_SCRIPT = """
import sys, time
from nbprod.serving.dataset_scoring import score_dataset
times = []
for i in range(int(sys.argv[4])):
    started = time.perf_counter()
    score_dataset(sys.argv[1], sys.argv[2], f"{sys.argv[3]}-{i}", chunk_rows=100_000)
    times.append(time.perf_counter() - started)
print(min(times))
"""


def real_rows():
    import churn
    from nbprod.data import synth
    from nbprod.data.columns import ColumnTable

    table = ColumnTable.load(ROOT / "columns.yaml")
    return churn.clean(synth.real_rows(RAW, table)), table


def write_dataset(folder: Path, rows: int, parts: int) -> None:
    real, _ = real_rows()
    for i in range(parts):
        n = rows // parts + (1 if i < rows % parts else 0)
        path = folder / f"part={i:03d}" / "customers.parquet"
        path.parent.mkdir(parents=True)
        real.sample(n, replace=True, random_state=i).reset_index(drop=True).to_parquet(path)


def register() -> str:
    from nbprod import derive_feature_schema, register_model
    from nbprod.data.dataset import features, target
    from nbprod.model.modeling import build_model

    real, table = real_rows()
    schema = derive_feature_schema(real, table)
    model = build_model(schema, "logistic_regression", {}, seed=0)
    model.fit(features(real, table), target(real, table))
    return register_model("bench_churn", model, {"feature_schema": schema.to_dict(),
                                                 "metrics": {"threshold": 0.5}})


def local_run(tag: str, source: Path, dest: Path, repeats: int) -> tuple[float, float]:
    """(best seconds, peak RSS MB) of scoring ``repeats`` times in a fresh process."""
    proc = subprocess.Popen([sys.executable, "-c", LOCAL_SCRIPT, tag, str(source), str(dest),
                             str(repeats)],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"local scoring failed: {out}")
    return float(out.split()[-1]), usage.ru_maxrss / 1024


def worker_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nbprod-bench-dask-") as tmp:
        work = Path(tmp)
        os.environ.update(BENTOML_HOME=str(work / "bentoml"), BENTOML_DO_NOT_TRACK="true")
        from distributed import Client, LocalCluster

        from nbprod.serving.dataset_scoring import score_dataset

        source = work / "customers"
        write_dataset(source, args.rows, args.parts)
        tag = register()
        local_time, local_rss = local_run(tag, source, work / "local", args.repeats)
        dask_times = []
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
            for i in range(args.repeats):
                started = time.perf_counter()
                score_dataset(tag, source, work / f"dask-{i}", scheduler=client, chunk_rows=100_000)
                dask_times.append(time.perf_counter() - started)
            peaks = client.run(worker_peak_mb)
        local_rate, dask_rate = args.rows / local_time, args.rows / min(dask_times)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print(f"data set: {args.rows:,} rows in {args.parts} Parquet files; chunks of 100,000")
        print(f"local (1 process):       {local_rate:>12,.0f} rows/s  peak RSS {local_rss:,.0f} MB")
        print(f"Dask (2 workers x 1):    {dask_rate:>12,.0f} rows/s  "
              f"peak RSS per worker {', '.join(f'{v:,.0f}' for v in peaks.values())} MB")
        print(f"ratio Dask / local:      {dask_rate / local_rate:.2f}")


if __name__ == "__main__":
    main()
