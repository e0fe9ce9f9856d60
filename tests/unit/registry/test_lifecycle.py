"""Gate, promotion, rollback and lineage against a real BentoML store."""

import multiprocessing
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from nbprod import ConfigError, ModelStoreError, get_model, register_model
from nbprod.cli import main
from nbprod.pipeline.summary import version_record
from nbprod.registry.lifecycle import (
    ARCHIVED,
    CANDIDATE,
    PRODUCTION,
    GatePolicy,
    history,
    judge,
    production,
    promote,
    register_and_gate,
    rollback,
    stage_of,
)
from nbprod.registry.lineage import sha256_file
from nbprod.registry.trace import broken, trace

POLICY = GatePolicy(metric="roc_auc", tolerance=0.01, floor=0.8)


def toy():
    return LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])


def stages(name):
    from nbprod.registry.lifecycle import versions

    return [stage_of(m) for m in versions(name)]


# -- the gate, a pure function ------------------------------------------------------------

def test_first_model_is_promoted_when_it_passes_the_floor():
    assert judge({"roc_auc": 0.85}, None, POLICY).promote
    d = judge({"roc_auc": 0.79}, None, POLICY)
    assert not d.promote and "roc_auc=0.7900 (higher is better): does not pass the floor 0.8" in d.reason


def test_candidate_within_tolerance_is_promoted_and_a_worse_one_is_not():
    assert judge({"roc_auc": 0.845}, {"roc_auc": 0.85}, POLICY).promote
    d = judge({"roc_auc": 0.83}, {"roc_auc": 0.85}, POLICY)
    assert not d.promote
    assert "0.8300" in d.reason and "0.8500" in d.reason  # names both values


def test_lower_is_better_metrics():
    policy = GatePolicy(metric="log_loss", tolerance=0.0, floor=0.5, higher_is_better=False)
    assert judge({"log_loss": 0.40}, {"log_loss": 0.42}, policy).promote
    assert not judge({"log_loss": 0.45}, {"log_loss": 0.42}, policy).promote
    assert not judge({"log_loss": 0.6}, None, policy).promote


def test_bad_gate_configuration_is_named():
    with pytest.raises(ConfigError, match="unknown key"):
        GatePolicy.from_dict({"metric": "roc_auc", "treshold": 1})
    with pytest.raises(ConfigError, match="tolerance must be >= 0"):
        GatePolicy.from_dict({"tolerance": -1})
    with pytest.raises(ConfigError, match="gate metric 'auc' is not among"):
        judge({"roc_auc": 0.9}, None, GatePolicy(metric="auc", higher_is_better=True))


# -- promotion and rollback in the store --------------------------------------------------

def test_register_and_gate(model_name):
    first, d1 = register_and_gate(model_name, toy(), {"metrics": {"roc_auc": 0.85}}, POLICY)
    assert d1.promote and str(production(model_name).tag) == first
    worse, d2 = register_and_gate(model_name, toy(), {"metrics": {"roc_auc": 0.80}}, POLICY)
    assert not d2.promote
    assert stage_of(get_model(worse)) == CANDIDATE
    assert str(production(model_name).tag) == first
    events = [(e["tag"], e["event"]) for e in history(model_name)]
    assert events == [(first, "registered"), (first, "promoted"), (worse, "registered"),
                      (worse, "not_promoted")]


def test_promote_archives_the_previous_and_rollback_walks_back(model_name):
    a = register_model(model_name, toy(), {})
    b = register_model(model_name, toy(), {})
    c = register_model(model_name, toy(), {})
    for tag in (a, b, c):
        promote(tag)
    assert stages(model_name) == [ARCHIVED, ARCHIVED, PRODUCTION]
    assert rollback(model_name) == b
    assert stages(model_name) == [ARCHIVED, PRODUCTION, ARCHIVED]
    assert rollback(model_name) == a
    with pytest.raises(ModelStoreError, match="nothing to roll back to"):
        rollback(model_name)
    assert str(production(model_name).tag) == a


def test_rollback_without_production_is_a_clear_error(model_name):
    register_model(model_name, toy(), {})
    with pytest.raises(ModelStoreError, match="no production version"):
        rollback(model_name)


def _promote_many(tags, home, n):
    os.environ["BENTOML_HOME"] = home
    for i in range(n):
        promote(tags[i % len(tags)], reason=f"race {os.getpid()} {i}")


def test_concurrent_promotions_leave_exactly_one_production(model_name, bentoml_home):
    tags = [register_model(model_name, toy(), {}) for _ in range(3)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_promote_many, args=(tags[i:] + tags[:i], str(bentoml_home), 15))
             for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert stages(model_name).count(PRODUCTION) == 1
    events = history(model_name)
    promoted = [e for e in events if e["event"] == "promoted"]
    demoted = [e for e in events if e["event"] == "demoted"]
    assert len(promoted) == len(demoted) + 1  # every promotion but the first replaced one
    # a switch writes the new version's "promoted" first, then the old one's "demoted"
    assert events[-1]["event"] == "demoted"
    assert str(production(model_name).tag) == promoted[-1]["tag"]


