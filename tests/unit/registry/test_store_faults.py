"""The store under faults: a SIGKILL at each point of a
production switch, two writers at once, a rebuild of the same inputs. Real processes
on a real BentoML store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from nbprod import register_model
from nbprod.cli import main
from nbprod.registry.lifecycle import (
    PRODUCTION,
    GatePolicy,
    history,
    production,
    promote,
    register_and_gate,
    stage_of,
    versions,
)
from nbprod.registry.storelock import lock_path, model_lock

POLICY = GatePolicy.from_dict({"metric": "roc_auc", "tolerance": 0.01, "floor": 0.5})


def toy():
    return LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])


def labelled_production(name):
    return [str(m.tag) for m in versions(name) if stage_of(m) == PRODUCTION]


# A real process that runs one lifecycle operation and SIGKILLs itself at the K-th point
# of the switch: each model.yaml replacement is preceded by "its temporary file is written"
# and followed by "it is in place".
KILLER = textwrap.dedent("""
    import os, signal, sys
    from nbprod.registry import lifecycle
    op, arg, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    points = iter(range(100))
    real_replace = os.replace
    def point():
        if next(points) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    def replace(src, dst):
        point()
        real_replace(src, dst)
        point()
    os.replace = replace
    getattr(lifecycle, op)(arg)
    print("completed")
