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
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from adoptkit import adopt_and_build, served_as_hers
from projectkit import BIN, bentoml_cli

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
    return adopt_and_build(tmp_path_factory.mktemp("adopt-e2e"), "churn_hers", "--notebook",
                           str(NOTEBOOK), "--data", str(CSV), "--model", "rf")


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
    served_as_hers(path, env, CSV, expected)
    assert len(expected) > 50


def test_lab_opens_her_task_with_its_upstream_injected_and_runs_it(adopted, tmp_path):
    """`make lab` on her project: her ``models`` task opens with the values it reads from
    ``features_nb`` injected (in memory: the file is untouched), and runs cell by cell in
    the server's kernel as in JupyterLab."""
    import requests

    from labkit import execute, injected_cells, jupyter_lab, kernel_session

    path, env, _ = adopted
    committed = (path / "notebooks/models.ipynb").read_bytes()
    with jupyter_lab(path, env, tmp_path) as (url, token):
        auth = {"Authorization": f"token {token}"}
        opened = requests.get(f"{url}/api/contents/notebooks/models.ipynb", headers=auth,
                              timeout=120)
        assert opened.status_code == 200, opened.text
        cells = opened.json()["content"]["cells"]
        (injected,) = injected_cells(cells)
        upstream = path / "products-smoke" / "notebook" / "features_nb"
        assert str(upstream / "X_train.parquet") in injected["source"]
        assert (path / "notebooks/models.ipynb").read_bytes() == committed
        with kernel_session(url, token, "notebooks/models.ipynb") as (ws, session):
            ran = 0
            for cell in cells:
                if cell["cell_type"] == "code":
                    status, errors, _, _ = execute(ws, session, cell["source"])
                    assert status == "ok", "\n".join(errors)
                    ran += 1
            status, errors, outputs, _ = execute(ws, session, "print(type(rf).__name__)")
    assert status == "ok" and outputs[0]["text"].strip() == "RandomForestClassifier", errors
    assert ran >= 4


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
