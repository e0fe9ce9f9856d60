"""A multiclass notebook of hers (three cultivars of wine, a scikit-learn pipeline) adopted
end to end: `nbprod new --notebook` -> `ploomber build` (the smoke env) -> `nbprod bento` ->
a real `bentoml serve`; her held-out raw rows POSTed as records answer her executed
notebook's labels, and its probabilities within 1e-6."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from adoptkit import adopted_build, her_executed_answers, nbprod_bento, record_fields
from projectkit import bentoml_serve

pytestmark = pytest.mark.pipeline

WINE = Path(__file__).parent / "fixtures" / "wine_notebook"
#: appended to a copy of her notebook: her model's labels and probabilities by row
DUMP = ("import json\n"
        "print(json.dumps({int(i): [label, dict(zip(clf.classes_, p.tolist()))] for i, label, p "
        "in zip(X_test.index, clf.predict(X_test), clf.predict_proba(X_test))}))")


def her_answers(folder: Path) -> dict[int, list]:
    shutil.copytree(WINE, folder)
    return {int(k): v for k, v in her_executed_answers(folder / "wine.ipynb", DUMP).items()}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    path = tmp_path_factory.mktemp("adopt-wine") / "wine_hers"
    env, out = adopted_build(path, "--notebook", str(WINE / "wine.ipynb"), "--data",
                             str(WINE / "data" / "wine.csv"))
    return path, env, out


def test_the_command_says_it_is_a_multiclass_model(adopted):
    path, _, out = adopted
    assert "model     clf (sklearn.pipeline.Pipeline), target cultivar" in out
    assert "kind      multiclass model of cultivar" in out
    assert "classes   cultivar 1, cultivar 2, cultivar 3" in out
    metrics = json.loads((path / "products-smoke/model/metrics.json").read_text())
    assert metrics["accuracy"] > 0.9
    registration = json.loads((path / "products/model/registration.json").read_text())
    assert registration["promoted"] and "macro_f1" in registration["reason"]


def test_served_raw_records_answer_as_her_executed_notebook(adopted, tmp_path):
    path, env, _ = adopted
    expected = her_answers(tmp_path / "hers")
    _, fields = record_fields(path)
    raw = pd.read_csv(WINE / "data" / "wine.csv")
    with bentoml_serve(nbprod_bento(path, env), path, env, timeout=180) as client:
        for index, (label, proba) in expected.items():
            record = {name: raw.loc[index, h].item() for name, h in fields.items()}
            resp = client.post("/predict", json={"record": record})
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["label"] == label, index
            assert body["probabilities"] == pytest.approx(proba, rel=1e-6, abs=1e-12), index
    assert len(expected) == 54
