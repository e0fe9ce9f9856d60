"""Feedback across workers in-process: two monitors sharing one prediction-log folder."""

from __future__ import annotations

import json

import pytest

from nbprod.errors import FeedbackError
from nbprod.monitoring.monitor import Monitor, MonitorConfig
from nbprod.monitoring.sibling_predictions import SiblingPredictions

ROWS = [{"plan": "a", "charge": 10.0}, {"plan": "b", "charge": 20.0}]
REFERENCE = {"plan": {"type": "categorical", "frequencies": {"a": 0.5, "b": 0.5}}}


def worker(folder, name: str, version: str = "m:siblings") -> Monitor:
    """A monitor as one worker of a server: its own file in its model's folder."""
    m = Monitor(version, REFERENCE, "Yes", MonitorConfig(log_dir=folder))
    assert m.log.path.parent == folder / version.partition(":")[0]
    # two workers of one process start in the same second with the same pid: name them apart
    m.log.path = m.siblings.own = m.log.path.parent / f"predictions-{name}.jsonl"
    return m


def test_a_label_is_matched_by_any_worker_and_taken_once(tmp_path):
    a, b = worker(tmp_path, "a"), worker(tmp_path, "b")
    first, second = a.record(ROWS, [0.2, 0.9], ["No", "Yes"])
    with pytest.raises(FeedbackError, match=f"unknown request id.*{first}"):
        b.feedback([(first, 0)])  # not in a's file yet
    a.flush()
    scores = b.feedback([(first, 0), (second, 0)])
    assert scores["accepted"] == 2 and scores["accuracy"] == 0.5  # b knows a's predictions
    with pytest.raises(FeedbackError, match=f"labelled already.*{second}"):
        a.feedback([(second, 1)])  # a never saw the label, the shared ledger did
    (third,) = a.record(ROWS[:1], [0.6], ["Yes"])
    assert a.feedback([(third, 1)])["accepted"] == 1  # a's own, as before
    a.close()
    b.close()


def test_find_reads_rotated_files_and_skips_its_own_and_torn_lines(tmp_path):
    rid = "0" * 31 + "1"
    line = f'{{"request_id": "{rid}", "probability": 0.7, "label": "Yes"}}\n'
    (tmp_path / "predictions-x.jsonl.1").write_text(line + line[:20])
    (tmp_path / "predictions-own.jsonl").write_text(line.replace("0.7", "0.1"))
    siblings = SiblingPredictions(tmp_path, tmp_path / "predictions-own.jsonl")
    assert siblings.find([rid, "f" * 32]) == {rid: json.loads(line)}
    assert siblings.claim([rid]) == [] and siblings.claim([rid, "f" * 32]) == [rid]
    assert siblings.claim(["f" * 32]) == []  # the refused call marked nothing
    siblings.close()


def test_a_label_for_another_models_prediction_is_a_4xx_and_never_counted(tmp_path):
    """Servers of other versions of the model (the version before a promotion) share its
    log folder: their predictions are theirs to label."""
    ours, theirs = worker(tmp_path, "ours"), worker(tmp_path, "theirs", version="m:previous")
    (rid,) = theirs.record(ROWS[:1], [0.9], ["Yes"])
    theirs.flush()
    with pytest.raises(FeedbackError, match=rf"\['{rid}'\] were answered by \['m:previous'\], "
                                            "not by m:siblings"):
        ours.feedback([(rid, 1)])
    assert rid not in ours.memory and len(ours.labelled) == 0
    assert theirs.feedback([(rid, 1)])["accepted"] == 1, "still its own model's to label"
    ours.close()
    theirs.close()


def test_a_logged_prediction_of_another_kind_is_a_4xx_not_a_500(tmp_path):
    ours = worker(tmp_path, "ours")
    rid = "a" * 32
    (ours.log.path.parent / "predictions-x.jsonl").write_text(json.dumps(
        {"request_id": rid, "model_version": "m:siblings", "label": "b"}) + "\n")
    with pytest.raises(FeedbackError, match="cannot be read"):
        ours.feedback([(rid, 1)])
    ours.close()
