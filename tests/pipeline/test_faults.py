"""Faults in the middle of a real build: a notebook that raises, a build killed with
SIGKILL, corrupt inputs. Nothing is lost and nothing half-done is taken for complete, and
the reports say what failed (the index, looked at in a real headless Chromium)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess

import nbformat
import pandas as pd
import pytest
import yaml
from browser import network_requests, visit
from rowless import per_row_data

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


# -- the reports after a failed build, and the comparison page after a second version -----

INDEX_PROBES = {
    "banner": "document.querySelector('p.failed') && document.querySelector('p.failed').innerText",
    "failed_link": "[...document.querySelectorAll('a')].filter(a => a.href.endsWith("
                   "'train.failed.html')).length",
}


def test_the_index_says_the_build_failed_and_links_the_partial_notebook(built, tmp_path):
    project, home = built
    reports = project / "products-smoke" / "reports"
    source = project / "notebooks/train.ipynb"
    good = source.read_text()
    nb = nbformat.reads(good, as_version=4)
    nb.cells[-1].source += '\nraise ValueError("broken on purpose")\n'
    nbformat.write(nb, source)
    assert ploomber_build(project, home).returncode != 0

    page = (reports / "index.html").read_text()
    assert "The last build FAILED at task train" in page
    assert "Written" not in page  # no claim of a successful build
    failed = reports / "train.failed.html"
    assert "broken on purpose" in failed.read_text() and "This run of" in failed.read_text()
    assert re.search(r'href="train\.failed\.html">train\.failed\.html \(this failed run\)', page)
    assert "train.html</a> (last successful run)" in page
    assert page.count("not run: an upstream task failed") == 3  # evaluate, register, score
    builds = json.loads((reports / "builds.json").read_text())
    assert [b["outcome"] for b in builds] == ["succeeded", "failed at train"]

    seen = visit((reports / "index.html").as_uri(), INDEX_PROBES, height=900)
    assert network_requests(seen) == []
    assert seen.values["failed_link"] == 2  # the banner's and the task row's
    assert "FAILED at task train" in seen.values["banner"]
    (tmp_path / "index-failed.png").write_bytes(seen.screenshot)

    source.write_text(good)  # the fix
    assert ploomber_build(project, home).returncode == 0
    page = (reports / "index.html").read_text()
    assert "FAILED" not in page and not failed.exists()
    assert "by the last build, which succeeded" in page


def test_a_second_version_links_the_comparison_page_from_the_index(built, tmp_path):
    project, home = built
    reports = project / "products-smoke" / "reports"
    result = ploomber_build(project, home, "--env--split_seed", "7")
    assert result.returncode == 0, result.stderr[-3000:]
    page = (reports / "index.html").read_text()
    assert '<a href="compare.html">Compare the model versions</a>' in page
    # each version's reports one click away: both builds' copies, linked and there
    builds = json.loads((reports / "builds.json").read_text())
    assert [b["model"] is not None for b in builds] == [True, True]
    assert builds[0]["model"] != builds[1]["model"]
    for build in builds:
        version = build["model"].partition(":")[2]
        assert f"history/{version}/train.html" in build["reports"]
        assert f'href="history/{version}/train.html">train</a>' in page
        assert (reports / "history" / version / "train.html").is_file()
    # each version keeps its curves as aggregates, and no held-out row (the second build's
    # rows; the first build's were others of the same file)
    held = pd.read_parquet(project / "products-smoke/model/test_predictions.parquet")
    for build in builds:
        name, _, version = build["model"].partition(":")
        folder = home / "models" / name / version
        assert (folder / "files/evaluation/curves.json").is_file()
        metadata = yaml.safe_load((folder / "model.yaml").read_text())["metadata"]
        assert per_row_data(folder, metadata, len(held), held["probability"]) == []
    compare = (reports / "compare.html").read_text()
    assert compare.count('src="data:image/png;base64,') == 2  # both versions' curves drawn
    assert "No evaluation curves" not in compare
    assert "parameters</td><td>features.split_seed</td><td>7</td><td>42</td>" in compare
    assert not re.search(r"<script|https?://", compare)
    seen = visit((reports / "compare.html").as_uri(), height=1600)
    assert network_requests(seen) == []
    (tmp_path / "compare.png").write_bytes(seen.screenshot)
