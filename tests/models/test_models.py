"""Her own model, end to end: each supported model trained by the real pipeline, registered,
gated (the single-record trial included), bundled by `nbprod bento` and served by a real
`bentoml serve` of that bento; the served predictions are the fitted object's.

Nothing widens the trust but the project's trust.yaml (its libraries and its package).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import features
from nbprod.data.schema import FeatureSchema
from nbprod.model.artifacts import load_model_file
from nbprod.model.trust import read_trust
from nbprod.serving.trial import records
from projectkit import BIN, ROOT, SERVED, bentoml_serve, build_env, copy_project

pytestmark = pytest.mark.models

#: case -> (estimator in env.yaml, its hyper-parameters, nbprod's preprocessing first?,
#:          the final estimator's class, a library the lineage must name)
CASES = {
    "random_forest": ("sklearn.ensemble:RandomForestClassifier", {"n_estimators": 30}, True,
                      "RandomForestClassifier", "scikit-learn"),
    "gradient_boosting": ("sklearn.ensemble:GradientBoostingClassifier", {"n_estimators": 30},
                          True, "GradientBoostingClassifier", "scikit-learn"),
    "hist_gradient_boosting": ("sklearn.ensemble:HistGradientBoostingClassifier",
                               {"max_iter": 30}, True, "HistGradientBoostingClassifier",
                               "scikit-learn"),
    "svc": ("sklearn.svm:SVC", {"probability": True}, True, "SVC", "scikit-learn"),
    "knn": ("sklearn.neighbors:KNeighborsClassifier", {"n_neighbors": 15}, True,
            "KNeighborsClassifier", "scikit-learn"),
    "grid_search": ("churn.models:searched_forest", {}, True, "RandomForestClassifier",
                    "scikit-learn"),
    "xgboost": ("xgboost:XGBClassifier", {"n_estimators": 30, "max_depth": 3}, True,
                "XGBClassifier", "xgboost-cpu"),
    "lightgbm": ("lightgbm:LGBMClassifier", {"n_estimators": 30, "verbose": -1}, True,
                 "LGBMClassifier", "lightgbm"),
    "catboost": ("catboost:CatBoostClassifier",
                 {"iterations": 30, "verbose": 0, "allow_writing_files": False}, True,
                 "CatBoostClassifier", "catboost"),
    "own_pipeline": ("churn.models:own_forest", {"n_estimators": 30}, False,
                     "RandomForestClassifier", "nbprod-reference-churn"),
}


#: case -> (bento tag, the rows sent, the fitted object's probabilities), for later tests
BENTOS: dict[str, tuple[str, list[dict], np.ndarray]] = {}


@pytest.fixture(scope="module")
def tier(tmp_path_factory) -> Path:
    """The reference project with a trust file that turns the three libraries on."""
    path = copy_project(tmp_path_factory.mktemp("models-project"))
    shutil.copy2(ROOT / "bentofile.yaml", path / "bentofile.yaml")
    trust = yaml.safe_load((ROOT / "trust.yaml").read_text())
    trust["libraries"] = ["xgboost", "lightgbm", "catboost"]
    (path / "trust.yaml").write_text(yaml.safe_dump(trust))
    return path


def _env(tier: Path, case: str) -> dict[str, str]:
    """The smoke parameters with this case's estimator, as an env file of its own."""
    estimator, params, preprocess, _, _ = CASES[case]
    env = yaml.safe_load((tier / "env.smoke.yaml").read_text())
    env.update(estimator=estimator, hyperparameters={estimator: params}, preprocess=preprocess)
    (tier / f"env.{case}.yaml").write_text(yaml.safe_dump(env))
    out = build_env(tier / "bentoml-home", f"env.{case}.yaml")
    assert not any(k.startswith("NBPROD_TRUST") for k in out), "trust comes from trust.yaml alone"
    return out


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _built_bundled_served(tier: Path, env: dict[str, str]) -> tuple[str, dict, str, list, Any]:
    """`ploomber build`, `nbprod bento` and `bentoml serve` of that bento: the served answers
    to every held-out row are the fitted object's. (tag, lineage, bento, rows, expected)"""
    import bentoml

    _run([str(BIN / "ploomber"), "build"], tier, env)
    tag = json.loads((tier / "products-smoke/model/registration.json").read_text())["tag"]
    os.environ["BENTOML_HOME"] = env["BENTOML_HOME"]  # read this tier's store
    metadata = bentoml.models.get(tag).info.metadata
    assert metadata["trial"] == {"ran": True, "rows": 20, "passed": True}
    shown = yaml.safe_load(_run([str(BIN / "nbprod"), "models", "show", tag], tier, env))
    assert shown["model"] == metadata["model"] and shown["trial"]["passed"] is True
    bento = _run([str(BIN / "nbprod"), "bento", "--model", tag, "--project", str(tier)],
                 tier, env).strip().splitlines()[-1]
    table = ColumnTable.load(tier / "columns.yaml")
    test = pd.read_parquet(tier / "products-smoke/data/test.parquet")
    fitted = load_model_file(tier / "products-smoke/model/model.skops",
                             read_trust(tier / "trust.yaml"))
    expected = fitted.predict_proba(features(test, table))[:, 1]
    rows = records(test, FeatureSchema.load(tier / "products-smoke/model/feature_schema.json"),
                   len(test))
    with bentoml_serve(bento, tier, env) as client:
        batch = client.post("/predict_batch", json={"customers": rows})
        one = client.post("/predict", json={"customer": rows[0]})
    assert batch.status_code == 200, batch.text
    assert one.status_code == 200, one.text
    served = np.array([a["probability"] for a in batch.json()])
    np.testing.assert_allclose(served, expected, rtol=0, atol=SERVED)
    assert one.json()["probability"] == pytest.approx(expected[0], abs=SERVED)
    assert one.headers["x-model-version"] == tag
    return tag, metadata, bento, rows, expected


