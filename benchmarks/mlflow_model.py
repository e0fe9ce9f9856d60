"""Save a pickled scikit-learn model as an MLflow model (run in the MLflow virtual environment).

    python benchmarks/mlflow_model.py MODEL.pkl EXAMPLE.json OUT_DIR

benchmarks/serve.py writes the served model as a pickle (same scikit-learn version in both
environments, pinned in benchmarks/mlflow-requirements.txt) and one example record, then
runs this with the MLflow environment's Python. The MLflow model's pyfunc calls
``predict_proba``, so ``mlflow models serve`` computes what the other servers compute.
"""

from __future__ import annotations

import json
import pickle
import sys
import warnings

import mlflow.sklearn
import pandas as pd


def main(model_file: str, example_file: str, out_dir: str) -> None:
    warnings.simplefilter("ignore")  # MLflow's hints on inferred integer columns
    with open(model_file, "rb") as f:
        model = pickle.load(f)
    example = pd.DataFrame([json.loads(open(example_file).read())])
    # MLflow 3 stores scikit-learn models with skops; the imputers keep a numpy.dtype, the one
    # type nbprod's own skops artifacts trust beyond skops' defaults
    mlflow.sklearn.save_model(model, out_dir, pyfunc_predict_fn="predict_proba",
                              input_example=example, skops_trusted_types=["numpy.dtype"])


if __name__ == "__main__":
    main(*sys.argv[1:4])
