"""Model format benchmark: loading the Telco model from skops (what nbprod stores) against
joblib (the pickle it stored before), and the server-side check `verify_servable`.

    .venv/bin/python benchmarks/model_format.py

Trains the reference pipeline (logistic regression and gradient boosting) on the shipped
data, writes each both ways in a temporary folder, and prints the median load time of
each format over alternating rounds, the skops/joblib ratio, and the file sizes. Ratios
only: absolute times on these shared machines mean little.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import joblib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from churn import COLUMNS, TARGET  # noqa: E402
from churn.data import clean, read_raw  # noqa: E402
from churn.features import features, target  # noqa: E402
from churn.model import build_model  # noqa: E402
from nbprod import derive_feature_schema  # noqa: E402
from nbprod.model.artifacts import load_model_file, save_model  # noqa: E402

ROUNDS = 15


def main() -> None:
    frame = clean(read_raw(ROOT / "data/raw/telco_churn.csv.gz"))
    schema = derive_feature_schema(frame, COLUMNS, TARGET)
    X, y = features(frame), target(frame)
    print(f"| model | skops load / joblib load (median of {ROUNDS}) | skops size / joblib size |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, params in (("logistic_regression", {}), ("gradient_boosting", {"max_iter": 200})):
            model = build_model(schema, name, params, seed=42).fit(X, y)
            sk, jl = Path(tmp) / f"{name}.skops", Path(tmp) / f"{name}.joblib"
            save_model(model, sk)
            joblib.dump(model, jl)
            times = {"skops": [], "joblib": []}
            for _ in range(ROUNDS):  # alternate, so load on the machine hits both alike
                for fmt, load, path in (("skops", load_model_file, sk), ("joblib", joblib.load, jl)):
                    started = time.perf_counter()
                    load(path)
                    times[fmt].append(time.perf_counter() - started)
            ratio = statistics.median(times["skops"]) / statistics.median(times["joblib"])
            size = sk.stat().st_size / jl.stat().st_size
            print(f"| {name} | {ratio:.2f}x | {size:.2f}x |")


if __name__ == "__main__":
    main()
