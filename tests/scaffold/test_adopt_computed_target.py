"""A public notebook whose target is computed (pumpkins: ``Price`` from ``Low Price`` and
``High Price``, rescaled by ``Package``) adopted end to end: `nbprod new --notebook` ->
`ploomber build` (the smoke env) -> `nbprod bento` -> a real `bentoml serve`; her raw
held-out rows, without the columns her target is made from, POSTed as records answer what
her model says when her original notebook is executed (nbclient)."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from adoptkit import adopted_build, her_executed_answers, nbprod_bento, record_fields
from projectkit import BIN, bentoml_cli, bentoml_serve

pytestmark = pytest.mark.pipeline

PUMPKINS = Path(__file__).parents[1] / "fixtures" / "adopt" / "pumpkins"
NOTEBOOK = "2-Regression/3-Linear/solution/notebook.ipynb"
CSV = "2-Regression/data/US-pumpkins.csv"
SOURCES = ["Low Price", "High Price"]
#: appended to a copy of her notebook: what her model says about her held-out rows
DUMP = ("import json\n"
        "print(json.dumps(dict(zip(map(int, X_test.index), pipeline.predict(X_test).tolist()))))")


def her_answers(folder: Path) -> dict[int, float]:
    """Her original notebook executed as it is (plus one cell printing her model's answers)."""
    shutil.copytree(PUMPKINS, folder)
    return {int(k): v for k, v in her_executed_answers(folder / NOTEBOOK, DUMP).items()}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adopt-pumpkins")
    shutil.copytree(PUMPKINS, folder / "pumpkins")
    path = folder / "pumpkin_prices"
    env, out = adopted_build(path, "--notebook", str(folder / "pumpkins" / NOTEBOOK), "--data",
                             str(folder / "pumpkins" / CSV), "--model", "pipeline",
                             "--target", "Price")
    return path, env, out


def test_the_command_says_her_target_is_computed_and_what_is_left_out(adopted):
    _, _, out = adopted
    assert ("target    Price is computed by her notebook; the records leave out the columns "
            "only it is made from: Low Price, High Price") in out
    for source in SOURCES:
        assert (f"left out  {source}: her notebook computes the target 'Price' from it "
                "(cell 3, line 6)") in out
    assert "kind      regression model of price" in out


def test_its_own_column_tests_pass_on_her_raw_file_without_a_target_column(adopted):
    path, env, _ = adopted
    result = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider",
                             "tests/test_columns.py"], cwd=path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout


def test_the_gate_uses_a_regression_metric_and_the_lineage_her_notebook(adopted):
    path, env, _ = adopted
    registration = json.loads((path / "products/model/registration.json").read_text())
    assert registration["promoted"], registration["reason"]
    metrics = json.loads((path / "products-smoke/model/metrics.json").read_text())
    assert {"r2", "rmse", "mae"} <= set(metrics)
    # her own printed 'Mean error: 2.23' is the root mean squared error on these rows
    assert metrics["rmse"] == pytest.approx(2.23, abs=0.01)
    model = bentoml_cli(Path(env["BENTOML_HOME"]), "models", "get", registration["tag"])
    recorded = model["metadata"]["data"]["notebook"]
    original = path / "original" / "notebook.ipynb"
    assert recorded["sha256"] == hashlib.sha256(original.read_bytes()).hexdigest()
    assert recorded["sha256"] == hashlib.sha256((PUMPKINS / NOTEBOOK).read_bytes()).hexdigest()


def test_served_raw_records_answer_as_her_executed_notebook(adopted, tmp_path):
    path, env, _ = adopted
    expected = her_answers(tmp_path / "hers")
    spec, fields = record_fields(path)
    assert not set(fields.values()) & set(SOURCES)
    raw = pd.read_csv(PUMPKINS / CSV)

    def plain(value):
        value = value.item() if hasattr(value, "item") else value
        return None if isinstance(value, float) and math.isnan(value) else value

    with bentoml_serve(nbprod_bento(path, env), path, env, timeout=180) as client:
        for index, price in expected.items():
            record = {name: plain(raw.loc[index, h]) for name, h in fields.items()}
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            assert resp.json()["prediction"] == pytest.approx(price, rel=1e-6, abs=1e-9), index
        # a record carrying a column her target is made from is refused, naming it
        record = {name: plain(raw.loc[next(iter(expected)), h]) for name, h in fields.items()}
        resp = client.post("/predict", json={"record": {**record, "low_price": 1.0}})
        assert resp.status_code == 400 and "low_price" in resp.text
    assert len(expected) == 83
