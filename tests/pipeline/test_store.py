"""The model store seen from `ploomber build` (issues 14.3 and 15.11): the gate's full
decision on the build's console, a rebuild of the same commit, parameters and data that
registers nothing, and a build that waits for the model's lock and says for what."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from projectkit import BIN, build_env, copy_project, models_in, ploomber_build

pytestmark = pytest.mark.pipeline


def git(project, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   cwd=project, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """A copy of the project committed to its own git repository, built once."""
    project = copy_project(tmp_path_factory.mktemp("store") / "project")
    (project / ".gitignore").write_text("products-smoke/\nbentoml-home/\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "the project")
    home = project / "bentoml-home"
    result = ploomber_build(project, home)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return project, home, result


def registration(project):
    return json.loads((project / "products-smoke/model/registration.json").read_text())


def test_the_build_shows_the_full_gate_decision(committed):
    project, _, result = committed
    tag = registration(project)["tag"]
    assert f"register: {tag}: gate decision: promote: first model" in result.stderr
    assert "  primary roc_auc: candidate roc_auc=" in result.stderr
    assert "  guard calibration_error: candidate calibration_error=" in result.stderr
    assert "gate decision:" in registration(project)["decision"]


def test_a_rebuild_of_the_same_inputs_registers_nothing(committed):
    project, home, _ = committed
    before = registration(project)["tag"]
    result = ploomber_build(project, home, "--force")
    assert result.returncode == 0, result.stderr[-3000:]
    assert models_in(home) == [before]
    assert registration(project)["tag"] == before
    assert f"gate decision: unchanged: same code, parameters and data as {before} (production)" \
        in result.stderr


def test_a_build_waits_for_the_model_lock_and_says_for_what(committed):
    project, home, _ = committed
    env = build_env(home)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys
        from nbprod.registry.storelock import model_lock
        with model_lock("telco_churn", "nbprod promote (held by the test)"):
            print("held", flush=True)
            sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "held"
    build = subprocess.Popen([str(BIN / "ploomber"), "task", "register", "--force"], cwd=project,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, deadline = [], time.monotonic() + 300
    while time.monotonic() < deadline:
        line = build.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "waiting for it" in line:
            break
    waited = "".join(seen)
    assert f"is locked by pid {holder.pid}: nbprod promote (held by the test)" in waited, waited[-3000:]
    assert "before: register and gate a candidate" in waited
    assert build.poll() is None  # still waiting
    holder.stdin.write("go\n")
    holder.stdin.flush()
    holder.wait(30)
    rest, _ = build.communicate(timeout=300)
    assert build.returncode == 0, rest[-3000:]
    assert "lock acquired after" in rest
