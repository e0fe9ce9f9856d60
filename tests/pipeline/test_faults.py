"""Faults in the middle of a real build: a notebook that raises, a build killed with
SIGKILL, corrupt inputs. Nothing is lost and nothing half-done is taken for complete."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import nbformat
import pytest

from projectkit import (
    BIN,
    build_env,
    models_in,
    ploomber_build,
    smoke_build,
    tasks_that_ran,
    wait_until,
)

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    project, _, _ = smoke_build(tmp_path_factory.mktemp("built") / "project")
    return project


@pytest.fixture
def built(built_once, tmp_path):
    """A private copy of one finished build (products, metadata and model store)."""
    project = tmp_path / "project"
    shutil.copytree(built_once, project, symlinks=True)
    return project, project / "bentoml-home"


def snapshot(project, *relative):
    return {r: (project / r).stat().st_mtime_ns for r in relative}


UPSTREAM_OF_TRAIN = [
    "products-smoke/data/train.parquet",
    "products-smoke/data/.train.parquet.metadata",
    "products-smoke/model/feature_schema.json",
]


def test_a_notebook_that_raises_in_its_fifth_cell(built):
    project, home = built
    source = project / "notebooks/train.ipynb"
    good = source.read_text()
    nb = nbformat.reads(good, as_version=4)
    assert len(nb.cells) > 5
    nb.cells[4].source = 'raise ValueError("broken on purpose")\n' + nb.cells[4].source
    nbformat.write(nb, source)
    before = snapshot(project, *UPSTREAM_OF_TRAIN)

    result = ploomber_build(project, home)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error when executing task 'train'" in out
    assert "notebooks/train.ipynb" in out
    assert "broken on purpose" in out
    # the partially executed notebook is kept, with the error visible in it
    partial = nbformat.read(project / "products-smoke/reports/train.ipynb", as_version=4)
    errors = [c for c in partial.cells if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert errors and "broken on purpose" in json.dumps(errors[0].outputs)
    assert snapshot(project, *UPSTREAM_OF_TRAIN) == before  # upstream untouched

    source.write_text(good)  # the fix
    result = ploomber_build(project, home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert tasks_that_ran(result.stdout) == {"train", "evaluate", "register", "score"}


def test_a_build_killed_mid_task_is_not_taken_for_complete(built):
    project, home = built
    marker = project / "products-smoke/reports/ingest.ipynb"
    started = marker.stat().st_mtime_ns
    proc = subprocess.Popen(
        [str(BIN / "ploomber"), "build", "--force"], cwd=project, env=build_env(home),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    def features_running() -> bool:  # ingest done: features is running now
        assert proc.poll() is None, "build ended before the kill"
        return marker.stat().st_mtime_ns != started

    wait_until(features_running, 120, "the ingest task never finished", interval=0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)

    result = ploomber_build(project, home)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = tasks_that_ran(result.stdout)
    assert {"features", "train", "evaluate", "register", "score"} <= ran, result.stdout
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert registration["tag"].startswith("telco_churn:")
    again = ploomber_build(project, home)
    assert tasks_that_ran(again.stdout) == set()


def test_a_corrupt_model_artifact_stops_the_build_and_keeps_production(built):
    project, home = built
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    (project / "products-smoke/model/model.skops").write_bytes(b"not a skops file")
    # a parameter change makes evaluate and register run on the corrupt artifact
    result = ploomber_build(project, home, "--env--threshold", "0.3")
    assert result.returncode != 0
    assert "Error when executing task 'evaluate'" in result.stdout + result.stderr
    assert models_in(home) == [registration["tag"]]


def test_a_corrupt_model_store_entry_stops_registration(built):
    project, home = built
    registration = json.loads((project / "products-smoke/model/registration.json").read_text())
    name, version = registration["tag"].split(":")
    model_yaml = home / "models" / name / version / "model.yaml"
    model_yaml.write_text("name: [unclosed\n")
    result = ploomber_build(project, home, "--env--threshold", "0.3")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error when executing task 'register'" in out
    assert "model.yaml" in out
    kept = json.loads((project / "products-smoke/model/registration.json").read_text())
    assert kept["tag"] == registration["tag"]
    assert model_yaml.read_text() == "name: [unclosed\n"  # never overwritten


def test_a_corrupt_task_metadata_file_stops_the_build_naming_it(built):
    project, home = built
    registration = (project / "products-smoke/model/registration.json").read_text()
    metadata = project / "products-smoke/model/.model.skops.metadata"
    metadata.write_text("{not json")
    result = ploomber_build(project, home, "--env--threshold", "0.3")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and tasks_that_ran(result.stdout) == set()
    assert "Error loading JSON metadata" in out and ".model.skops.metadata" in out
    assert (project / "products-smoke/model/registration.json").read_text() == registration
    assert models_in(home) == [json.loads(registration)["tag"]]
