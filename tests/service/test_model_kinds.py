"""Multiclass and regression models against a real `bentoml serve`: the answer of each kind,
parity with the evaluation's predictions, /feedback and its live scores, prediction drift.

The models are trained here on scikit-learn's own data sets (iris: three classes; diabetes:
a number) and registered through the toolkit's registry, as the pipeline's register step
does: a feature schema of the kind, the training reference, and the distribution of the
held-out predictions (from an evaluation frame in the evaluate step's columns).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nbprod.data.drift import prediction_reference
from nbprod.data.model_kinds import MULTICLASS, REGRESSION, prediction_columns
from nbprod.data.schema import Feature, FeatureSchema, reference_statistics
from nbprod.registry.store import register_model
from nbprod.serving.answers import INTERVAL_LEVEL
from projectkit import BIN, SERVED

from .conftest import bentoml_serve

#: Not in sorted order: the answer follows the schema's order, not the model's classes_.
CLASSES = ["virginica", "setosa", "versicolor"]
UPDATE_EVERY = 30


class Served:
    """A model trained and registered here, its held-out rows and evaluation frame, served."""

    def __init__(self, kind, model, schema, test, predictions, client):
        self.kind, self.model, self.schema, self.test = kind, model, schema, test
        self.predictions, self.client = predictions, client
        self.env = client.env

    def rows(self, n: int | None = None) -> list[dict]:
        return self.test[self.schema.names].head(n).astype(object).to_dict("records")


def split(frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    test = frame.sample(frac=0.3, random_state=seed)
    return frame.drop(test.index), test


def evaluation_frame(kind: str, model, test: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    """The evaluate step's predictions frame: row, target, then the columns of the kind."""
    x = test[schema.names]
    frame = pd.DataFrame({"row": test.index, schema.target: test[schema.target]})
    columns = prediction_columns(kind, schema.classes)
    if kind == MULTICLASS:
        proba = model.predict_proba(x)
        order = [list(model.classes_).index(c) for c in schema.classes]
        frame[columns[0]] = model.predict(x)
        for name, k in zip(columns[1:], order, strict=True):
            frame[name] = proba[:, k]
    else:
        frame[columns[0]] = model.predict(x)
    return frame


def register(kind, name, frame, target, model, record, classes, tmp_path) -> tuple:
    features = [c for c in frame.columns if c != target]
    train, test = split(frame)
    model.fit(train[features], train[target])
    schema = FeatureSchema(
        [Feature(c, "number", min=None, max=None, example=float(train[c].iloc[0]))
         for c in features], target=target, classes=classes, record=record, model_kind=kind)
    predictions = evaluation_frame(kind, model, test, schema)
    path = tmp_path / f"{name}-test_predictions.parquet"
    predictions.to_parquet(path)
    tag = register_model(name, model, {
        "feature_schema": schema.to_dict(),
        "reference_statistics": reference_statistics(train, schema),
        "prediction_reference": prediction_reference(path),
    })
    return tag, schema, test, predictions.set_index("row")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Both models registered in this process's store and each served by `bentoml serve`."""
    tmp = tmp_path_factory.mktemp("model-kinds")
    iris = load_iris(as_frame=True)
    flowers = iris.data.rename(columns=lambda c: re.sub(r"\W+", "_", c.replace(" (cm)", "")))
    flowers["species"] = iris.target.map(dict(enumerate(iris.target_names))).astype(str)
    diabetes = load_diabetes(as_frame=True).frame.rename(columns={"target": "progression"})
    specs = {
        MULTICLASS: ("flowers", flowers, "species",
                     make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                     "Flower", CLASSES),
        REGRESSION: ("progress", diabetes, "progression",
                     make_pipeline(StandardScaler(), BayesianRidge()), "Patient", []),
    }
    out = {}
    for kind, (name, frame, target, model, record, classes) in specs.items():
        tag, schema, test, predictions = register(kind, name, frame, target, model, record,
                                                  classes, tmp)
        # a store of its own per server: servers sharing a BENTOML_HOME share (and clear)
        # one Prometheus multiprocess folder, so each would show the other's metrics
        home = tmp / f"{name}-home"
        shutil.copytree(Path(os.environ["BENTOML_HOME"]) / "models" / name,
                        home / "models" / name)
        env = dict(os.environ, BENTOML_HOME=str(home), NBPROD_MODEL_TAG=tag,
                   NBPROD_PREDICTION_LOG_DIR=str(tmp / f"{name}-log"),
                   NBPROD_DRIFT_UPDATE_EVERY=str(UPDATE_EVERY),
                   NBPROD_DRIFT_WINDOW=str(UPDATE_EVERY), NBPROD_METRICS_CACHE="0.001")
        cwd = tmp / name
        cwd.mkdir()
        out[kind] = (tag, schema, test, predictions, model, env, cwd)
    with bentoml_serve("nbprod.serving.service:ModelService", out[MULTICLASS][6], out[MULTICLASS][5]) \
            as multiclass, \
            bentoml_serve("nbprod.serving.service:ModelService", out[REGRESSION][6], out[REGRESSION][5]) \
            as regression:
        multiclass.env, regression.env = out[MULTICLASS][5], out[REGRESSION][5]
        yield {kind: Served(kind, o[4], o[1], o[2], o[3], client)
               for (kind, o), client in zip(out.items(), (multiclass, regression), strict=True)}


