"""Dates and free text against a real `bentoml serve`: a ticket model with a ``datetime``
and a ``text`` feature, built by nbprod's default preprocessing and registered through the
toolkit's registry, answers ISO dates and text as it evaluated them, refuses a date that is
not ISO or a text over its bound with a 400 naming the field, and gauges the drift of both
(the dates by day, the texts by length and by their hashed words) on its live window."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import features, split, target
from nbprod.data.schema import derive_feature_schema, reference_statistics
from nbprod.data.validation import validate
from nbprod.model.modeling import build_model
from nbprod.registry.store import register_model
from projectkit import SERVED

from .conftest import bentoml_serve

UPDATE_EVERY = 40
TABLE = {
    "target": "escalated", "positive": "yes", "record": "Ticket",
    "columns": {
        "opened": {"kind": "datetime", "min": "2020-01-01", "max": "2030-12-31"},
        "body": {"kind": "text", "max_length": 300, "nullable": True},
        "priority": {"kind": "integer", "min": 1, "max": 5},
        "escalated": {"kind": "categorical", "categories": ["no", "yes"]},
    },
}
ANGRY = ["refund", "broken", "cancel", "furious", "unacceptable"]
CALM = ["thanks", "question", "how", "invoice", "address", "password", "please"]


def tickets(n: int, seed: int, start: str = "2023-01-01", words=(4, 10)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    angry = rng.random(n) < 0.3
    opened = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")
    late = opened.month >= 10  # the last quarter's tickets escalate more
    bodies = [" ".join(rng.choice(CALM + ANGRY if a else CALM, rng.integers(*words)))
              for a in angry]
    escalated = rng.random(n) < np.where(angry, 0.85, 0.05) + np.where(late, 0.1, 0.0)
    return pd.DataFrame({"opened": [t.isoformat() for t in opened], "body": bodies,
                         "priority": rng.integers(1, 6, n),
                         "escalated": np.where(escalated, "yes", "no")})


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("free-kinds")
    table = ColumnTable.from_dict(TABLE, source="tickets.yaml")
    df = validate(tickets(600, 0), table).reset_index(drop=True)
    train, test = split(df, table, 0.25, 0)
    schema = derive_feature_schema(train, table)
    model = build_model(schema, "logistic_regression", {}, seed=0)
    model.fit(features(train, table), target(train, table))
    name = "tickets"
    tag = register_model(name, model, {"feature_schema": schema.to_dict(),
                                       "reference_statistics": reference_statistics(train, schema)})
    home = tmp / "home"
    shutil.copytree(Path(os.environ["BENTOML_HOME"]) / "models" / name, home / "models" / name)
    env = dict(os.environ, BENTOML_HOME=str(home), NBPROD_MODEL_TAG=tag,
               NBPROD_PREDICTION_LOG_DIR=str(tmp / "log"),
               NBPROD_DRIFT_UPDATE_EVERY=str(UPDATE_EVERY), NBPROD_DRIFT_WINDOW=str(UPDATE_EVERY),
               NBPROD_METRICS_CACHE="0.001")
    (tmp / "cwd").mkdir()
    with bentoml_serve("nbprod.serving.service:ModelService", tmp / "cwd", env) as client:
        yield client, model, table, test


def rows(frame: pd.DataFrame) -> list[dict]:
    return frame[["opened", "body", "priority"]].astype(object).to_dict("records")


def test_dates_and_text_are_answered_as_evaluated(served):
    client, model, table, test = served
    resp = client.post("/predict_batch", json={"tickets": rows(test)})
    assert resp.status_code == 200, resp.text
    expected = model.predict_proba(features(test, table))[:, 1]
    got = [a["probability"] for a in resp.json()]
    assert np.allclose(got, expected, atol=SERVED)
    # the same instant with a zone, and a blank text, are answered too
    one = {"opened": "2023-11-02T10:00:00+01:00", "body": None, "priority": 2}
    same = {**one, "opened": "2023-11-02T09:00:00", "body": ""}
    answers = [client.post("/predict", json={"ticket": r}) for r in (one, same)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert answers[0].json()["probability"] == pytest.approx(answers[1].json()["probability"])


@pytest.mark.parametrize("field, value", [
    ("opened", "11/02/2023"), ("opened", "soon"), ("opened", 20231102),
    ("opened", "2031-01-01"), ("opened", "2019-12-31T23:00:00"),
    ("body", "x" * 301), ("body", 42),
])
def test_a_bad_date_or_text_is_a_400_naming_the_field(served, field, value):
    client, *_ = served
    record = {"opened": "2023-11-02", "body": "thanks", "priority": 2, field: value}
    resp = client.post("/predict", json={"ticket": record})
    assert resp.status_code == 400, resp.text
    locs = [d["loc"] for d in resp.json()["detail"]]
    assert locs and all(loc[:2] == ["ticket", field] for loc in locs), locs
    if str(value)[:2] in ("20", "19") and len(str(value)) > 8:  # an ISO date out of range
        assert "from 2020-01-01 to 2030-12-31" in resp.text, resp.text


def drift(client, batch: list[dict]) -> dict[str, float]:
    def updates() -> float:
        text = client.get("/metrics").text
        found = re.findall(r"^nbprod_drift_updates_total\{[^}]*\} (\S+)$", text, re.M)
        return sum(map(float, found))

    before = updates()
    resp = client.post("/predict_batch", json={"tickets": batch})
    assert resp.status_code == 200, resp.text
    deadline = time.monotonic() + 30
    while updates() <= before:
        assert time.monotonic() < deadline, "the drift gauges were not updated"
        time.sleep(0.2)
    text = client.get("/metrics").text
    return {f"{m.group(1)}:{m.group(2)}": float(m.group(3)) for m in re.finditer(
        r'^nbprod_drift_(psi|unseen_tokens|token_overlap)\{[^}]*feature="(\w+)"[^}]*\} (\S+)$',
        text, re.M)}


def test_dates_drift_by_day_and_texts_by_length_and_words(served):
    client, *_ = served
    same = drift(client, rows(tickets(UPDATE_EVERY, 5)))
    later = drift(client, rows(tickets(UPDATE_EVERY, 5, start="2027-01-01")))
    longer = drift(client, rows(tickets(UPDATE_EVERY, 5, words=(18, 26))))
    assert later["psi:opened"] > 0.2 and later["psi:opened"] > same["psi:opened"]
    assert longer["psi:body"] > 0.2 and longer["psi:body"] > same["psi:body"]
    assert later["psi:body"] < 0.2 and longer["psi:opened"] < 0.2
    # words spelt backwards: other words of the same lengths, unseen in training
    backwards = tickets(UPDATE_EVERY, 5)
    backwards["body"] = [" ".join(w[::-1] for w in t.split()) for t in backwards["body"]]
    words = drift(client, rows(backwards))
    assert same["unseen_tokens:body"] < 0.05 and same["token_overlap:body"] > 0.8
    assert words["unseen_tokens:body"] > 0.5 and words["token_overlap:body"] < 0.5
    assert "unseen_tokens:opened" not in words
