"""Two `ploomber build` runs started at once in one project folder, on the smoke sample and
one temporary store: the second waits for the first's build lock, says so, and then finds
every product up to date; one model is registered and promoted; no product is corrupted."""

from __future__ import annotations

import json
import subprocess

import nbformat
import pandas as pd
import pytest

from projectkit import (
    BIN,
    TASKS,
    bentoml_cli,
    build_env,
    copy_project,
    models_in,
    ploomber_build,
    tasks_that_ran,
)

pytestmark = pytest.mark.pipeline



def test_two_builds_in_one_folder_build_once_and_the_second_says_what_it_waits_for(tmp_path):
    # not a git repository: the model has no fingerprint, so a second registration of the
    # same inputs would not be recognised as unchanged; only the build lock prevents it
    project = copy_project(tmp_path / "project")
    home = project / "bentoml-home"
    builds = [subprocess.Popen([str(BIN / "ploomber"), "build"], cwd=project,
                               env=build_env(home), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [build.communicate(timeout=900) for build in builds]
    for build, (out, err) in zip(builds, outputs, strict=True):
        assert build.returncode == 0, out[-2000:] + err[-3000:]

    said = [out + err for out, err in outputs]
    waited = [i for i, text in enumerate(said) if "waiting for it before: ploomber build" in text]
    assert len(waited) == 1, [text[-3000:] for text in said]
    second = waited[0]
    first = 1 - second
    assert f"is locked by pid {builds[first].pid}: ploomber build" in said[second]
    assert "lock acquired after" in said[second]
    assert "up to date after the other build: " in said[second]
    assert tasks_that_ran(outputs[first][0]) == set(TASKS)
    assert tasks_that_ran(outputs[second][0]) == set()

    tags = models_in(home)
    assert len(tags) == 1, tags
    info = bentoml_cli(home, "models", "get", tags[0])
    assert info["labels"]["stage"] == "production"
    events = [e["event"] for e in info["metadata"]["lifecycle"]]
    assert events.count("registered") == 1 and events.count("promoted") == 1, events

    products = project / "products-smoke"
    registration = json.loads((products / "model/registration.json").read_text())
    assert registration["tag"] == tags[0]
    clean = pd.read_parquet(products / "data/clean.parquet")
    train = pd.read_parquet(products / "data/train.parquet")
    test = pd.read_parquet(products / "data/test.parquet")
    scores = pd.read_parquet(products / "predictions/scores.parquet")
    assert len(clean) == len(train) + len(test) == len(scores) == 600
    assert set(scores["model"].astype(str)) == {tags[0]}
    for task in TASKS:
        nbformat.validate(nbformat.read(products / "reports" / f"{task}.ipynb", as_version=4))
    json.loads((products / "model/metrics.json").read_text())

    again = ploomber_build(project, home)  # the metadata of what ran is whole and consistent
    assert again.returncode == 0, again.stderr[-3000:]
    assert tasks_that_ran(again.stdout) == set()
    assert models_in(home) == tags
