"""A multiclass and a regression data set end to end: `nbprod new` infers the kind and says
why -> `ploomber build` (the smoke env) -> the evaluation, the gate and batch scoring of
that kind -> a second build judged against production in the metrics' own direction ->
`nbprod models list` and `nbprod bento`.

One project per data set, built once and shared by the tests of that data set.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from datasets import KIND_DATASETS, DataSet

from nbprod.data.model_kinds import prediction_columns
from nbprod.model.metrics import BY_KIND, DIRECTIONS
from projectkit import BIN, SERVED, bentoml_serve, generated_env

pytestmark = pytest.mark.pipeline


@dataclass
class Built:
    ds: DataSet
    kind: str
    metric: str
    path: Path
    home: Path
    spec: dict
    new_output: str

    def env(self) -> dict[str, str]:
        return generated_env(self.path, self.home)

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=self.path, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def product(self, rel: str) -> Path:
        return self.path / "products-smoke" / rel

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.spec["columns"][self.spec["target"]].get("categories", [])]


@pytest.fixture(scope="module", params=sorted(KIND_DATASETS))
def built(request, tmp_path_factory) -> Built:
    ds, kind, metric = KIND_DATASETS[request.param]
    folder = tmp_path_factory.mktemp(f"kind-{ds.name}")
    data = ds.write(folder)
    result = subprocess.run([str(BIN / "nbprod"), "new", str(folder / ds.name), "--data",
                             str(data), "--target", ds.target], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    path = folder / ds.name
    spec = yaml.safe_load((path / "columns.yaml").read_text())
    out = Built(ds, kind, metric, path, folder / "bentoml-home", spec, result.stdout)
    build = out.run("ploomber", "build")
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return out


def test_nbprod_new_infers_the_kind_and_says_why(built):
    assert built.spec["kind"] == built.kind and "positive" not in built.spec
    reason = "3 values" if built.kind == "multiclass" else "numbers with 214 distinct values"
    assert re.search(rf"kind +{built.kind} model of \w+ \(inferred: {reason}", built.new_output), \
        built.new_output
    env = yaml.safe_load((built.path / "env.yaml").read_text())
    assert env["gate"]["metric"] == built.metric
    assert set(env["gate"]["guards"]) <= set(BY_KIND[built.kind])
    assert env["estimator"] == ("logistic_regression" if built.kind == "multiclass" else "ridge")


def test_the_evaluation_has_the_metrics_and_columns_of_its_kind(built):
    metrics = json.loads(built.product("model/metrics.json").read_text())
    assert set(BY_KIND[built.kind]) <= set(metrics), sorted(metrics)
    assert "roc_auc" not in metrics
    target = built.spec["target"]
    frame = pd.read_parquet(built.product("model/test_predictions.parquet"))
    assert list(frame.columns) == ["row", target, *prediction_columns(built.kind, built.classes)]
    assert len(frame) == metrics["n"]
    if built.kind == "multiclass":
        assert built.classes == ["barbera", "barolo", "grignolino"]
        assert metrics["accuracy"] > 0.8 and set(metrics["recall"]) == set(built.classes)
        assert (frame["label"] == frame[target]).mean() == pytest.approx(metrics["accuracy"])
    else:
        assert metrics["r2"] > 0.2 and metrics["rmse"] > metrics["mae"] > 0
        assert metrics["residual_quantiles"]["q05"] < 0 < metrics["residual_quantiles"]["q95"]
    assert built.product("reports/evaluation.png").stat().st_size > 10_000


def test_batch_scoring_writes_the_columns_of_its_kind(built):
    scores = pd.read_parquet(built.product("predictions/scores.parquet"))
    assert list(scores.columns) == ["row", *prediction_columns(built.kind, built.classes), "model"]
    assert len(scores) == len(built.ds.frame)
    if built.kind == "multiclass":
        assert set(scores["label"]) <= set(built.classes)
    else:
        assert scores["prediction"].between(0, 500).mean() > 0.95


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
    """The class and each class's probability in the schema's order, or the value: equal to
    the evaluate step's predictions for the same rows."""
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
            # the probabilities come in the schema's order of classes, as the JSON says it
            ordered = json.loads(resp.text, object_pairs_hook=list)
            assert [k for k, _ in dict(ordered)["probabilities"]] == list(built.classes)
            for c in built.classes:
                assert abs(_probability(answer, c) - want[f"probability:{c}"]) <= SERVED
        else:
            assert answer["prediction"] == pytest.approx(want["prediction"], rel=SERVED, abs=SERVED)


def _probability(answer: dict, name: str) -> float:
    probabilities = answer.get("probabilities", answer)
    return float(probabilities[name] if name in probabilities else answer[f"probability:{name}"])


def test_the_gate_compares_the_kinds_metrics_in_their_direction(built):
    first = json.loads(built.product("model/registration.json").read_text())
    assert first["promoted"], first["reason"]
    assert f"primary {built.metric}: candidate {built.metric}=" in first["decision"]
    schema = json.loads(built.product("model/feature_schema.json").read_text())
    assert schema["model_kind"] == built.kind and schema["classes"] == built.classes
    # a second build with another split seed (other test rows) is judged against the
    # first, re-scored on the second's rows
    again = built.run("ploomber", "build", "--force", "--env--split_seed", "7")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    second = json.loads(built.product("model/registration.json").read_text())
    assert second["tag"] != first["tag"]
    assert "production re-scored on the candidate's test set" in second["reason"], second["reason"]
    lines = second["decision"].splitlines()
    for name in (built.metric, *yaml.safe_load((built.path / "env.smoke.yaml").read_text())
                 ["gate"]["guards"]):
        line = next(x for x in lines if re.match(rf"\s+(primary|guard) {name}:", x))
        assert f"vs production {name}=" in line or f"worse than production {name}=" in line, line
        direction = "higher is better" if DIRECTIONS[name] else "lower is better"
        assert direction in line, line
        # candidate, production and the constant model side by side
        assert re.search(rf"candidate {name}=\S+ vs production {name}=\S+ vs baseline "
                         rf"{name}=\S+ \(", line), line
    primary = next(x for x in lines if f"primary {built.metric}:" in x)
    assert "beats the baseline by " in primary and "than production by " in primary \
        or "as good as production" in primary, primary
    # the register report's reason is what `nbprod models history` shows for the event
    history = built.run("nbprod", "models", "history", "--name", built.ds.name)
    assert history.returncode == 0, history.stderr
    event = "promoted" if second["promoted"] else "not_promoted"
    assert any(second["tag"] in x and f" {event} " in x and x.endswith(second["reason"])
               for x in history.stdout.splitlines()), history.stdout
    listed = built.run("nbprod", "models", "list", "--name", built.ds.name)
    assert listed.returncode == 0, listed.stderr
    header = next(x for x in listed.stdout.splitlines() if "version" in x)
    arrow = "↑" if DIRECTIONS[built.metric] else "↓"
    assert f"{built.metric} {arrow}" in header and "roc_auc" not in header


def test_nbprod_check_and_the_bento(built):
    check = built.run("nbprod", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    (built.path / "products/model").mkdir(parents=True, exist_ok=True)
    registration = built.product("model/registration.json").read_text()
    (built.path / "products/model/registration.json").write_text(registration)
    bento = built.run("nbprod", "bento")
    assert bento.returncode == 0, bento.stderr
    assert bento.stdout.strip().splitlines()[-1].startswith(f"{built.ds.name}:")
