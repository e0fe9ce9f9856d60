"""`bentoml build` with the project's bentofile, and the built bento served by its tag."""

from __future__ import annotations

import subprocess
import tarfile
import tomllib
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from projectkit import BIN, ROOT

from .conftest import bentoml_serve


def test_bento_bundles_the_registered_model_and_a_dockerfile(project, bento, tmp_path):
    archive = tmp_path / "churn.bento"
    subprocess.run([str(BIN / "bentoml"), "export", bento, str(archive)],
                   env=project.env(), check=True, capture_output=True, timeout=120)
    name, version = project.tag.split(":")
    with tarfile.open(archive) as tar:
        members = set(tar.getnames())
        info = yaml.safe_load(tar.extractfile("./bento.yaml"))
    assert f"./models/{name}/{version}/model.joblib" in members
    assert "./env/docker/Dockerfile" in members
    assert {"./src/churn/service.py", "./src/nbprod/serving.py",
            "./src/products/model/registration.json"} <= members
    assert [m["tag"] for m in info["services"][0]["models"]] == [project.tag]
    assert info["args"] == {"model_tag": project.tag}  # frozen: the bento serves what it holds


def test_bento_python_packages_are_the_project_pins():
    bentofile = yaml.safe_load((ROOT / "bentofile.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(r.split("==") for r in project["dependencies"])
    for requirement in bentofile["python"]["packages"]:
        name, version = requirement.split("==")
        assert pins.get(name) == version, requirement


def test_the_built_bento_served_by_its_tag_matches_the_evaluation(project, bento, tmp_path):
    rows, expected = project.test_rows()
    # from another folder: the bento needs nothing from the project but the model store
    with bentoml_serve(bento, tmp_path, project.env()) as client:
        batch = client.post("/predict_batch", json={"customers": rows})
        with ThreadPoolExecutor(8) as pool:
            single = list(pool.map(lambda r: client.post("/predict", json={"customer": r}), rows))
        version = client.post("/metadata", json={}).json()["model_version"]
    assert batch.status_code == 200, batch.text
    assert [p["probability"] for p in batch.json()] == pytest.approx(expected, abs=1e-9, rel=0)
    assert [r.json()["probability"] for r in single] == pytest.approx(expected, abs=1e-9, rel=0)
    assert version == project.tag
