import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

import churn
from nbprod import (
    ConfigError,
    DataFileError,
    derive_feature_schema,
    reference_statistics,
    register_model,
)
from nbprod.cli import main
from nbprod.data.columns import ColumnTable
from nbprod.data.drift import DriftDetector, current_shares, js_distance, psi
from nbprod.data.files import read_table
from nbprod.data.validation import validate
from nbprod.monitoring.drift_report import load_inputs


def test_psi_by_hand():
    e, a = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert psi(e, a) == pytest.approx(expected)
    assert psi(e, e) == 0.0


def test_js_distance_is_bounded_and_handles_empty_bins():
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert js_distance([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    assert np.isnan(js_distance([0, 0], [0.5, 0.5]))


def test_current_shares_use_the_reference_bins():
    ref = {"type": "numeric", "bin_edges": [0.0, 10.0, 20.0], "frequencies": [0.5, 0.5]}
    # values beyond the reference range fall into the outer bins
    np.testing.assert_allclose(current_shares(pd.Series([-5, 5, 15, 99]), ref), [0.5, 0.5])
    cat = {"type": "categorical", "frequencies": {"a": 0.5, "b": 0.5}}
    np.testing.assert_allclose(current_shares(pd.Series(["a", "a", "z", None]), cat), [2 / 3, 0, 1 / 3])


@pytest.fixture(scope="module")
def frames():
    root = __import__("pathlib").Path(__file__).parents[3]
    table = ColumnTable.load(root / "columns.yaml")
    raw = churn.clean(validate(read_table(root / "data/raw/telco_churn.csv.gz"), table))
    reference, current = raw.iloc[::2], raw.iloc[1::2]
    schema = derive_feature_schema(reference, table)
    return reference_statistics(reference, schema), current


def test_the_same_population_does_not_drift(frames):
    ref, current = frames
    scores = DriftDetector().fit(ref).score(current)
    assert len(scores) == 19
    assert not scores["drifted"].any()
    assert scores["psi"].max() < 0.05


def test_one_shifted_feature_drifts_and_only_that_one(frames):
    ref, current = frames
    shifted = current.copy()
    shifted["tenure"] = shifted["tenure"] // 3
    shifted["contract"] = "Month-to-month"
    scores = DriftDetector(threshold=0.2).fit(ref).score(shifted)
    assert set(scores.index[scores["drifted"]]) == {"tenure", "contract"}
    assert scores.loc["tenure", "js_distance"] > 0.2


def test_few_rows_never_count_as_drift(frames):
    ref, current = frames
    tiny = current.head(10).assign(contract="Two year")
    scores = DriftDetector(min_rows=50).fit(ref).score(tiny)
    assert scores.loc["contract", "psi"] > 0.2 and not scores["drifted"].any()


def test_detector_errors_name_the_problem(frames):
    ref, current = frames
    with pytest.raises(ConfigError, match="not fitted"):
        DriftDetector().score(current)
    with pytest.raises(ConfigError, match=r"no column\(s\) \['tenure'\]"):
        DriftDetector().fit(ref).score(current.drop(columns=["tenure"]))


def test_load_inputs_reads_a_prediction_log_and_refuses_garbage(tmp_path):
    log = tmp_path / "predictions.jsonl"
    log.write_text("\n".join(json.dumps({"id": i, "inputs": {"tenure": i}}) for i in range(3)))
    assert load_inputs(log)["tenure"].tolist() == [0, 1, 2]
    rotated = tmp_path / "predictions.jsonl.3"  # a copy the log's rotation made
    rotated.write_bytes(log.read_bytes())
    assert load_inputs(rotated)["tenure"].tolist() == [0, 1, 2]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(DataFileError, match="bad.jsonl: cannot be read"):
        load_inputs(bad)
    with pytest.raises(DataFileError, match="no such file"):
        load_inputs(tmp_path / "nope.csv")


def test_cli_writes_the_report_and_exit_code_follows_the_threshold(frames, model_name, tmp_path):
    ref, current = frames
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    tag = register_model(model_name, model, {"reference_statistics": ref})
    current.to_parquet(tmp_path / "same.parquet")
    current.assign(monthly_charges=current["monthly_charges"] * 1.5).to_csv(tmp_path / "shift.csv", index=False)
    def run(f, *extra):
        return CliRunner().invoke(
            main, ["drift", str(tmp_path / f), "--model", tag, "--output", str(tmp_path / f"{f}.html"), *extra])
    ok = run("same.parquet")
    assert ok.exit_code == 0, ok.output
    page = (tmp_path / "same.parquet.html").read_text()
    assert "no feature drifted" in page and page.count("<img") == 19
    bad = run("shift.csv")
    assert bad.exit_code == 1 and "monthly_charges" in bad.output
    assert "1 feature(s) drifted: monthly_charges" in (tmp_path / "shift.csv.html").read_text()
    assert run("shift.csv", "--threshold", "100").exit_code == 0
