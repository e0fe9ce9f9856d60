"""CLI start-up: `nbprod --help` (and `nbprod drift --help`) against `python -c "import pandas"`.

    .venv/bin/python benchmarks/startup.py [--runs 10]

Prints the median of each, and the ratio to the pandas import measured in the same run
(the machine is shared, so only the ratio means something).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

NBPROD = str(Path(sys.executable).with_name("nbprod"))
CASES = {
    'python -c "import pandas"': [sys.executable, "-c", "import pandas"],
    "nbprod --help": [NBPROD, "--help"],
    "nbprod drift --help": [NBPROD, "drift", "--help"],
    'python -c "import nbprod.errors"': [sys.executable, "-c", "import nbprod.errors"],
}


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for cmd in CASES.values():  # warm the file cache once
        subprocess.run(cmd, check=True, capture_output=True)
    # interleave the cases so load changes hit all of them alike
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, cmd in CASES.items():
            samples[name].append(median_seconds(cmd, 1))
    base = statistics.median(samples['python -c "import pandas"'])
    print(f"{'command':<36} {'median s':>9} {'x import pandas':>16}")
    for name, values in samples.items():
        m = statistics.median(values)
        print(f"{name:<36} {m:9.3f} {m / base:16.2f}")


if __name__ == "__main__":
    main()
