"""Monitoring against a real `bentoml serve`: drift gauges, live accuracy, the prediction log.

One server, with a drift window of exactly the held-out set (120 rows of the smoke build),
recomputed every 120 predictions, a feedback window of 50 labels and a prediction log that
rotates every ~40 kB. Each test sends its traffic in one /predict_batch call where the drift
window matters, so the window holds exactly that traffic whatever ran before.
"""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from projectkit import BIN, FEATURES, wait_until

from .conftest import bentoml_serve

WINDOW = 120
FEEDBACK_WINDOW = 50
MAX_BYTES = 40_000
THRESHOLD = 0.2


@pytest.fixture(scope="module")
def monitored(project, tmp_path_factory):
    logs = tmp_path_factory.mktemp("prediction-logs")
    env = project.env(
        NBPROD_DRIFT_WINDOW=str(WINDOW), NBPROD_DRIFT_UPDATE_EVERY=str(WINDOW),
        NBPROD_FEEDBACK_WINDOW=str(FEEDBACK_WINDOW), NBPROD_PREDICTION_LOG_DIR=str(logs),
        NBPROD_PREDICTION_LOG_MAX_BYTES=str(MAX_BYTES), NBPROD_PREDICTION_LOG_BACKUPS="1000",
        NBPROD_METRICS_CACHE="0.001",  # each scrape fresh: these tests compare two scrapes
    )
    with bentoml_serve("nbprod.serving.service:ModelService", project.path, env) as client:
        client.logs = logs / project.tag.partition(":")[0]  # type: ignore[attr-defined]  # its own
        client.answered = {}  # type: ignore[attr-defined]  # request_id -> prediction
        yield client


def predict(client, rows: list[dict]) -> list[dict]:
    resp = client.post("/predict_batch", json={"customers": rows})
    assert resp.status_code == 200, resp.text
    answers = resp.json()
    client.answered.update({a["request_id"]: a for a in answers})
    return answers


