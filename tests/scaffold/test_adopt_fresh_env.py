"""Her notebook's project on a fresh virtual environment, as its README says:
`nbprod new --notebook` then `make run && make test` (its parity test included), and
`make serve` answers each of her held-out raw rows as her model does when her ORIGINAL
notebook is executed (nbclient, with one cell appended that prints her model's answers).

One case per notebook in :data:`CASES`; adding a notebook is one :class:`Case`. The fresh
virtual environments install with uv from its one user cache (the generated Makefile's
`make install`), so the second case reuses the wheels the first one fetched.

Slow (a fresh install from the package registry): `.ci/run` runs the cases of
:data:`EVERY_CHANGE`; `make test-adopted` (the adopted tier) runs every case:
    NBPROD_FRESH_ENV=1 pytest -m fresh_env tests/scaffold
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pandas as pd
import pytest
import yaml
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from projectkit import BIN, answers, free_port, wait_until

pytestmark = [
    pytest.mark.fresh_env,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(os.environ.get("NBPROD_FRESH_ENV") != "1",
                       reason="a fresh install: set NBPROD_FRESH_ENV=1 (see .ci/run)"),
]

HERE = Path(__file__).parent / "fixtures"
PUBLIC = Path(__file__).parents[1] / "fixtures" / "adopt"
TITANIC = "section-04-research-and-development/titanic-assignment"


@dataclass(frozen=True)
class Case:
    """A notebook adopted on a fresh virtual environment, and how to read its answers."""

    notebook: Path
    data: Path
    #: the path her notebook reads the data by, relative to her notebook
    reads: str
    model: str
    target: str | None
    #: her held-out frame, and an expression of her notebook giving her model's answer for
    #: each of its rows (numbers, labels, or one {class: probability} per row)
    held: str
    her: str
    #: the field of the service's answer compared with hers: ``probability`` (binary),
    #: ``label`` or ``probabilities`` (multiclass), ``prediction`` (regression)
    field: str
    #: her repository's folder, copied whole where her notebook runs (the folders her cells
    #: write to, beside her data); without it, only her data is put where she reads it
    root: Path | None = None


CASES = {
    "churn_notebook": Case(
        HERE / "churn_notebook" / "churn.ipynb",
        HERE / "ibm_telco" / "Telco-Customer-Churn-sample.csv",
        "data/Telco-Customer-Churn-sample.csv", "rf", None,
        "X_test", "rf.predict_proba(X_test)[:, 1]", "probability"),
    "forest_search": Case(  # her classes are ['No', 'Yes']: column 1 is 'Yes'
        PUBLIC / "forest_search" / "telco_customer_churn_analysis.ipynb",
        PUBLIC / "forest_search" / "WA_Fn-UseC_-Telco-Customer-Churn.csv",
        "WA_Fn-UseC_-Telco-Customer-Churn.csv", "rf_grid", "Churn",
        "X_val", "rf_grid.predict_proba(X_val)[:, 1]", "probability", PUBLIC / "forest_search"),
    "titanic_pipeline": Case(  # her own transformer class inside her Pipeline
        PUBLIC / "titanic_pipeline" / TITANIC / "04-titanic-survival-pipeline-solution.ipynb",
        PUBLIC / "titanic_pipeline" / TITANIC / "titanic-openml.csv",
        "titanic-openml.csv", "titanic_pipe", "survived",
        "X_test", "titanic_pipe.predict_proba(X_test)[:, 1]", "probability",
        PUBLIC / "titanic_pipeline"),
    "xgb_dict_map": Case(  # a statistic of her whole frame (a median) kept in the model
        PUBLIC / "xgb_dict_map" / "Notebooks" / "Predicting_Customer_Churn_with_XGBoost_&_CatBoost.ipynb",
        PUBLIC / "xgb_dict_map" / "Data" / "WA_Fn-UseC_-Telco-Customer-Churn.csv",
        "../Data/WA_Fn-UseC_-Telco-Customer-Churn.csv", "xgb_model", "Churn",
        "X_test", "xgb_model.predict_proba(X_test)[:, 1]", "probability", PUBLIC / "xgb_dict_map"),
    "pumpkins": Case(  # a regression on a target her notebook computes
        PUBLIC / "pumpkins" / "2-Regression" / "3-Linear" / "solution" / "notebook.ipynb",
        PUBLIC / "pumpkins" / "2-Regression" / "data" / "US-pumpkins.csv",
        "../../data/US-pumpkins.csv", "pipeline", "Price",
        "X_test", "pipeline.predict(X_test)", "prediction", PUBLIC / "pumpkins"),
}


def her_answers(case: Case, folder: Path) -> dict[int, Any]:
    """Her original notebook executed as it is, with her data where it reads it, plus one
    cell printing her model's answer for each of her held-out rows, by row label."""
    if case.root is not None:
        shutil.copytree(case.root, folder / "repo")
        cwd = folder / "repo" / case.notebook.parent.relative_to(case.root)
    else:
        cwd = folder.joinpath(*["nb"] * Path(case.reads).parts.count(".."))
        (cwd / case.reads).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case.data, cwd / case.reads)
    nb = nbformat.read(str(case.notebook), as_version=4)
    nb.cells.append(new_code_cell(
        "import json as _json, numpy as _np\n"
        f"_her = {case.her}\n"
        f"print(_json.dumps(dict(zip(map(int, {case.held}.index), "
        "_np.asarray(_her).tolist() if not isinstance(_her, list) else _her))))"))
    NotebookClient(nb, timeout=900, kernel_name="python3",  # her kernelspec may be her own
                   resources={"metadata": {"path": str(cwd)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return {int(k): v for k, v in json.loads(text).items()}


def records(project: Path) -> dict[int, dict[str, Any]]:
    """Her held-out raw rows as the service's records (columns.yaml's names and kinds), by
    row label."""
    [kept] = project.glob("products/notebook/*/heldout.parquet")  # her last task's
    held = pd.read_parquet(kept)
    spec = yaml.safe_load((project / "columns.yaml").read_text())
    out = {}
    for label, row in held.iterrows():
        out[int(label)] = {name: _field(row[c.get("source", name)], c)
                           for name, c in spec["columns"].items() if name != spec["target"]}
    return out


def _field(value: Any, column: dict[str, Any]) -> Any:
    """A raw value as a JSON record carries it: a number as a number, a blank (or a value
    that is no number in a number column, her file's ``'?'``) as null."""
    value = value.item() if hasattr(value, "item") else value
    if column["kind"] in ("number", "integer"):
        value = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        return None if pd.isna(value) else (float(value) if column["kind"] == "number"
                                            else int(value))
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def same(hers: Any, served: Any) -> bool:
    if isinstance(hers, dict):
        return hers.keys() == served.keys() and all(same(hers[k], served[k]) for k in hers)
    if isinstance(hers, str):
        return hers == served
    return served == pytest.approx(hers, rel=1e-6)


#: The case `.ci/run` takes on every change: a public notebook whose project pins a library of
#: her own (XGBoost). The others take a minute and a half each and show what the in-venv end to
#: end tests show already, plus a fresh install: the adopted tier, `make test-adopted`.
EVERY_CHANGE = ("xgb_dict_map",)


@pytest.mark.parametrize("name", [
    name if name in EVERY_CHANGE else pytest.param(name, marks=pytest.mark.adopted)
    for name in CASES])
def test_an_adopted_notebook_runs_tests_and_serves_her_answers_on_a_fresh_venv(name, tmp_path,
                                                                              monkeypatch):
    case = CASES[name]
    # one thread for her boosters, in her project and in her executed notebook alike: the
    # same fits on shared cores
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with ThreadPoolExecutor(1) as pool:  # her original notebook, while her project builds
        hers_later = pool.submit(her_answers, case, tmp_path / "her")
        project = tmp_path / "hers"
        new = subprocess.run(
            [str(BIN / "nbprod"), "new", str(project), "--notebook", str(case.notebook),
             "--data", str(case.data), "--model", case.model]
            + (["--target", case.target] if case.target else []),
            capture_output=True, text=True, timeout=900)
        assert new.returncode == 0, new.stderr
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                      if Path(p) != BIN)
        env["BENTOML_HOME"] = str(tmp_path / "bentoml-home")
        for target in ("run", "test"):
            result = subprocess.run(["make", target, f"PYTHON={sys.base_prefix}/bin/python3.11"],
                                    cwd=project, env=env, capture_output=True, text=True,
                                    timeout=3600)
            assert result.returncode == 0, \
                f"make {target}:\n{result.stdout[-4000:]}\n{result.stderr[-3000:]}"
        hers = hers_later.result()
    rows = records(project)
    assert rows.keys() == hers.keys()  # her held-out rows, every one
    port = free_port()
    make = subprocess.Popen(["make", "serve", "HOST=127.0.0.1", f"PORT={port}"], cwd=project,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        wait_until(lambda: answers(client, "/readyz"), 180, "make serve never ready",
                   interval=0.3)
        for label, record in rows.items():
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            served = resp.json()[case.field]
            assert same(hers[label], served), (label, hers[label], served)
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)
