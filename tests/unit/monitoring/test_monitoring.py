"""The in-service monitor in-process: settings, statistics, feedback rules, log rotation, gauges."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from prometheus_client import REGISTRY
from sklearn.metrics import roc_auc_score

from nbprod.data.drift import DriftDetector
from nbprod.errors import ConfigError, FeedbackError
from nbprod.monitoring.config import MonitorConfig
from nbprod.monitoring.live_scores import live_scores
from nbprod.monitoring.monitor import Monitor, finite_or_none
from nbprod.monitoring.window_drift import WindowDrift
from projectkit import wait_until

ROWS = [{"plan": "a", "charge": 10.0}, {"plan": "b", "charge": 20.0}, {"plan": "a", "charge": 30.0}]


@pytest.fixture
def reference():
    return {
        "plan": {"type": "categorical", "frequencies": {"a": 0.5, "b": 0.5}},
        "charge": {"type": "numeric", "bin_edges": [0.0, 20.0, 40.0, 60.0],
                   "frequencies": [1 / 3, 1 / 3, 1 / 3]},
    }


def monitor(reference, tmp_path, version, **settings) -> Monitor:
    config = MonitorConfig(log_dir=tmp_path / "logs", **settings)
    return Monitor(version, reference, "Yes", config)


def test_config_from_env_reads_and_checks_the_variables(tmp_path):
    assert MonitorConfig.from_env({}).log_dir == MonitorConfig().log_dir
    config = MonitorConfig.from_env({
        "NBPROD_DRIFT_WINDOW": "500", "NBPROD_DRIFT_THRESHOLD": "0.1",
        "NBPROD_PREDICTION_LOG_DIR": str(tmp_path), "NBPROD_MONITORING": "on",
    })
    assert (config.window, config.threshold, config.log_dir, config.enabled) == (
        500, 0.1, tmp_path, True)
    assert MonitorConfig.from_env({"NBPROD_PREDICTION_LOG_DIR": ""}).log_dir is None
    assert MonitorConfig.from_env({"NBPROD_MONITORING": "0"}).enabled is False
    for var, value in (("NBPROD_DRIFT_WINDOW", "many"), ("NBPROD_FEEDBACK_MEMORY", "0"),
                       ("NBPROD_MONITORING", "maybe")):
        with pytest.raises(ConfigError, match=var):
            MonitorConfig.from_env({var: value})


def test_live_scores_match_sklearn():
    rng = np.random.default_rng(0)
    proba = rng.random(40)
    truth = (rng.random(40) < proba).astype(int)
    predicted = (proba >= 0.5).astype(int)
    scores = live_scores(list(zip(proba, predicted, truth, strict=True)))
    assert scores["accuracy"] == pytest.approx(np.mean(predicted == truth))
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(truth, proba))
    assert scores["calibration_gap"] == pytest.approx(proba.mean() - truth.mean())
    one_class = live_scores([(0.2, 0, 0), (0.7, 1, 0)])
    assert math.isnan(one_class["roc_auc"]) and one_class["accuracy"] == 0.5
    assert live_scores([])["labelled"] == 0 and finite_or_none(live_scores([])["accuracy"]) is None


def test_record_logs_one_line_per_prediction_and_returns_ids(reference, tmp_path):
    m = monitor(reference, tmp_path, "m:log")
    ids = m.record(ROWS, [0.1, 0.6, 0.9], ["No", "Yes", "Yes"])
    m.close()
    assert len(set(ids)) == 3
    lines = m.log.path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["request_id"] for r in records] == ids
    assert records[1] == {**records[1], "inputs": ROWS[1], "probability": 0.6, "label": "Yes",
                          "model_version": "m:log"}


def test_request_ids_are_unique_hex_and_differ_between_monitors(reference, tmp_path):
    first = monitor(reference, tmp_path, "m:ids")
    second = monitor(reference, tmp_path / "other", "m:ids")
    ids = first.request_ids(10_000)
    assert len(set(ids)) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids[:100])
    assert not set(ids[:100]) & set(second.request_ids(100))  # each monitor its own key
    first.close()
    second.close()


def test_the_monitor_thread_logs_without_being_asked_and_survives_a_bad_row(
        reference, tmp_path, caplog):
    m = monitor(reference, tmp_path, "m:thread", update_every=1)
    m.record([{"plan": "a"}], [0.5], ["Yes"])  # no "charge": the drift window cannot bin it
    (rid,) = m.record(ROWS[:1], [0.7], ["Yes"])
    log_file = m.log.path
    wait_until(lambda: log_file.exists() and rid in log_file.read_text(), 10,
               "the monitor's thread wrote nothing")
    m.flush()  # returns once the thread's current pass (which logs its failure) is over
    assert "monitoring failed" in caplog.text and "charge" in caplog.text
    (later,) = m.record(ROWS[1:2], [0.2], ["No"])
    m.close()
    assert later in log_file.read_text()
    updates = REGISTRY.get_sample_value("nbprod_drift_updates_total", {"model_version": "m:thread"})
    assert updates is not None and updates >= 1


def test_a_request_logs_the_backlog_itself_when_the_thread_is_behind(reference, tmp_path):
    class Stalled(Monitor):
        INTERVAL = 3600.0  # the thread never comes round during the test
        BACKLOG = 3

    m = Stalled("m:backlog", reference, "Yes", MonitorConfig(log_dir=tmp_path))
    ids = [m.record(ROWS[:1], [0.5], ["Yes"])[0] for _ in range(3)]
    assert not m.log.path.exists()  # waiting for the thread (the file opens on first write)
    ids += m.record(ROWS[:1], [0.5], ["Yes"])  # the fourth passes the backlog: logged now
    logged = [json.loads(line)["request_id"] for line in m.log.path.read_text().splitlines()]
    assert logged == ids
    m.close()


def test_feedback_refuses_unknown_duplicate_and_bad_labels_all_or_nothing(reference, tmp_path):
    m = monitor(reference, tmp_path, "m:feedback", memory=2)
    first, second, third = m.record(ROWS, [0.1, 0.6, 0.9], ["No", "Yes", "Yes"])
    with pytest.raises(FeedbackError, match=f"unknown request id.*{first}"):  # forgotten: memory=2
        m.feedback([(first, 0)])
    with pytest.raises(FeedbackError, match=f"{second}.*: 2"):
        m.feedback([(second, 2)])
    with pytest.raises(FeedbackError, match=f"labelled already.*{second}"):
        m.feedback([(second, 1), (second, 1)])
    scores = m.feedback([(second, 1), (third, 0)])
    assert scores == {"accepted": 2, "accuracy": 0.5, "roc_auc": 0.0,
                      "calibration_gap": pytest.approx(0.75 - 0.5), "labelled": 2}
    with pytest.raises(FeedbackError, match=f"labelled already.*{third}"):
        m.feedback([(third, 0)])
    m.close()
    labels = {"model_version": "m:feedback"}
    assert REGISTRY.get_sample_value("nbprod_live_accuracy", labels) == 0.5
    assert REGISTRY.get_sample_value("nbprod_live_labelled_rows", labels) == 2


def test_drift_gauges_are_updated_every_k_predictions_off_the_request(reference, tmp_path):
    m = monitor(reference, tmp_path, "m:drift", window=60, update_every=60, min_rows=10)
    rows = [{"plan": "a" if i % 2 else "b", "charge": float(i)} for i in range(60)]
    m.record(rows[:30], [0.5] * 30, ["Yes"] * 30)
    m.flush()  # logged and binned, but nothing was due: no update yet
    labels = {"feature": "plan", "model_version": "m:drift"}
    assert REGISTRY.get_sample_value("nbprod_drift_psi", labels) is None
    m.record([{**r, "plan": "a"} for r in rows[30:]], [0.5] * 30, ["Yes"] * 30)
    m.close()  # waits for the background update
    window = pd.DataFrame([*rows[:30], *({**r, "plan": "a"} for r in rows[30:])])
    expected = DriftDetector(min_rows=10).fit(reference).score(window)
    assert REGISTRY.get_sample_value("nbprod_drift_psi", labels) == expected.loc["plan", "psi"]
    assert REGISTRY.get_sample_value("nbprod_drift_window_rows", {"model_version": "m:drift"}) == 60
    assert REGISTRY.get_sample_value(
        "nbprod_prediction_probability_count", {"model_version": "m:drift"}) == 60


def test_window_drift_slides_and_equals_the_offline_detector(reference):
    rng = np.random.default_rng(1)
    rows = [{"plan": rng.choice(["a", "b", "zz", None]), "charge": float(rng.normal(30, 25))}
            for _ in range(500)]
    rows[7]["charge"] = None
    rows[8]["charge"] = 20.0  # on an edge: the right-hand bin, as np.histogram
    window = WindowDrift(reference, size=120, min_rows=10)
    for start in range(0, 500, 70):  # uneven steps: rows leave the window mid-batch
        end = min(start + 70, len(rows))
        window.add(rows[start:end])
        last = pd.DataFrame(rows[max(0, end - 120):end])
        expected = DriftDetector(min_rows=10).fit(reference).score(last)
        pd.testing.assert_frame_equal(window.scores(), expected, check_exact=False, rtol=1e-9)
    assert len(window) == 120


def test_a_model_without_reference_statistics_is_monitored_without_drift(tmp_path):
    m = Monitor("m:noref", {}, "Yes", MonitorConfig(log_dir=tmp_path, update_every=1))
    (rid,) = m.record(ROWS[:1], [0.7], ["Yes"])
    assert m.feedback([(rid, 1)])["accuracy"] == 1.0
    m.close()
    assert REGISTRY.get_sample_value("nbprod_drift_updates_total", {"model_version": "m:noref"}) is None


def test_live_scores_of_each_kind_are_those_computed_by_hand():
    from sklearn.metrics import f1_score

    from nbprod.monitoring.live_scores import kind_scores

    truth, predicted = ["a", "b", "c", "a"], ["a", "b", "a", "a"]
    multi = kind_scores("multiclass", [(0.0, p, t) for p, t in zip(predicted, truth, strict=True)])
    assert multi["accuracy"] == 0.75 and multi["labelled"] == 4
    assert multi["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    reg = kind_scores("regression", [(1.0, 1.0, 3.0), (2.0, 2.0, 2.0)])
    assert reg == {"rmse": pytest.approx(math.sqrt(2)), "mae": 1.0, "labelled": 2}
    assert math.isnan(kind_scores("regression", [])["rmse"])


@pytest.mark.parametrize(("kind", "bad", "named"), [
    ("multiclass", "rose", "one of the classes"),
    ("regression", "high", "a finite number"),
    ("regression", True, "a finite number"),
    ("regression", float("inf"), "a finite number"),
])
def test_feedback_of_the_wrong_kind_is_refused_naming_the_id(reference, tmp_path, kind, bad, named):
    m = Monitor("v", reference, "", MonitorConfig(log_dir=None), kind=kind, classes=["a", "b"])
    try:
        scores = ["a"] if kind == "multiclass" else [1.5]
        (rid,) = m.record(ROWS[:1], [[0.9, 0.1]] if kind == "multiclass" else scores,
                          ["a"] if kind == "multiclass" else None)
        with pytest.raises(FeedbackError, match=named) as err:
            m.feedback([(rid, bad)])
        assert rid in str(err.value)
        good = "b" if kind == "multiclass" else 2.5
        assert m.feedback([(rid, good)])["labelled"] == 1  # nothing of the refused body kept
    finally:
        m.close()


def test_a_multiclass_log_line_holds_the_class_and_each_probability(reference, tmp_path):
    m = Monitor("iris:v1", reference, "", MonitorConfig(log_dir=tmp_path / "logs"),
                kind="multiclass", classes=["a", "b"])
    m.record(ROWS[:1], [[0.25, 0.75]], ["b"])
    m.close()
    (line,) = (tmp_path / "logs").glob("*/*.jsonl")  # in the model's own folder
    assert line.parent == tmp_path / "logs" / "iris"
    record = json.loads(line.read_text())
    assert record["model_version"] == "iris:v1"
    assert record["label"] == "b" and record["probabilities"] == {"a": 0.25, "b": 0.75}
    assert "probability" not in record


def test_prediction_references_of_each_kind_bin_as_a_feature_s(tmp_path):
    from nbprod.data.drift import bin_counts, prediction_reference

    frame = pd.DataFrame({"row": range(4), "y": ["a", "b", "b", "b"], "label": ["a", "b", "b", "b"],
                          "probability:a": [0.9, 0.1, 0.2, 0.3], "probability:b": [0.1, 0.9, 0.8, 0.7]})
    frame.to_parquet(tmp_path / "multi.parquet")
    multi = prediction_reference(tmp_path / "multi.parquet")
    assert multi["type"] == "categorical" and multi["frequencies"] == {"a": 0.25, "b": 0.75}
    values = np.arange(100.0)
    pd.DataFrame({"row": range(100), "y": values, "prediction": values}).to_parquet(tmp_path / "r.parquet")
    reg = prediction_reference(tmp_path / "r.parquet")
    assert reg["type"] == "numeric" and len(reg["frequencies"]) == 10
    np.testing.assert_allclose(reg["frequencies"], 0.1)  # deciles: a tenth in each bin
    np.testing.assert_allclose(bin_counts([-5.0, 500.0], reg)[[0, -1]], [1, 1])  # open ends
    binary = prediction_reference(np.array([0.05, 0.95]))
    assert binary["bin_edges"][0] == 0.0 and binary["frequencies"][0] == 0.5