def scrape(client) -> dict[tuple[str, str], float]:
    """The nbprod_* samples of /metrics: (name, feature label or "") -> value."""
    samples = {}
    for line in client.get("/metrics").text.splitlines():
        m = re.match(r'(nbprod_\w+)\{([^}]*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            key = labels.get("feature") or labels.get("le") or ""
            samples[(m.group(1), key)] = float(m.group(3))
    return samples


def drift_after(client, rows: list[dict]) -> dict[str, float]:
    """Send ``rows`` (one window) and wait for the drift update; per-feature PSI and JS."""
    before = scrape(client).get(("nbprod_drift_updates_total", ""), 0.0)
    predict(client, rows)
    def updated() -> dict:
        metrics = scrape(client)
        return metrics if metrics.get(("nbprod_drift_updates_total", ""), 0.0) > before else {}

    metrics = wait_until(updated, 30, "the drift gauges were not updated", interval=0.2)
    assert metrics[("nbprod_drift_window_rows", "")] == WINDOW
    return {
        **{f"psi:{k[1]}": v for k, v in metrics.items() if k[0] == "nbprod_drift_psi"},
        **{f"js:{k[1]}": v for k, v in metrics.items() if k[0] == "nbprod_drift_js_distance"},
        "drifted": metrics[("nbprod_drift_features_drifted", "")],
    }


def test_held_out_traffic_shows_no_drift_and_a_shifted_feature_does(project, monitored):
    rows, _ = project.test_rows()
    assert len(rows) == WINDOW
    clean = drift_after(monitored, rows)
    assert {f"psi:{f}" for f in FEATURES} <= set(clean) and {f"js:{f}" for f in FEATURES} <= set(clean)
    assert max(clean[f"psi:{f}"] for f in FEATURES) < THRESHOLD, clean
    assert clean["drifted"] == 0

    shifted = [{**r, "monthly_charges": round(r["monthly_charges"] * 1.3, 2)} for r in rows]
    drifted = drift_after(monitored, shifted)
    assert drifted["psi:monthly_charges"] > THRESHOLD
    assert drifted["js:monthly_charges"] > clean["js:monthly_charges"]
    others = {f: drifted[f"psi:{f}"] for f in FEATURES if f != "monthly_charges"}
    assert max(others.values()) < THRESHOLD, others
    assert drifted["drifted"] == 1


def test_probabilities_histogram_counts_every_prediction(project, monitored):
    rows, _ = project.test_rows()
    before = scrape(monitored)
    answers = predict(monitored, rows[:30])
    after = scrape(monitored)
    for le in ("0.5", "+Inf"):
        key = ("nbprod_prediction_probability_bucket", le)
        expected = sum(a["probability"] <= float(le) for a in answers)
        assert after[key] - before.get(key, 0.0) == expected


def test_feedback_moves_live_accuracy_to_the_value_computed_by_hand(project, monitored):
    import pandas as pd

    rows, _ = project.test_rows()
    test = pd.read_parquet(project.smoke / "data/test.parquet")
    truth = (test["churn"] == "Yes").astype(int).tolist()[:FEEDBACK_WINDOW]
    answers = predict(monitored, rows[:FEEDBACK_WINDOW])
    proba = np.array([a["probability"] for a in answers])
    predicted = np.array([int(a["label"] == "Yes") for a in answers])
    labels = [{"request_id": a["request_id"], "churn": y} for a, y in zip(answers, truth, strict=True)]
    resp = monitored.post("/feedback", json={"labels": labels})
    assert resp.status_code == 200, resp.text

    expected = {
        "accuracy": float(np.mean(predicted == np.array(truth))),
        "roc_auc": roc_auc_score(truth, proba),
        "calibration_gap": float(proba.mean() - np.mean(truth)),
    }
    body = resp.json()
    assert body["accepted"] == body["labelled"] == FEEDBACK_WINDOW
    metrics = scrape(monitored)
    for name, value in expected.items():
        assert body[name] == pytest.approx(value, abs=1e-12)
        assert metrics[(f"nbprod_live_{name}", "")] == pytest.approx(value, abs=1e-12)
    assert metrics[("nbprod_live_labelled_rows", "")] == FEEDBACK_WINDOW


def test_bad_feedback_is_a_4xx_naming_the_ids(project, monitored):
    rows, _ = project.test_rows()
    first, second, third = (a["request_id"] for a in predict(monitored, rows[:3]))
    ok = monitored.post("/feedback", json={"labels": [{"request_id": first, "churn": 1}]})
    assert ok.status_code == 200, ok.text

    cases = {
        "unknown": ([{"request_id": "no-such-id", "churn": 0}], ["no-such-id", "unknown"]),
        "labelled before": ([{"request_id": first, "churn": 0}], [first, "labelled already"]),
        "twice in one body": (
            [{"request_id": second, "churn": 0}, {"request_id": second, "churn": 1}],
            [second, "labelled already"],
        ),
        "not 0/1": ([{"request_id": third, "churn": 2}], [third, "0 or 1"]),
        "a string": ([{"request_id": third, "churn": "1"}], ['"churn"']),
        "no id": ([{"churn": 1}], ['"request_id"']),
        "empty": ([], ["labels"]),
    }
    for case, (labels, named) in cases.items():
        resp = monitored.post("/feedback", json={"labels": labels})
        assert 400 <= resp.status_code < 500, (case, resp.status_code, resp.text)
        assert isinstance(resp.json(), dict) and "error" in resp.json(), (case, resp.text)
        for word in named:
            assert word in resp.text, (case, resp.text)
    # nothing of a refused body was recorded: `second` and `third` can still be labelled
    resp = monitored.post("/feedback", json={"labels": [{"request_id": second, "churn": 0},
                                                        {"request_id": third, "churn": 1}]})
    assert resp.status_code == 200, resp.text
    assert monitored.get("/readyz").status_code == 200


def log_records(logs) -> list[dict]:
    """The complete records of the log files now: a line still being written (no newline
    yet) is not a record yet, and a file rotated away between listing and reading is read
    under its new name at the next poll."""
    records = []
    for f in sorted(logs.glob("predictions*.jsonl*")):
        try:
            text = f.read_text()
        except FileNotFoundError:
            continue
        records += [json.loads(line) for line in text.splitlines(keepends=True)
                    if line.endswith("\n")]
    return records


def test_prediction_log_has_one_record_per_prediction_and_rotates(project, monitored, tmp_path):
    rows, _ = project.test_rows()
    predict(monitored, rows)
    one = monitored.post("/predict", json={"customer": rows[0]}).json()
    monitored.answered[one["request_id"]] = one
    wait_until(lambda: len(log_records(monitored.logs)) >= len(monitored.answered), 20,
               lambda: f"{len(log_records(monitored.logs))} records for {len(monitored.answered)}",
               interval=0.2)
    records = log_records(monitored.logs)
    assert len(records) == len(monitored.answered)
    by_id = {r["request_id"]: r for r in records}
    assert by_id.keys() == monitored.answered.keys()
    for rid, answer in monitored.answered.items():
        record = by_id[rid]
        assert record["probability"] == answer["probability"]
        assert record["label"] == answer["label"]
        assert record["model_version"] == project.tag
        assert list(record["inputs"]) == FEATURES
        assert record["timestamp"]
    assert by_id[one["request_id"]]["inputs"] == rows[0]
    # rotated by size: several files, none much over the limit
    files = sorted(monitored.logs.glob("predictions*.jsonl*"))
    assert len(files) > 1
    assert all(f.stat().st_size <= MAX_BYTES for f in files)


def nbprod_drift(project, data, out, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "nbprod"), "drift", str(data), "--model", project.tag,
         "--output", str(out), *args],
        cwd=project.path, env=project.env(), capture_output=True, text=True, timeout=120,
    )


def test_nbprod_drift_reads_the_prediction_log(project, monitored, tmp_path):
    rows, _ = project.test_rows()
    clean = {a["request_id"] for a in predict(monitored, rows)}
    shifted = [{**r, "monthly_charges": round(r["monthly_charges"] * 1.3, 2)} for r in rows]
    moved = {a["request_id"] for a in predict(monitored, shifted)}
    wait_until(lambda: (clean | moved) <= {r["request_id"] for r in log_records(monitored.logs)},
               20, "predictions missing from the log", interval=0.2)
    records = log_records(monitored.logs)
    for name, ids in (("clean", clean), ("shifted", moved)):
        lines = [json.dumps(r) for r in records if r["request_id"] in ids]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")

    ok = nbprod_drift(project, tmp_path / "clean.jsonl", tmp_path / "clean.html")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"\(predictions\)\s+psi=", ok.stdout), ok.stdout  # beside the inputs
    bad = nbprod_drift(project, tmp_path / "shifted.jsonl", tmp_path / "shifted.html")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "monthly_charges" in bad.stderr and (tmp_path / "shifted.html").stat().st_size > 0
    # the live log file itself, as written; the exit code follows --threshold
    (live,) = monitored.logs.glob("predictions*.jsonl")  # this server's own file
    loose = nbprod_drift(project, live, tmp_path / "live.html", "--threshold", "100", "--min-rows", "1")
    assert loose.returncode == 0, loose.stdout + loose.stderr
    strict = nbprod_drift(project, live, tmp_path / "live.html", "--threshold", "0", "--min-rows", "1")
    assert strict.returncode == 1, strict.stdout + strict.stderr
