"""`nbprod models compare`, `models list --json` and `show --json` against a real BentoML store:
two versions registered through the gate, each with its evaluation curves kept (aggregates)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from nbprod.cli import main
from nbprod.data.schema import Feature, FeatureSchema
from nbprod.model.curves import curve_summary
from nbprod.registry.compare import (
    CURVES_FILE,
    compare,
    compare_metadata,
    metric_deltas,
    timeline,
)
from nbprod.registry.lifecycle import GatePolicy, promote, register_and_gate

GATE = {"metric": "roc_auc", "tolerance": 0.01, "floor": 0.5,
        "guards": {"brier": {"tolerance": 0.01}}}
SCHEMA = FeatureSchema([Feature("x", "number")], target="y").to_dict()


def toy():
    return LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])


def held_out_curves(path, noise: float, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    proba = np.clip(0.5 * y + 0.25 + rng.normal(0, noise, 300), 0, 1)
    frame = pd.DataFrame({"row": range(300), "y": y, "probability": proba})
    path.write_text(json.dumps(curve_summary(frame, "binary", "y")))
    return path


def register(name, tmp_path, roc_auc, brier, estimator, noise, seed):
    meta = {"metrics": {"roc_auc": roc_auc, "brier": brier, "threshold": 0.5, "n": 300},
            "parameters": {"train": {"estimator": estimator, "seed": 42}},
            "git": {"commit": f"c{seed}", "dirty": False},
            "data": {"raw": {"path": "data/raw.csv", "sha256": f"s{seed}"}},
            "feature_schema": SCHEMA, "gate": GATE}
    files = {CURVES_FILE: held_out_curves(tmp_path / f"c{seed}.json", noise, seed)}
    return register_and_gate(name, toy(), meta, GatePolicy.from_dict(GATE), files=files)


@pytest.fixture
def two_versions(model_name, tmp_path):
    prod, _ = register(model_name, tmp_path, 0.86, 0.15, "logistic_regression", 0.15, 1)
    cand, decision = register(model_name, tmp_path, 0.84, 0.17, "gradient_boosting", 0.3, 2)
    assert not decision.promote  # worse by more than the tolerance: stays a candidate
    return model_name, cand, prod


def test_metric_deltas_say_which_way_is_better():
    rows = {m.name: m for m in metric_deltas({"roc_auc": 0.9, "rmse": 2.0, "n": 5, "x": 1.0},
                                             {"roc_auc": 0.8, "rmse": 1.0, "x": 1.0})}
    assert rows["roc_auc"].verdict == "better" and rows["roc_auc"].difference == pytest.approx(0.1)
    assert rows["rmse"].verdict == "worse"  # lower is better
    assert rows["x"].verdict == ""  # unknown direction: no verdict, never a guess
    assert "n" not in rows  # a count, not a score


def test_compare_defaults_to_the_candidate_against_production(two_versions):
    name, cand, prod = two_versions
    result = compare(name)
    assert (result.a, result.b) == (cand, prod)
    assert (result.a_stage, result.b_stage) == ("candidate", "production")
    worse = {m.name: m.verdict for m in result.metrics}
    assert worse == {"roc_auc": "worse", "brier": "worse"}
    assert result.metrics[0].name == "roc_auc"  # the gate's metric first
    keys = {(d.section, d.key) for d in result.differences}
    assert {("parameters", "train.estimator"), ("data", "raw"), ("code", "git.commit")} <= keys
    assert ("parameters", "train.seed") not in keys  # equal: not listed
    assert result.decision is not None and not result.decision.promote
    assert result.recorded and result.recorded.startswith("not_promoted")


def test_the_command_prints_both_versions_and_writes_a_self_contained_page(two_versions, tmp_path):
    name, cand, prod = two_versions
    page = tmp_path / "reports" / "compare.html"
    out = CliRunner().invoke(main, ["models", "compare", "--name", name, "--html", str(page)])
    assert out.exit_code == 0, out.output
    assert cand in out.output and prod in out.output
    assert re.search(r"roc_auc ↑\s+│\s+0\.8400\s+│\s+0\.8600\s+│\s+-0\.0200\s+│\s+worse", out.output)
    assert "train.estimator" in out.output and "gradient_boosting" in out.output
    assert "gate decision: do not promote" in out.output
    text = page.read_text()
    assert not re.search(r"<script|<link|https?://|src=\"(?!data:)", text)  # nothing downloaded
    assert text.count('src="data:image/png;base64,') == 2  # the curves and the history
    assert "No evaluation curves" not in text


def test_versions_given_by_hand_and_without_their_name(two_versions):
    name, cand, prod = two_versions
    result = compare(name, prod.partition(":")[2], cand)
    assert (result.a, result.b) == (prod, cand)
    assert {m.verdict for m in result.metrics} == {"better"}


def test_timeline_marks_each_production_period(two_versions):
    name, cand, prod = two_versions
    promote(cand, "by hand")
    points, periods = timeline(name)
    assert [p.tag for p in points] == [prod, cand]
    assert [(tag, until is None) for tag, _, until in periods] == [(prod, False), (cand, True)]
    assert periods[0][2] == periods[1][1]  # one ends when the next begins
    assert all(isinstance(start, datetime) for _, start, _ in periods)


def test_a_version_without_a_gate_or_predictions_is_still_compared():
    result = compare_metadata("m:a", "m:b", {"metrics": {"r2": 0.5}}, {"metrics": {"r2": 0.7}})
    assert result.decision is None and "records no gate" in result.notes[0]
    assert result.metrics[0].verdict == "worse"


def test_compare_without_production_asks_for_two_versions(model_name):
    register_and_gate(model_name, toy(), {"metrics": {"roc_auc": 0.1, "brier": 0.3}},
                      GatePolicy.from_dict(GATE))
    out = CliRunner().invoke(main, ["models", "compare", "--name", model_name])
    assert out.exit_code == 1 and "no production version to compare with" in out.output


def test_list_and_show_as_json(two_versions):
    name, cand, prod = two_versions
    out = CliRunner().invoke(main, ["models", "list", "--name", name, "--json"])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)
    assert [v["tag"] for v in listed] == [cand, prod]  # newest first
    assert listed[1]["labels"]["stage"] == "production"
    assert listed[0]["metrics"]["roc_auc"] == 0.84
    shown = json.loads(CliRunner().invoke(main, ["models", "show", prod, "--json"]).output)
    assert shown == listed[1]


def test_the_page_in_a_real_browser_loads_nothing_and_draws_its_figures(two_versions, tmp_path):
    from browser import network_requests, visit

    name, _, _ = two_versions
    page = tmp_path / "compare.html"
    assert CliRunner().invoke(main, ["models", "compare", "--name", name, "--html",
                                     str(page)]).exit_code == 0
    seen = visit(page.as_uri(), {
        "drawn": "[...document.images].filter(i => i.complete && i.naturalWidth > 400).length",
        "verdicts": "[...document.querySelectorAll('td.worse')].length",
    }, height=1400)
    assert network_requests(seen) == []
    assert seen.values == {"drawn": 2, "verdicts": 2}
    (tmp_path / "compare.png").write_bytes(seen.screenshot)


def test_production_is_compared_with_the_version_it_replaced(two_versions):
    name, cand, prod = two_versions
    promote(cand, "by hand")
    result = compare(name, cand)
    assert (result.a, result.b) == (cand, prod)
    assert (result.a_stage, result.b_stage) == ("production", "archived")