@pytest.mark.parametrize("case", list(CASES))
def test_her_model_is_served_from_its_bento_as_she_fitted_it(tier, case):
    _, metadata, bento, rows, expected = _built_bundled_served(tier, _env(tier, case))
    _, _, _, estimator, library = CASES[case]
    assert metadata["model"]["estimator"].endswith("." + estimator)
    assert library in metadata["model"]["libraries"]
    BENTOS[case] = (bento, rows, expected)


#: The train task of a project whose model is exported to ONNX: her own code, then one call.
EXPORT = """\
from onnx_graph import logistic_graph  # her exporter (tests/onnx_graph.py)

table = ColumnTable.load(resources_["columns"])
train = pd.read_parquet(upstream["features"]["train"])
feature_schema = FeatureSchema.load(upstream["features"]["schema"])
graph = logistic_graph(features(train, table), target(train, table), feature_schema)
save_model(graph, product["model"])"""


def test_a_model_she_exported_to_onnx_is_served_from_its_bento(tier):
    """Last in the tier: it rewrites the shared project's train task."""
    import nbformat

    notebook = nbformat.read(tier / "notebooks/train.ipynb", as_version=4)
    notebook.cells = [*notebook.cells[:3], nbformat.v4.new_code_cell(EXPORT)]
    nbformat.write(notebook, tier / "notebooks/train.ipynb")
    env = {**_env(tier, "random_forest"), "PYTHONPATH": str(ROOT / "tests")}
    _, metadata, bento, _, _ = _built_bundled_served(tier, env)
    assert metadata["artifact"]["format"] == "onnx"
    assert metadata["model"]["class"] == "onnx graph (tests.onnx_graph)"
    python = Path(env["BENTOML_HOME"]) / "bentos" / bento.replace(":", "/") / "env" / "python"
    from importlib.metadata import version

    assert f"onnxruntime=={version('onnxruntime')}" in (python / "requirements.txt").read_text()


def test_the_xgboost_bento_serves_from_a_fresh_environment_of_its_own_requirements(
        tier, tmp_path):
    """What the bento's Dockerfile installs (its requirements, its wheels), alone in a fresh
    virtual environment: XGBoost at the trained version, nbprod and the project's package
    from the bento's wheels."""
    assert "xgboost" in BENTOS, "the xgboost case above built the bento"
    bento, rows, expected = BENTOS["xgboost"]
    env = build_env(tier / "bentoml-home")
    home = Path(env["BENTOML_HOME"])
    python = home / "bentos" / bento.replace(":", "/") / "env" / "python"
    requirements = (python / "requirements.txt").read_text()
    from importlib.metadata import version

    assert f"xgboost-cpu=={version('xgboost-cpu')}" in requirements.splitlines()
    venv = tmp_path / "bento-venv"
    _run([str(BIN / "uv"), "venv", "--quiet", "--python", str(Path(BIN / "python").resolve()),
          str(venv)], tmp_path, env)
    _run([str(BIN / "uv"), "pip", "install", "--quiet", "--python", str(venv / "bin/python"),
          "-r", str(python / "requirements.txt"), *map(str, (python / "wheels").glob("*.whl"))],
         tmp_path, env)
    probe = _run([str(venv / "bin/python"), "-c",
                  "import churn, nbprod, xgboost; print(churn.__file__, nbprod.__file__)"],
                 tmp_path, env)
    assert probe.count(str(venv)) == 2 and str(ROOT) not in probe
    serve_env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    with bentoml_serve(bento, tmp_path, serve_env, bentoml=venv / "bin" / "bentoml") as client:
        batch = client.post("/predict_batch", json={"customers": rows})
    assert batch.status_code == 200, batch.text
    np.testing.assert_allclose([a["probability"] for a in batch.json()], expected, atol=SERVED)
