"""The served answer of a multiclass and a regression project, through a real `bentoml serve`
of the bento `test_kinds_end_to_end.py` builds: the class and the probability of each class
(in the schema's order), or the predicted value, equal to the evaluate step's predictions.

They run with the ``built`` projects of `test_kinds_end_to_end.py` once imported there
(``from served_kinds import served, test_the_served_answer_has_the_form_of_its_kind``).
"""

from __future__ import annotations

import pandas as pd
import pytest
from service.conftest import bentoml_serve


@pytest.fixture(scope="module")
def served(built):
    # where `make run` leaves the registration, so `nbprod bento` finds the model
    (built.path / "products/model").mkdir(parents=True, exist_ok=True)
    (built.path / "products/model/registration.json").write_text(
        built.product("model/registration.json").read_text())
    bento = built.run("nbprod", "bento")
    assert bento.returncode == 0, bento.stderr
    with bentoml_serve(bento.stdout.strip().splitlines()[-1], built.path, built.env(),
                       timeout=180) as client:
        yield client


def test_the_served_answer_has_the_form_of_its_kind(served, built):
    test = pd.read_parquet(built.product("data/test.parquet"))
    expected = pd.read_parquet(built.product("model/test_predictions.parquet"))
    features = [c for c in built.spec["columns"] if c != built.spec["target"]]
    for i in range(5):
        record = {c: (v.item() if hasattr(v, "item") else v)  # each column keeps its dtype
                  for c, v in test[features].iloc[[i]].to_dict("records")[0].items()}
        resp = served.post("/predict", json={"record": record})
        assert resp.status_code == 200, resp.text
        answer, want = resp.json(), expected.iloc[i]
        if built.kind == "multiclass":
            assert answer["label"] == want["label"]
            text = resp.text
            assert [text.index(f'"{c}"') for c in built.classes] == sorted(
                text.index(f'"{c}"') for c in built.classes)
            for c in built.classes:
                assert abs(_probability(answer, c) - want[f"probability:{c}"]) < 1e-9
        else:
            assert abs(answer["prediction"] - want["prediction"]) < 1e-9


def _probability(answer: dict, name: str) -> float:
    probabilities = answer.get("probabilities", answer)
    return float(probabilities[name] if name in probabilities else answer[f"probability:{name}"])
