"""The real `ploomber build` of the whole DAG on the smoke sample, in a temporary
copy of the project with a temporary BentoML store.

Tests that only read the build share it (``built``); a test that builds again, changes a
file or runs the notebooks works on its own copy of it (``rebuilt``), so each test passes
alone and in any order."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from projectkit import (
    BIN,
    ROOT,
    TASKS,
    bentoml_cli,
    build_env,
    models_in,
    ploomber_build,
    smoke_build,
    tasks_that_ran,
)

pytestmark = pytest.mark.pipeline

LINEAGE_KEYS = {
    "metrics", "parameters", "git", "data", "notebooks", "feature_schema",
    "reference_statistics", "versions", "artifact", "gate", "run", "lifecycle", "test_set",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One smoke build shared by the tests of this module that only read it."""
    return smoke_build(tmp_path_factory.mktemp("project"))


@pytest.fixture
def rebuilt(built, tmp_path):
    """A copy of the smoke build (project, store and products) this test alone changes."""
    project, _, result = built
    copy = shutil.copytree(project, tmp_path / "project", symlinks=True)
    # the executed notebooks name their products by absolute path: the copy's own
    for report in (copy / "products-smoke/reports").glob("*.ipynb"):
        stat = report.stat()
        report.write_text(report.read_text().replace(str(project), str(copy)))
        os.utime(report, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return copy, copy / "bentoml-home", result


def test_every_task_ran_and_left_its_products(built):
    project, _, result = built
    assert tasks_that_ran(result.stdout) == set(TASKS)
    products = project / "products-smoke"
    for task in TASKS:
        assert (products / "reports" / f"{task}.ipynb").is_file()
        html = (products / "reports" / f"{task}.html").read_text()
        assert "<html" in html and task.capitalize()[:4] in html
    assert (products / "reports" / "evaluation.png").stat().st_size > 10_000
    train = pd.read_parquet(products / "data" / "train.parquet")
    test = pd.read_parquet(products / "data" / "test.parquet")
    assert len(train) + len(test) == 600
    assert len(test) == 120


def test_the_build_shows_one_progress_bar_not_each_notebook_s_cells(built):
    """ploomber-engine draws a tqdm bar per notebook unless `progress_bar: false`; it would
    be interleaved with the build's own bar ("Building task ...")."""
    _, _, result = built
    frames = [f for f in re.split(r"[\r\n]+", result.stderr) if re.search(r"\d+%\|", f)]
    assert any("Building task" in f for f in frames)  # the build's own bar is there
    opening = re.compile(rf"^\s*0%\|\s*\| 0/{len(TASKS)} ")  # the build's bar before task 1
    assert [f for f in frames if "Building task" not in f and not opening.match(f)] == []


def test_the_score_task_scored_every_clean_row_with_the_registered_model(built):
    project, _, _ = built
    products = project / "products-smoke"
    tag = json.loads((products / "model/registration.json").read_text())["tag"]
    scores = pd.read_parquet(products / "predictions/scores.parquet")
    assert len(scores) == len(pd.read_parquet(products / "data/clean.parquet")) == 600
    assert set(scores["model"].astype(str)) == {tag}
    assert scores["probability"].between(0, 1).all()


def test_metrics_file(built):
    project, _, _ = built
    metrics = json.loads((project / "products-smoke/model/metrics.json").read_text())
    for key in ("roc_auc", "pr_auc", "f1", "log_loss", "brier", "calibration_error"):
        assert 0.0 <= metrics[key] <= 1.0 or key == "log_loss", key
    assert metrics["roc_auc"] > 0.75  # a real model on 480 training rows
    assert sum(metrics["confusion_matrix"].values()) == metrics["n"] == 120


def test_registered_model_carries_its_lineage(built):
    project, home, _ = built
    (tag,) = models_in(home)
    assert json.loads((project / "products-smoke/model/registration.json").read_text())["tag"] == tag
    meta = bentoml_cli(home, "models", "get", tag)["metadata"]
    assert LINEAGE_KEYS <= set(meta)
    assert meta["parameters"]["train"]["estimator"] == "logistic_regression"
    assert meta["parameters"]["ingest"]["sample_rows"] == 600
    assert meta["parameters"]["features"] == {
        "test_size": 0.2, "split_seed": 42, "resources_": {"columns": "columns.yaml"}}
    test = pd.read_parquet(project / "products-smoke/data/test.parquet")
    assert meta["test_set"]["rows"] == len(test) == meta["metrics"]["n"]
    assert meta["data"]["raw_data"]["path"] == "data/raw/telco_churn.csv.gz"
    assert meta["data"]["columns"]["path"] == "columns.yaml"  # the contract is lineage too
    assert [e["event"] for e in meta["lifecycle"]] == ["registered", "promoted"]
    assert meta["data"]["raw_data"]["sha256"] == "07fc3d66867410c87d851d27da63b9d4f596d8a8920c8aca6938bf74b858b8b8"
    assert set(meta["git"]) == {"commit", "dirty"}
    assert set(meta["notebooks"]) == set(TASKS) - {"register", "score"}
    assert all(len(n["sha256"]) == 64 and n["path"].startswith("products-smoke/") for n in meta["notebooks"].values())
    assert [f["name"] for f in meta["feature_schema"]["features"]][:2] == ["female", "senior_citizen"]
    assert meta["reference_statistics"]["_rows"] == 480
    for pkg in ("python", "scikit-learn", "pandas", "numpy"):
        assert meta["versions"][pkg][0].isdigit()
    assert meta["metrics"] == json.loads((project / "products-smoke/model/metrics.json").read_text())
    assert str(project) not in json.dumps(meta, default=str), "lineage names a path of this machine"


def test_a_second_build_with_nothing_changed_runs_no_task(rebuilt):
    project, home, _ = rebuilt
    result = ploomber_build(project, home)
    assert result.returncode == 0, result.stderr
    assert tasks_that_ran(result.stdout) == set()
    assert len(models_in(home)) == 1


def test_changing_one_parameter_reruns_that_task_and_its_downstream_only(rebuilt):
    project, home, _ = rebuilt
    result = ploomber_build(project, home, "--env--threshold", "0.4")
    assert result.returncode == 0, result.stderr
    assert tasks_that_ran(result.stdout) == {"evaluate", "register", "score"}
    metrics = json.loads((project / "products-smoke/model/metrics.json").read_text())
    assert metrics["threshold"] == 0.4
    assert len(models_in(home)) == 2
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert registration["promoted"] is True  # same ROC AUC: within the gate's tolerance
    assert production_tag(home) == registration["tag"]


def test_a_worse_model_is_registered_but_not_promoted(rebuilt):
    project, home, _ = rebuilt
    before = production_tag(home)
    result = ploomber_build(
        project, home, "--env--threshold", "0.4", "--env--estimator", "gradient_boosting",
        "--env--hyperparameters--gradient_boosting--max_iter", "1",
        "--env--hyperparameters--gradient_boosting--max_leaf_nodes", "2",
    )
    assert result.returncode == 0, result.stderr
    assert tasks_that_ran(result.stdout) == {"train", "evaluate", "register", "score"}
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert registration["promoted"] is False
    assert "does not pass the floor 0.75" in registration["reason"] or "worse than production" in registration["reason"]
    assert production_tag(home) == before != registration["tag"]
    assert len(models_in(home)) == 2


def test_the_gate_compares_production_on_the_candidate_s_test_rows(rebuilt):
    project, home, _ = rebuilt
    registration = project / "products-smoke/model/registration.json"
    first = json.loads(registration.read_text())["tag"]
    # the model's seed alone: the same rows, so production's recorded metrics are on them
    result = ploomber_build(project, home, "--env--seed", "7")
    assert result.returncode == 0, result.stderr[-3000:]
    assert tasks_that_ran(result.stdout) == {"train", "evaluate", "register", "score"}
    same = json.loads(registration.read_text())
    assert "same test set as production" in same["reason"], same["reason"]
    # another split seed: other rows, and production is re-scored on them
    result = ploomber_build(project, home, "--env--split_seed", "7")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"ingest", "features"} <= tasks_that_ran(result.stdout)
    other = json.loads(registration.read_text())
    assert "production re-scored on the candidate's test set" in other["reason"], other["reason"]
    prints = [bentoml_cli(home, "models", "get", t)["metadata"]["test_set"]
              for t in (first, same["tag"], other["tag"])]
    assert prints[0] == prints[1] != prints[2]
    assert prints[2]["sha256"][:12] in other["reason"]