""")


def run_and_kill(op: str, arg: str, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILLER, op, arg, str(kill_at)],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


@pytest.mark.parametrize("kill_at, expected", [
    (0, "old"),  # the new version's model.yaml written aside, not yet in place
    (1, "new"),  # the new version is in place; the old one still says production
    (2, "new"),  # ... and the old one's new model.yaml is written aside
    (3, "new"),  # both in place: the switch is complete
    (99, "new"),  # no kill
])
def test_a_kill_at_each_point_of_a_promotion_leaves_one_production(model_name, kill_at, expected):
    old, new = register_model(model_name, toy(), {}), register_model(model_name, toy(), {})
    promote(old)
    result = run_and_kill("promote", new, kill_at)
    assert (result.returncode == -9) == (kill_at < 99), result.stderr
    want = {"old": old, "new": new}[expected]
    assert str(production(model_name).tag) == want  # what every reader sees
    if kill_at in (1, 2):
        assert sorted(labelled_production(model_name)) == sorted([old, new])  # the torn state
    promote(want)  # the next change under the lock completes the interrupted switch
    assert labelled_production(model_name) == [want]
    assert str(production(model_name).tag) == want


@pytest.mark.parametrize("kill_at", [0, 1, 2, 3])
def test_a_kill_at_each_point_of_a_rollback_leaves_one_production(model_name, kill_at):
    first, second = register_model(model_name, toy(), {}), register_model(model_name, toy(), {})
    promote(first)
    promote(second)
    result = run_and_kill("rollback", model_name, kill_at)
    assert result.returncode == -9, result.stderr
    assert str(production(model_name).tag) == (second if kill_at == 0 else first)
    assert len({str(production(model_name).tag)}) == 1


def test_a_killed_lock_holder_releases_the_lock(model_name):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from nbprod.registry.storelock import model_lock
        with model_lock({model_name!r}, "hold it"):
            print("held", flush=True)
            time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert holder.stdout.readline().strip() == "held"
    assert "hold it" in lock_path(model_name).read_text()
    holder.kill()
    holder.wait()
    started = time.monotonic()
    with model_lock(model_name, "after the kill"):
        pass
    assert time.monotonic() - started < 30


def test_a_second_writer_waits_and_is_told_for_what(model_name, caplog):
    tag = register_model(model_name, toy(), {})
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from nbprod.registry.storelock import model_lock
        with model_lock({model_name!r}, "register and gate a candidate"):
            print("held", flush=True)
            sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert holder.stdout.readline().strip() == "held"
    from threading import Timer
    Timer(2.0, lambda: (holder.stdin.write("go\n"), holder.stdin.flush())).start()
    with caplog.at_level("WARNING", logger="nbprod.registry.storelock"):
        promote(tag)
    holder.wait(30)
    waited = [r.getMessage() for r in caplog.records if "waiting for it" in r.getMessage()]
    assert len(waited) == 1
    assert f"pid {holder.pid}: register and gate a candidate" in waited[0]
    assert f"before: promote {tag}" in waited[0]
    assert labelled_production(model_name) == [tag]


LINEAGE = {
    "git": {"commit": "0123abcd", "dirty": False},
    "parameters": {"train": {"estimator": "logistic_regression", "seed": 42}},
    "data": {"raw_data": {"path": "data/raw.csv", "sha256": "ab" * 32}},
}


def test_a_rebuild_of_the_same_inputs_registers_nothing_and_keeps_production(model_name, caplog):
    first, d1 = register_and_gate(model_name, toy(), {**LINEAGE, "metrics": {"roc_auc": 0.84}}, POLICY)
    assert d1.promote
    with caplog.at_level("INFO", logger="nbprod.registry.lifecycle"):
        again, d2 = register_and_gate(model_name, toy(), {**LINEAGE, "metrics": {"roc_auc": 0.84}},
                                      POLICY)
    assert again == first and d2.unchanged and not d2.promote
    assert f"same code, parameters and data as {first} (production)" in d2.reason
    assert len(versions(model_name)) == 1
    assert [e["event"] for e in history(model_name)] == ["registered", "promoted"]
    assert any("gate decision: unchanged" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("change", [
    lambda m: m["parameters"]["train"].update(seed=7),
    lambda m: m["data"]["raw_data"].update(sha256="cd" * 32),
    lambda m: m["git"].update(commit="4567ef01"),
    lambda m: m["git"].update(dirty=True),  # uncommitted edits: the code is not identified
])
def test_a_changed_input_is_a_new_candidate(model_name, change):
    register_and_gate(model_name, toy(), {**LINEAGE, "metrics": {"roc_auc": 0.84}}, POLICY)
    meta = json.loads(json.dumps({**LINEAGE, "metrics": {"roc_auc": 0.80}}))
    change(meta)
    tag, decision = register_and_gate(model_name, toy(), meta, POLICY)
    assert not decision.unchanged and len(versions(model_name)) == 2
    assert not decision.promote  # 0.80 is worse than 0.84 by more than 0.01


def test_without_git_every_build_is_registered(model_name):
    meta = {**LINEAGE, "git": {"commit": "unknown", "dirty": "unknown"}, "metrics": {"roc_auc": 0.84}}
    register_and_gate(model_name, toy(), meta, POLICY)
    _, decision = register_and_gate(model_name, toy(), meta, POLICY)
    assert not decision.unchanged and len(versions(model_name)) == 2


def test_models_list_shows_the_metrics_the_models_record(model_name):
    gate = {"metric": "pr_auc", "guards": {"brier": {"tolerance": 0.01, "higher_is_better": False}}}
    register_model(model_name, toy(), {"metrics": {"pr_auc": 0.61, "brier": 0.13, "rmse": 2.0}})
    register_model(model_name, toy(), {"metrics": {"pr_auc": 0.62, "brier": 0.12}, "gate": gate})
    listed = CliRunner().invoke(main, ["models", "list", "--name", model_name])
    assert listed.exit_code == 0, listed.output
    header = next(line for line in listed.output.splitlines() if "version" in line)
    assert "pr_auc ↑" in header and "brier ↓" in header and "roc_auc" not in header
    assert "0.6200" in listed.output and "0.1300" in listed.output
    plain = register_model(f"{model_name}_plain", toy(), {"metrics": {"rmse": 2.5, "mae": 1.25}})
    listed = CliRunner().invoke(main, ["models", "list", "--name", plain.split(":")[0]])
    assert "rmse ↓" in listed.output and "mae ↓" in listed.output and "2.5000" in listed.output
    chosen = CliRunner().invoke(main, ["models", "list", "--name", model_name, "--metrics", "rmse"])
    assert "rmse" in chosen.output and "pr_auc" not in chosen.output and "2.0000" in chosen.output


def test_score_needs_a_production_version(model_name, tmp_path, monkeypatch):
    register_model(model_name, toy(), {})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "env.yaml").write_text(f"model_name: {model_name}\n")
    (tmp_path / "in.csv").write_text("x\n1\n")
    result = CliRunner().invoke(main, ["score", "in.csv", "out.parquet"])
    assert result.exit_code == 1
    assert f"model {model_name!r} has no production version" in result.output
    assert not Path(tmp_path / "out.parquet").exists()


def test_a_waiter_that_comes_before_the_holder_wrote_its_line_still_names_it(model_name, caplog):
    # the holder has the flock but writes who it is a moment later: the waiter reads again
    path = lock_path(model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        with open({str(path)!r}, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            print("flocked", flush=True)
            time.sleep(0.5)
            fh.write(f"pid {{os.getpid()}}: a slow holder\\n")
            fh.flush()
            sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "flocked"
    from threading import Timer
    Timer(1.5, lambda: (holder.stdin.write("go\n"), holder.stdin.flush())).start()
    with caplog.at_level("WARNING", logger="nbprod.registry.storelock"):
        with model_lock(model_name, "after the slow holder"):
            pass
    holder.wait(30)
    waited = [r.getMessage() for r in caplog.records if "waiting for it" in r.getMessage()]
    assert len(waited) == 1 and f"pid {holder.pid}: a slow holder" in waited[0], waited
