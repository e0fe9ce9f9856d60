"""`nbprod drift` as a user meets it: exit codes, a torn prediction log,
whole labels, honest bins, 0/1 flags, the time range and the prediction distribution."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from nbprod import register_model
from nbprod.cli import DRIFT_ERROR, DRIFT_FOUND, DRIFT_NONE, main
from nbprod.data.drift import (
    DriftDetector,
    bin_labels,
    current_shares,
    prediction_reference,
    reference_shares,
)
from nbprod.data.schema import Feature, FeatureSchema, reference_statistics
from nbprod.monitoring.drift_report import bar_figure, read_inputs
from nbprod.monitoring.window_drift import WindowDrift

LONG = "Bank transfer (automatic, with a much longer description than fits)"
REFERENCE = {
    "tenure": {"type": "numeric", "bin_edges": [0.0, 10.0, 20.0, 72.0],
               "frequencies": [0.3, 0.3, 0.4]},
    "payment_method": {"type": "categorical",
                       "frequencies": {LONG: 0.5, "Mailed check": 0.5}},
    "senior_citizen": {"type": "categorical", "frequencies": {"0": 0.8, "1": 0.2}},
    "_rows": 100,
}


def rows(n: int, shift: float = 0.0, senior: int | None = None) -> list[dict]:
    """``n`` customers like the reference (tenure 30/30/40% in its bins, 20% seniors)."""
    return [{"tenure": (5.0 if i % 10 < 3 else 15.0 if i % 10 < 6 else 40.0) + shift,
             "senior_citizen": int(i % 5 == 0) if senior is None else senior,
             "payment_method": LONG if i % 2 else "Mailed check"} for i in range(n)]


def log_lines(records: list[dict], start: int = 0, version: str = "m:v") -> list[str]:
    return [json.dumps({"request_id": f"r{i}", "timestamp": f"2026-11-0{1 + i % 2}T10:00:{i % 60:02d}+00:00",
                        "model_version": version, "inputs": r, "probability": 0.9, "label": 1})
            for i, r in enumerate(records, start)]


def test_the_last_numeric_bin_is_open_ended_and_says_so():
    ref = REFERENCE["tenure"]
    assert bin_labels(ref) == ["< 10", "[10, 20)", ">= 20"]
    # 500 lies far above the training maximum (72): it counts in the bin labelled ">= 20"
    np.testing.assert_allclose(current_shares(pd.Series([-3.0, 15.0, 500.0]), ref), [1 / 3] * 3)


def test_a_0_1_flag_has_no_other_bin_and_reads_1_0_as_1():
    ref = REFERENCE["senior_citizen"]
    assert bin_labels(ref) == ["0", "1"] and len(reference_shares(ref)) == 2
    np.testing.assert_allclose(current_shares(pd.Series([0, 1, 1.0, "1"]), ref), [0.25, 0.75])
    # the service's live window bins flags the same way
    window = WindowDrift(REFERENCE, size=100, min_rows=1)
    live = rows(60, senior=1)
    window.add(live)
    expected = DriftDetector(min_rows=1).fit(REFERENCE).score(pd.DataFrame(live))
    np.testing.assert_allclose(window.scores()["psi"], expected["psi"], rtol=1e-9)
    assert "other" in bin_labels(REFERENCE["payment_method"])  # categories still have one


def test_long_category_labels_are_drawn_whole_inside_the_figure():
    labels = bin_labels(REFERENCE["payment_method"])
    fig = bar_figure("payment_method", labels, [0.5, 0.5, 0.0], [0.4, 0.6, 0.0])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks = fig.axes[0].get_yticklabels()
    assert [t.get_text() for t in ticks] == labels  # whole, not shortened
    box = fig.bbox
    for t in ticks:
        extent = t.get_window_extent(renderer)
        assert extent.x0 >= box.x0 - 0.5 and extent.x1 <= box.x1 + 0.5, t.get_text()


def test_the_legend_covers_no_bar():
    """Inside the axes ("best") the legend sat on the longest bars; it is below them now."""
    fig = bar_figure("tenure", ["< 10", "[10, 20)", ">= 20"], [0.3, 0.3, 0.4], [1.0, 1.0, 1.0])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    for bar in fig.axes[0].patches:
        assert not box.overlaps(bar.get_window_extent(renderer))
    assert box.y1 <= fig.axes[0].get_window_extent(renderer).y0  # under the plot
    assert [t.get_text() for t in legend.get_texts()] == ["reference (training)", "current"]


def test_a_torn_last_line_is_skipped_and_counted(tmp_path):
    log = tmp_path / "predictions.jsonl"
    log.write_text("\n".join(log_lines(rows(3))) + '\n{"request_id": "r3", "inpu')
    inputs = read_inputs(log)
    assert len(inputs.frame) == 3 and inputs.skipped_lines == 1
    assert "1 torn or unreadable line(s) skipped" in inputs.span()
    assert inputs.span().startswith("records from 2026-11-01T10:00:00+00:00 to 2026-11-02T")


@pytest.fixture
def tag(model_name):
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    metadata = {"reference_statistics": REFERENCE,
                "prediction_reference": prediction_reference(np.linspace(0.0, 0.5, 200))}
    return register_model(model_name, model, metadata)


def drift(tag, path, out):
    return CliRunner().invoke(main, ["drift", str(path), "--model", tag, "--output", str(out)])


def test_exit_codes_tell_no_drift_from_drift_from_an_error(tag, tmp_path):
    assert (DRIFT_NONE, DRIFT_FOUND, DRIFT_ERROR) == (0, 1, 2)
    same = tmp_path / "same.jsonl"
    same.write_text("\n".join(log_lines(rows(200), version=tag)))
    ok = drift(tag, same, tmp_path / "same.html")
    assert ok.exit_code == DRIFT_NONE, ok.output
    shifted = tmp_path / "shifted.jsonl"
    shifted.write_text("\n".join(log_lines(rows(200, shift=60.0), version=tag)))
    found = drift(tag, shifted, tmp_path / "shifted.html")
    assert found.exit_code == DRIFT_FOUND and "1 feature(s) drifted past PSI 0.2: tenure" in found.output
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("{not json\n")
    broken = drift(tag, garbage, tmp_path / "g.html")
    assert broken.exit_code == DRIFT_ERROR
    assert "garbage.jsonl: cannot be read: no line is a JSON record (1 unreadable)" in broken.output
    missing = drift(tag, tmp_path / "absent.csv", tmp_path / "a.html")
    assert missing.exit_code == DRIFT_ERROR and "no such file" in missing.output
    no_model = drift("no_such_model:v1", same, tmp_path / "n.html")
    assert no_model.exit_code == DRIFT_ERROR


def test_the_report_gives_the_time_range_and_served_vs_evaluation_predictions(tag, tmp_path):
    log = tmp_path / "predictions.jsonl.1"
    log.write_text("\n".join(log_lines(rows(120), version=tag)) + "\n{torn")
    result = drift(tag, log, tmp_path / "report.html")
    assert result.exit_code == DRIFT_NONE, result.output
    assert "records from 2026-11-01T10:00:00+00:00 to 2026-11-02T" in result.output
    page = (tmp_path / "report.html").read_text()
    assert "Covers: records from 2026-11-01T10:00:00+00:00 to 2026-11-02T10:00:59+00:00" in page
    assert "1 torn or unreadable line(s) skipped" in page
    assert "Predicted probability: served vs evaluation" in page
    assert "120 served predictions, mean 0.9000" in page
    assert "alt='predicted probability'" in page and "evaluation (200 held-out rows)" in page
    # the predictions' PSI, a number as /metrics gives it, in the table and the section
    psi = re.search(r"<tr class='bad'><td>\(predictions\)</td><td>(\d+\.\d{4})</td>", page)
    assert psi and float(psi[1]) > 0.2  # all served at 0.9, evaluated between 0 and 0.5
    assert f"against the evaluation's: <b>{psi[1]}</b>" in page
    assert re.search(rf"\(predictions\)\s+psi=\s*{psi[1]}", result.output)  # the same number


def test_only_the_model_s_own_records_are_read_and_the_others_counted(tag, tmp_path):
    """A shared log folder: the model's own folder, another project's model beside it, and
    a file where records of two models mix (a log written before per-model folders)."""
    root = tmp_path / "predictions"
    name = tag.partition(":")[0]
    (root / name).mkdir(parents=True)
    (root / "insurance").mkdir()
    (root / "insurance" / "predictions-1.jsonl").write_text(
        "\n".join(log_lines(rows(50, shift=60.0), version="insurance:abc")))
    mixed = log_lines(rows(120), version=tag) + log_lines(rows(8, shift=60.0), 200, "insurance:abc")
    (root / name / "predictions-2.jsonl").write_text("\n".join(mixed))

    by_root = drift(tag, root, tmp_path / "root.html")  # the root: the model's folder is read
    assert by_root.exit_code == DRIFT_NONE, by_root.output  # the shifted records left out
    warning = "8 record(s) of other models left out: insurance:abc (8)"
    assert f"warning: {root}: {warning}" in by_root.output
    assert warning in (tmp_path / "root.html").read_text()
    assert drift(tag, root / name, tmp_path / "own.html").exit_code == DRIFT_NONE

    only_others = drift(tag, root / "insurance", tmp_path / "other.html")
    assert only_others.exit_code == DRIFT_ERROR
    assert f"holds no record of model {name!r}; 50 record(s) of other models" in only_others.output


def test_drift_reads_the_model_s_own_log_folder_by_default(tag, tmp_path, monkeypatch):
    root = tmp_path / "logs"
    monkeypatch.setenv("NBPROD_PREDICTION_LOG_DIR", str(root))
    (root / tag.partition(":")[0]).mkdir(parents=True)
    (root / tag.partition(":")[0] / "predictions-1.jsonl").write_text(
        "\n".join(log_lines(rows(120), version=tag)))
    out = CliRunner().invoke(main, ["drift", "--model", tag, "--output", str(tmp_path / "d.html")])
    assert out.exit_code == DRIFT_NONE, out.output
    assert f"{root / tag.partition(':')[0]}: records from 2026-11-01" in out.output


def test_prediction_reference_reads_the_evaluate_step_s_file(tmp_path):
    path = tmp_path / "test_predictions.parquet"
    pd.DataFrame({"row": range(4), "probability": [0.05, 0.15, 0.95, 1.0]}).to_parquet(path)
    ref = prediction_reference(path)
    assert ref["rows"] == 4 and len(ref["bin_edges"]) == 11
    assert ref["frequencies"][0] == ref["frequencies"][1] == 0.25 and ref["frequencies"][-1] == 0.5
    assert json.loads(json.dumps(ref)) == ref


def test_nbprod_drift_shows_a_text_s_unseen_words_and_counts_them_as_drift(model_name, tmp_path):
    words = ["refund", "invoice", "password", "thanks", "broken", "address"]
    texts = [" ".join(words[(i + k) % 6] for k in range(4)) for i in range(200)]
    train = pd.DataFrame({"body": texts})
    schema = FeatureSchema([Feature("body", "text", max_length=100)], target="y")
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    tag = register_model(model_name, model,
                         {"reference_statistics": reference_statistics(train, schema)})
    same, backwards = tmp_path / "same.jsonl", tmp_path / "backwards.jsonl"
    same.write_text("\n".join(log_lines([{"body": t} for t in texts], version=tag)))
    backwards.write_text("\n".join(log_lines(
        [{"body": " ".join(w[::-1] for w in t.split())} for t in texts], version=tag)))
    ok = drift(tag, same, tmp_path / "same.html")
    assert ok.exit_code == DRIFT_NONE, ok.output
    assert "words: 0.0% unseen, overlap 1.00" in ok.output
    found = drift(tag, backwards, tmp_path / "backwards.html")
    # the same lengths, other words: only the words say so
    assert found.exit_code == DRIFT_FOUND, found.output
    assert "words: 100.0% unseen, overlap 0.00" in found.output
    assert "100.0% unseen, overlap 0.00" in (tmp_path / "backwards.html").read_text()
