"""A public notebook whose scikit-learn Pipeline holds the author's own transformer class
(``tests/fixtures/adopt/titanic_pipeline``, see its README), adopted end to end:
`nbprod new --notebook` -> `ploomber build` -> `nbprod bento` -> a real `bentoml serve` ->
her held-out raw rows, POSTed one record at a time, answer what her model says when her
original notebook is executed (nbclient): the same probability within 1e-6 relative and the
same label.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from adoptkit import adopt_and_build
from projectkit import BIN, bentoml_serve

pytestmark = pytest.mark.pipeline

FOLDER = (Path(__file__).parents[1] / "fixtures" / "adopt" / "titanic_pipeline"
          / "section-04-research-and-development" / "titanic-assignment")
NOTEBOOK = FOLDER / "04-titanic-survival-pipeline-solution.ipynb"
CSV = FOLDER / "titanic-openml.csv"
#: appended to a copy of her notebook: what her model says about her held-out rows
DUMP = ("import json\nprint(json.dumps({int(i): [float(p), int(c)] for i, p, c in zip("
        "X_test.index, titanic_pipe.predict_proba(X_test)[:, 1], titanic_pipe.predict(X_test))}))")


def her_answers(folder: Path) -> dict[int, list]:
    """Her original notebook executed as it is, beside her data file (plus one cell printing
    her model's answers). Its kernelspec names the author's own kernel: run on python3."""
    shutil.copytree(FOLDER, folder)
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nb.cells.append(new_code_cell(DUMP))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return {int(k): v for k, v in json.loads(text).items()}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    return adopt_and_build(tmp_path_factory.mktemp("adopt-own-classes"), "titanic",
                           "--notebook", str(NOTEBOOK), "--data", str(CSV),
                           "--model", "titanic_pipe", "--target", "survived")


def test_her_class_is_served_from_her_package(adopted):
    path, _, out = adopted
    assert "parity    the served path answers her 200 held-out rows (X_test)" in out
    package = yaml.safe_load((path / "trust.yaml").read_text())["packages"][0]
    copied = (path / "src" / package / "notebook.py").read_text()
    assert "class ExtractLetterTransformer(BaseEstimator, TransformerMixin):" in copied
    task = nbformat.read(str(path / "notebooks" / "pipeline.ipynb"), as_version=4)
    assert any(c.source == f"from {package}.notebook import ExtractLetterTransformer"
               for c in task.cells)


def _record(row: pd.Series, fields: dict[str, str]) -> dict:
    out = {}
    for name, header in fields.items():
        value = row[header]
        value = value.item() if hasattr(value, "item") else value
        out[name] = None if isinstance(value, float) and math.isnan(value) else value
    return out


def test_served_raw_records_answer_as_her_executed_notebook(adopted, tmp_path):
    path, env, _ = adopted
    expected = her_answers(tmp_path / "hers")
    spec = yaml.safe_load((path / "columns.yaml").read_text())
    assert spec["columns"]["cabin"]["kind"] == "text"  # her class reads it
    fields = {name: c.get("source", name) for name, c in spec["columns"].items()
              if name != spec["target"]}
    raw = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    for name, header in fields.items():  # a JSON record carries numbers as numbers
        kind = spec["columns"][name]["kind"]
        if kind in ("number", "integer"):
            raw[header] = pd.to_numeric(raw[header], errors="coerce")
        elif kind == "categorical" and all(isinstance(c, int)
                                           for c in spec["columns"][name]["categories"]):
            raw[header] = raw[header].astype(int)
    result = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    bento = result.stdout.strip().splitlines()[-1]
    cabins = 0
    with bentoml_serve(bento, path, env, timeout=180) as client:
        for index, (proba, label) in expected.items():
            record = _record(raw.loc[index], fields)
            cabins += record["cabin"] != "?"
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            answer = resp.json()
            assert answer["probability"] == pytest.approx(proba, rel=1e-6, abs=1e-12), index
            assert answer["threshold"] == 0.5 and answer["label"] == str(label), (index, answer)
    assert len(expected) == 200
    assert cabins > 20  # rows whose cabin letter her class reads
