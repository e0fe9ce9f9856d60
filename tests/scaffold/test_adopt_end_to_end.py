"""Her notebook adopted end to end, as she goes: `nbprod new --notebook` -> `ploomber build`
(the smoke env) -> `nbprod bento` -> a real `bentoml serve` -> her held-out raw rows POSTed
as records answer what her model says when her original notebook is executed (nbclient).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from projectkit import BIN, adopted_build, bentoml_cli, bentoml_serve, nbprod_bento, record_fields

pytestmark = pytest.mark.pipeline

HERE = Path(__file__).parent / "fixtures"
NOTEBOOK = HERE / "churn_notebook" / "churn.ipynb"
CSV = HERE / "ibm_telco" / "Telco-Customer-Churn-sample.csv"
#: appended to a copy of her notebook: what her model says about her held-out rows
DUMP = "import json\nprint(json.dumps(dict(zip(map(int, X_test.index), rf.predict_proba(X_test)[:, 1].tolist()))))"


def her_answers(folder: Path) -> dict[int, float]:
    """Her original notebook executed as it is (plus one cell printing her model's answers)."""
    (folder / "data").mkdir(parents=True)
    shutil.copyfile(CSV, folder / "data" / CSV.name)
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nb.cells.append(new_code_cell(DUMP))
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(folder)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return {int(k): v for k, v in json.loads(text).items()}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    path = tmp_path_factory.mktemp("adopt-e2e") / "churn_hers"
    env, out = adopted_build(path, "--notebook", str(NOTEBOOK), "--data", str(CSV), "--model",
                             "rf")
    return path, env, out


def test_the_command_says_what_it_adopted(adopted):
    _, _, out = adopted
    assert "parity    the served path answers her" in out
    assert "cell 6, line 2: filters or renumbers rows (.dropna): training only" in out


def test_the_lineage_records_her_notebook_sha256(adopted):
    import hashlib

    path, env, _ = adopted
    tag = json.loads((path / "products/model/registration.json").read_text())["tag"]
    model = bentoml_cli(Path(env["BENTOML_HOME"]), "models", "get", tag)
    recorded = model["metadata"]["data"]["notebook"]
    assert recorded["sha256"] == hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    assert recorded["path"] == "original/churn.ipynb"


def test_served_raw_records_answer_as_her_executed_notebook(adopted, tmp_path):
    path, env, _ = adopted
    expected = her_answers(tmp_path / "hers")
    spec, fields = record_fields(path)
    raw = pd.read_csv(CSV)
    for name, header in fields.items():  # a JSON record carries numbers as numbers
        if spec["columns"][name]["kind"] in ("number", "integer"):
            raw[header] = pd.to_numeric(raw[header], errors="coerce")
    with bentoml_serve(nbprod_bento(path, env), path, env, timeout=180) as client:
        for index, proba in expected.items():
            row = raw.loc[index]
            record = {name: (row[h].item() if hasattr(row[h], "item") else row[h])
                      for name, h in fields.items()}
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            assert resp.json()["probability"] == pytest.approx(proba, rel=1e-6, abs=1e-12), index
    assert len(expected) > 50


def test_her_hyper_parameter_is_overridden_from_the_command_line(adopted):
    """Last: it builds again in the shared project. Only her model's task and what follows
    it run, with the value given."""
    path, env, _ = adopted
    result = subprocess.run([str(BIN / "ploomber"), "build", "--env--rf_n_estimators", "7"],
                            cwd=path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ran = {line.split()[0] for line in result.stdout.splitlines()
           if line.split()[1:2] == ["True"]}
    assert ran == {"models", "train", "evaluate", "register", "score"}
    report = json.loads((path / "products-smoke/reports/models.ipynb").read_text())
    injected = next("".join(c["source"]) for c in report["cells"]
                    if "injected-parameters" in c["metadata"].get("tags", []))
    assert "rf_n_estimators = 7" in injected