# -- lineage ------------------------------------------------------------------------------

def test_lineage_reports_every_link_and_a_modified_data_file(model_name, tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "nb.ipynb").write_text("{}")
    meta = {
        "metrics": {"roc_auc": 0.9},
        "git": {"commit": "abc123", "dirty": False},
        "notebooks": {"train": {"path": "nb.ipynb", "sha256": sha256_file(tmp_path / "nb.ipynb")}},
        "data": {"raw_data": {"path": "data.csv", "sha256": sha256_file(tmp_path / "data.csv")}},
    }
    tag = register_model(model_name, toy(), meta)
    links = trace(tag, tmp_path)
    assert [link["level"] for link in links] == ["model", "run", "notebook", "data"]
    assert all(link["status"] in ("ok", "recorded") for link in links)
    assert broken(links) == []
    result = CliRunner().invoke(main, ["lineage", tag, "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (tmp_path / "data.csv").write_text("a,b\n1,3\n")
    assert trace(tag, tmp_path)[-1]["status"] == "modified"
    assert [(b["level"], b["status"]) for b in broken(trace(tag, tmp_path))] == [("data", "modified")]
    result = CliRunner().invoke(main, ["lineage", tag, "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "data.csv (modified)" in result.output
    (tmp_path / "nb.ipynb").unlink()
    assert trace(tag, tmp_path)[2]["status"] == "missing"


def test_lineage_without_a_tag_checks_production(model_name, tmp_path):
    (tmp_path / "env.yaml").write_text(f"model_name: {model_name}\n")
    missing = CliRunner().invoke(main, ["lineage", "--root", str(tmp_path)])
    assert missing.exit_code == 1 and "has no production version" in missing.output
    tag, _ = register_and_gate(model_name, toy(), {"metrics": {"roc_auc": 0.9}}, POLICY)
    result = CliRunner().invoke(main, ["lineage", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"model     {tag}" in result.output and "stage production" in result.output


def test_cli_list_show_history_promote_rollback(model_name):
    a = register_model(model_name, toy(), {"metrics": {"roc_auc": 0.81}})
    b = register_model(model_name, toy(), {"metrics": {"roc_auc": 0.82}})
    def run(*args):
        return CliRunner().invoke(main, list(args))
    assert run("promote", a).exit_code == 0
    assert run("promote", b, "--reason", "better").exit_code == 0
    listed = run("models", "list", "--name", model_name)
    assert listed.exit_code == 0 and "production" in listed.output and "0.8200" in listed.output
    shown = run("models", "show", b)
    assert "stage: production" in shown.output and "roc_auc: 0.82" in shown.output
    record = version_record(b)
    assert list(record)[:3] == ["tag", "labels", "created"] and record["tag"] == b
    assert record["metrics"] == {"roc_auc": 0.82} and "gate" not in record
    assert [e["event"] for e in record["lifecycle"]][-1] == "promoted"
    rolled = run("rollback", "--name", model_name)
    assert rolled.exit_code == 0 and a in rolled.output
    hist = run("models", "history", "--name", model_name)
    assert len(re.findall(r" promoted +-> production", hist.output)) == 3
    assert "rolled_back" in hist.output and "better" in hist.output
    missing = run("models", "list", "--name", "no_such_model")
    assert missing.exit_code == 1 and "no version of model 'no_such_model'" in missing.output


def test_executed_notebooks_archived_in_the_model_outlive_a_rebuild(model_name, tmp_path):
    nb = tmp_path / "products/reports/train.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text('{"cells": []}')
    meta = {"notebooks": {"train": {"path": "products/reports/train.ipynb", "sha256": sha256_file(nb)}}}
    tag = register_model(model_name, toy(), meta, files={"reports/train.ipynb": nb})
    (link,) = [x for x in trace(tag, tmp_path) if x["level"] == "notebook"]
    assert link["status"] == "ok" and "files/reports/train.ipynb in the model" in link["detail"]
    nb.write_text('{"cells": [1]}')  # a later build overwrote the workspace report
    (link,) = [x for x in trace(tag, tmp_path) if x["level"] == "notebook"]
    assert link["status"] == "ok" and "workspace copy rebuilt since" in link["detail"]
    archived = get_model(tag).path_of("files/reports/train.ipynb")
    with open(archived, "a") as fh:
        fh.write(" ")
    (link,) = [x for x in trace(tag, tmp_path) if x["level"] == "notebook"]
    assert link["status"] == "modified"
