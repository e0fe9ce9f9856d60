"""`nbprod bento` on the project's bentofile, the built bento served by its tag, and the
bento's own Python environment installed from scratch, as its Dockerfile would."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

import nbprod
from projectkit import BIN, ROOT, SERVED

from .conftest import bentoml_serve, nbprod_bento


def test_bento_bundles_the_model_the_toolkit_wheel_and_no_project_code(project, bento, tmp_path):
    archive = tmp_path / "churn.bento"
    subprocess.run([str(BIN / "bentoml"), "export", bento, str(archive)],
                   env=project.env(), check=True, capture_output=True, timeout=120)
    name, version = project.tag.split(":")
    with tarfile.open(archive) as tar:
        members = set(tar.getnames())
        info = yaml.safe_load(tar.extractfile("./bento.yaml"))
    wheel = f"./env/python/wheels/nbprod-{nbprod.__version__}-py3-none-any.whl"
    assert {f"./models/{name}/{version}/model.skops", "./env/docker/Dockerfile", wheel,
            "./src/products/model/registration.json"} <= members
    assert not [m for m in members if m.startswith(("./src/nbprod", "./src/churn", "./src/data"))]
    assert [m["tag"] for m in info["services"][0]["models"]] == [project.tag]
    # frozen: the bento serves what it holds, under the bentofile's name
    assert info["args"] == {"model_tag": project.tag, "service_name": "churn"}


def test_a_second_call_selects_the_same_bento(project, bento):
    again = nbprod_bento(project.path, project.env())
    assert again.returncode == 0 and again.stdout.strip() == bento
    assert "selected bento" in again.stderr


def test_bento_python_packages_are_the_lock_pins():
    bentofile = yaml.safe_load((ROOT / "bentofile.yaml").read_text())
    lock = dict(line.split("==") for line in (ROOT / "requirements.lock.txt").read_text().split()
                if "==" in line)
    lock = {k.lower().replace("_", "-"): v for k, v in lock.items()}
    for requirement in bentofile["python"]["packages"]:
        name, version = requirement.split("==")
        assert lock.get(name.lower()) == version, requirement
    assert bentofile["python"]["wheels"] == [f"build/wheels/nbprod-{nbprod.__version__}-py3-none-any.whl"]


def test_the_built_bento_served_by_its_tag_matches_the_evaluation(project, bento, tmp_path):
    rows, expected = project.test_rows()
    # from another folder: the bento needs nothing from the project but the model store
    with bentoml_serve(bento, tmp_path, project.env()) as client:
        batch = client.post("/predict_batch", json={"customers": rows})
        with ThreadPoolExecutor(8) as pool:
            single = list(pool.map(lambda r: client.post("/predict", json={"customer": r}), rows))
        version = client.post("/metadata", json={}).json()["model_version"]
    assert batch.status_code == 200, batch.text
    assert [p["probability"] for p in batch.json()] == pytest.approx(expected, abs=SERVED, rel=0)
    assert [r.json()["probability"] for r in single] == pytest.approx(expected, abs=SERVED, rel=0)
    assert version == project.tag


def test_a_served_bento_has_no_delay_knob(project, bento, tmp_path):
    """The tests' ``x-debug-delay-ms`` (tests/service/delaying.py) is not in nbprod: a bento
    served with the variable that once switched it on ignores the header. A 1 s time limit
    turns an honoured 3 s delay into a 504."""
    env = project.env(NBPROD_DEBUG_DELAY="1", NBPROD_REQUEST_TIMEOUT="1")
    with bentoml_serve(bento, tmp_path, env) as client:
        answers = [client.post("/metadata", json={}, headers={"x-debug-delay-ms": "3000"})
                   for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert all(a.json()["model_version"] == project.tag for a in answers)


def test_a_project_under_a_hidden_folder_builds_its_bento(project, tmp_path):
    """BentoML 1.4.40 refuses a bentofile whose absolute path has a part starting with "."
    (the bug, shown by plain `bentoml build`); `nbprod bento` builds from a staged copy."""
    hidden = tmp_path / ".jenkins" / "workspace" / "proj"
    hidden.mkdir(parents=True)
    for name in ("bentofile.yaml", "products/model/registration.json"):
        (hidden / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project.path / name, hidden / name)
    plain = subprocess.run(
        [str(BIN / "bentoml"), "build", "--output", "tag", "--arg", f"model_tag={project.tag}"],
        cwd=hidden, env=project.env(), capture_output=True, text=True, timeout=300)
    assert plain.returncode != 0 and "hidden files" in plain.stdout + plain.stderr
    ours = nbprod_bento(hidden, project.env(), "--build")
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert re.fullmatch(r"churn:\w+", ours.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(900)
def test_the_bento_environment_alone_serves_it(project, bento, tmp_path):
    """What the bento's Dockerfile installs (its requirements and its wheels), in a fresh
    virtual environment with nothing else, serves the bento: nbprod and the project's own
    package come from its wheels."""
    import os

    home = project.home
    bento_dir = Path(home) / "bentos" / bento.replace(":", "/")
    env_dir = bento_dir / "env" / "python"
    venv = tmp_path / "bento-venv"
    subprocess.run([str(Path(BIN / "python").resolve()), "-m", "venv", str(venv)], check=True,
                   timeout=300)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(env_dir / "requirements.txt")], check=True, timeout=900)
    subprocess.run([*pip, *map(str, (env_dir / "wheels").glob("*.whl"))], check=True, timeout=300)
    probe = subprocess.run([str(venv / "bin/python"), "-c",
                            "import nbprod, sys; print(nbprod.__file__)"],
                           capture_output=True, text=True, check=True)
    assert str(venv) in probe.stdout and str(ROOT) not in probe.stdout
    # the project's own package (trust.yaml's packages) comes from the bento's wheel too
    own = subprocess.run([str(venv / "bin/python"), "-c", "import churn; print(churn.__file__)"],
                         capture_output=True, text=True, check=True)
    assert str(venv) in own.stdout and str(ROOT) not in own.stdout
    rows, expected = project.test_rows()
    env = {**project.env(), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    with bentoml_serve(bento, tmp_path, env, bentoml=venv / "bin" / "bentoml") as client:
        answer = client.post("/predict", json={"customer": rows[0]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["probability"] == pytest.approx(expected[0], abs=SERVED, rel=0)