def predict(served: Served, rows: list[dict]) -> list[dict]:
    field = {MULTICLASS: "flowers", REGRESSION: "patients"}[served.kind]
    resp = served.client.post("/predict_batch", json={field: rows})
    assert resp.status_code == 200, resp.text
    return resp.json()


def scrape(client) -> dict[str, float]:
    samples = {}
    for line in client.get("/metrics").text.splitlines():
        m = re.match(r'(nbprod_\w+)\{[^}]*\} (\S+)$', line)
        if m:
            samples[m.group(1)] = float(m.group(2))
    return samples


def test_a_multiclass_answer_is_the_class_and_each_class_probability_as_evaluated(served):
    s = served[MULTICLASS]
    answers = predict(s, s.rows())
    assert len(answers) == len(s.test)
    for answer, row in zip(answers, s.test.index, strict=True):
        expected = s.predictions.loc[row]
        assert answer["label"] == expected["label"]
        assert list(answer["probabilities"]) == CLASSES  # named by class, the schema's order
        for c in CLASSES:
            assert answer["probabilities"][c] == pytest.approx(expected[f"probability:{c}"],
                                                               abs=SERVED)
        assert answer["model_version"].startswith("flowers:") and answer["request_id"]
    one = s.client.post("/predict", json={"flower": s.rows(1)[0]})
    assert one.status_code == 200, one.text
    assert one.json()["label"] == s.predictions.iloc[0]["label"]


def test_a_regression_answer_is_the_value_as_evaluated_with_its_interval(served):
    s = served[REGRESSION]
    answers = predict(s, s.rows())
    _, std = s.model.predict(s.test[s.schema.names], return_std=True)
    half = norm.ppf(0.5 + INTERVAL_LEVEL / 2) * std
    for answer, row, h in zip(answers, s.test.index, half, strict=True):
        value = answer["prediction"]
        assert value == pytest.approx(s.predictions.loc[row, "prediction"], abs=1e-9)
        interval = answer["interval"]
        assert interval["level"] == INTERVAL_LEVEL
        assert interval["lower"] == pytest.approx(value - h, abs=1e-9)
        assert interval["upper"] == pytest.approx(value + h, abs=1e-9)
        assert interval["lower"] < value < interval["upper"]


def test_the_openapi_page_documents_the_answer_of_each_kind(served):
    multi = served[MULTICLASS].client.get("/docs.json").json()["components"]["schemas"]
    assert list(multi["ClassProbabilities"]["properties"]) == CLASSES
    assert set(multi["Prediction"]["properties"]) >= {"label", "probabilities", "model_version"}
    regression = served[REGRESSION].client.get("/docs.json").json()["components"]["schemas"]
    assert set(regression["Prediction"]["properties"]) >= {"prediction", "interval"}
    assert set(regression["Interval"]["properties"]) == {"lower", "upper", "level"}


def test_feedback_moves_multiclass_accuracy_and_macro_f1(served):
    s = served[MULTICLASS]
    rows, truth = s.rows(20), s.test["species"].head(20).tolist()
    truth[:3] = ["setosa", "setosa", "setosa"]  # some wrong answers, so the scores are not 1
    answers = predict(s, rows)
    labels = [{"request_id": a["request_id"], "species": y}
              for a, y in zip(answers, truth, strict=True)]
    resp = s.client.post("/feedback", json={"labels": labels})
    assert resp.status_code == 200, resp.text
    predicted = [a["label"] for a in answers]
    expected = {"accuracy": float(np.mean(np.array(predicted) == np.array(truth))),
                "macro_f1": f1_score(truth, predicted, average="macro", zero_division=0)}
    body, metrics = resp.json(), scrape(s.client)
    assert body["labelled"] >= 20 and "roc_auc" not in body
    if body["labelled"] == 20:  # the first feedback of this server: exactly these labels
        for name, value in expected.items():
            assert body[name] == pytest.approx(value, abs=1e-12)
    for name in expected:
        assert metrics.get(f"nbprod_live_{name}") == pytest.approx(body[name], abs=1e-12), \
            s.client.get("/metrics").text[-3000:]