def production_tag(home):
    tags = [t for t in models_in(home)
            if bentoml_cli(home, "models", "get", t)["labels"].get("stage") == "production"]
    assert len(tags) == 1, tags
    return tags[0]


def nbprod_lineage(project, home, tag):
    return subprocess.run(
        [str(BIN / "nbprod"), "lineage", tag], cwd=project, env=build_env(home),
        capture_output=True, text=True, timeout=120,
    )


def test_changing_the_raw_data_reruns_everything(rebuilt):
    project, home, _ = rebuilt
    tag = production_tag(home)
    lineage = nbprod_lineage(project, home, tag)
    assert lineage.returncode == 0, lineage.stdout + lineage.stderr
    for level in ("model", "run", "notebook", "data"):
        assert level in lineage.stdout
    raw = project / "data/raw/telco_churn.csv.gz"
    df = pd.read_csv(raw)
    df.loc[0, "monthly_charges"] += 1.0
    df.to_csv(raw, index=False)
    lineage = nbprod_lineage(project, home, tag)
    assert lineage.returncode == 1
    assert "data/raw/telco_churn.csv.gz (modified)" in lineage.stderr
    result = ploomber_build(project, home, "--env--threshold", "0.4")
    assert result.returncode == 0, result.stderr
    assert tasks_that_ran(result.stdout) == set(TASKS)


def test_nbval_rerunning_the_executed_notebooks_reproduces_their_outputs(rebuilt):
    project, home, _ = rebuilt
    reports = sorted((project / "products-smoke/reports").glob("*.ipynb"))
    assert len(reports) == len(TASKS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
         "-q", *map(str, reports)],
        cwd=project, env=build_env(home), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize("backend", ["d3", "mermaid"])
def test_ploomber_plot_draws_the_dag(built, backend, tmp_path):
    project, home, _ = built
    out = tmp_path / f"pipeline-{backend}.html"
    result = subprocess.run(
        [str(BIN / "ploomber"), "plot", "--backend", backend, "--output", str(out)],
        cwd=project, env=build_env(home), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    html = out.read_text()
    assert all(task in html for task in TASKS)


def test_ploomber_status_lists_every_task(built):
    project, home, _ = built
    result = subprocess.run(
        [str(BIN / "ploomber"), "status"],
        cwd=project, env=build_env(home), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert all(task in result.stdout for task in TASKS)
