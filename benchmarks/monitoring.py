"""In-process cost of monitoring one prediction: the service's model call with and without
``Monitor.record`` (prediction log, drift window, probability histogram), in one process.

    python benchmarks/monitoring.py     # after `make run`; make bench-monitoring runs it too

Alternates blocks of single-row predictions with and without monitoring and prints the
median time per prediction of each and their ratio. The log writes and drift updates (the
monitor's background thread) are included: each block ends with ``Monitor.close``, which
writes whatever the thread has not yet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500, help="predictions per block")
    parser.add_argument("--blocks", type=int, default=7, help="blocks of each kind")
    args = parser.parse_args()
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    sys.path.insert(0, str(ROOT / "src"))
    from nbprod.monitoring.config import MonitorConfig
    from nbprod.monitoring.monitor import Monitor
    from nbprod.serving.predictor import Predictor, input_model, model_tag

    tag = model_tag(ROOT / "products" / "model" / "registration.json")
    predictor = Predictor.from_store(tag)
    customer = input_model(predictor.schema, "Customer")(**predictor.schema.example())
    reference = predictor.metadata["reference_statistics"]

    def block(monitored: bool, folder: Path) -> float:
        monitor = Monitor(tag, reference, predictor.classes[-1],
                          MonitorConfig(log_dir=folder)) if monitored else None
        start = time.perf_counter()
        for _ in range(args.rows):
            answer = predictor.predict([customer])
            if monitor is not None:
                monitor.record([customer], [answer[0].probability], [answer[0].label])
        if monitor is not None:
            monitor.close()  # log and bin what the thread has not yet
        return (time.perf_counter() - start) / args.rows * 1e3

    with tempfile.TemporaryDirectory() as tmp:
        times: dict[bool, list[float]] = {False: [], True: []}
        block(False, Path(tmp))  # warm-up
        for i in range(args.blocks):
            for monitored in (False, True) if i % 2 == 0 else (True, False):
                times[monitored].append(block(monitored, Path(tmp) / f"log{i}"))
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"model {tag}: {args.blocks} blocks of {args.rows} single-row predictions each (medians)")
    print("| unmonitored ms/prediction | monitored ms/prediction | added | ratio |")
    print("|---|---|---|---|")
    print(f"| {off:.3f} | {on:.3f} | {on - off:+.3f} ms | {on / off:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