def test_feedback_moves_regression_rmse_and_mae(served):
    s = served[REGRESSION]
    rows, truth = s.rows(25), s.test["progression"].head(25).tolist()
    answers = predict(s, rows)
    labels = [{"request_id": a["request_id"], "progression": y}
              for a, y in zip(answers, truth, strict=True)]
    resp = s.client.post("/feedback", json={"labels": labels})
    assert resp.status_code == 200, resp.text
    errors = np.array([a["prediction"] for a in answers]) - np.array(truth)
    body, metrics = resp.json(), scrape(s.client)
    assert body["labelled"] == 25 and "accuracy" not in body
    assert body["rmse"] == pytest.approx(float(np.sqrt(np.mean(errors ** 2))), abs=1e-9)
    assert body["mae"] == pytest.approx(float(np.mean(np.abs(errors))), abs=1e-9)
    assert metrics["nbprod_live_rmse"] == pytest.approx(body["rmse"], abs=1e-9)
    assert metrics["nbprod_live_mae"] == pytest.approx(body["mae"], abs=1e-9)


def test_bad_feedback_and_bad_records_are_a_4xx_naming_the_entry(served):
    multi, regression = served[MULTICLASS], served[REGRESSION]
    rid = predict(multi, multi.rows(1))[0]["request_id"]
    rrid = predict(regression, regression.rows(1))[0]["request_id"]
    cases = [
        (multi, "/feedback", {"labels": [{"request_id": rid, "species": "rose"}]},
         ["labels", 0, "species"]),
        (multi, "/feedback", {"labels": [{"request_id": rid, "species": 1}]}, ["labels", 0, "species"]),
        (regression, "/feedback", {"labels": [{"request_id": rrid, "progression": 1.0},
                                              {"request_id": rrid, "progression": "high"}]},
         ["labels", 1, "progression"]),
        (regression, "/feedback", {"labels": [{"request_id": rrid, "progression": True}]},
         ["labels", 0, "progression"]),
        (multi, "/predict", {"flower": {**multi.rows(1)[0], "petal_width": "wide"}},
         ["flower", "petal_width"]),
        (regression, "/predict", {"patient": {"age": 0.1}}, ["patient", "bmi"]),
    ]
    for s, path, body, where in cases:
        resp = s.client.post(path, json=body)
        assert 400 <= resp.status_code < 500, (path, body, resp.status_code, resp.text)
        places = [p["loc"] for p in resp.json()["detail"]]
        assert where in places, (path, body, resp.text)  # the entry and its field
    # nothing was recorded: the ids can still be labelled
    ok = regression.client.post("/feedback",
                                json={"labels": [{"request_id": rrid, "progression": 100}]})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("kind", [MULTICLASS, REGRESSION])
def test_prediction_drift_is_gauged_against_the_evaluation(served, kind):
    s = served[kind]

    def gauges_after(rows):
        before = scrape(s.client).get("nbprod_drift_updates_total", 0.0)
        predict(s, rows)
        deadline = time.monotonic() + 30
        while (metrics := scrape(s.client)).get("nbprod_drift_updates_total", 0.0) <= before:
            assert time.monotonic() < deadline, "the drift gauges were not updated"
            time.sleep(0.2)
        return metrics["nbprod_prediction_drift_psi"], metrics["nbprod_prediction_drift_js_distance"]

    held_out = s.rows(UPDATE_EVERY)
    psi_same, js_same = gauges_after(held_out)
    # one kind of row only: the predictions pile into one class or one range
    first = s.test[s.schema.names].iloc[[0]]
    same_row = pd.concat([first] * UPDATE_EVERY).astype(object).to_dict("records")
    psi_shift, js_shift = gauges_after(same_row)
    assert js_shift > js_same and psi_shift > psi_same
    assert psi_shift > 0.2


def test_nbprod_drift_scores_the_logged_predictions_of_each_kind(served):
    for kind, s in served.items():
        predict(s, s.rows())
        logs = Path(s.env["NBPROD_PREDICTION_LOG_DIR"])
        deadline = time.monotonic() + 20
        while not any(p.stat().st_size for p in logs.glob("*/*.jsonl")):  # the model's folder
            assert time.monotonic() < deadline, "nothing logged"
            time.sleep(0.2)
        time.sleep(0.5)  # the monitor's thread writes every 0.2 s
        result = subprocess.run(
            [str(BIN / "nbprod"), "drift", str(logs), "--model", s.env["NBPROD_MODEL_TAG"],
             "--output", str(logs.parent / f"{kind}.html"), "--threshold", "100"],
            env=s.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (kind, result.stdout + result.stderr)
        line = re.search(r"\(predictions\)\s+psi=\s*([\d.]+)", result.stdout)
        assert line, (kind, result.stdout)
        assert float(line.group(1)) >= 0.0, (kind, result.stdout)
