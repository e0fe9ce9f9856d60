"""Promotion and rollback change what a freshly started service answers; a tampered
model artifact keeps the service from starting."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pandas as pd
import pytest

from projectkit import BIN, ploomber_build, stop

from .conftest import Project, bentoml_serve


@pytest.fixture(scope="module")
def two_models(project, tmp_path_factory):
    """A private copy of the served project with a second, different model registered."""
    path = tmp_path_factory.mktemp("lifecycle") / "project"
    shutil.copytree(project.path, path, symlinks=True)
    copy = Project(path, path / "bentoml-home")
    first = copy.tag
    first_predictions = pd.read_parquet(path / "products-smoke/model/test_predictions.parquet")
    result = ploomber_build(path, copy.home, "--env--hyperparameters--logistic_regression--C", "0.05")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    second = json.loads((path / "products-smoke/model/registration.json").read_text())["tag"]
    second_predictions = pd.read_parquet(path / "products-smoke/model/test_predictions.parquet")
    assert second != first
    assert not second_predictions["probability"].equals(first_predictions["probability"])
    return copy, {first: first_predictions, second: second_predictions}


def nbprod(copy: Project, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "nbprod"), *args], cwd=copy.path, env=copy.env(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def answers(copy: Project, bento: str) -> tuple[str, list[float], str]:
    customers, _ = copy.test_rows()
    with bentoml_serve(bento, copy.path, copy.env()) as client:
        response = client.post("/predict_batch", json={"customers": customers})
    assert response.status_code == 200, response.text
    body = response.json()
    return body[0]["model_version"], [p["probability"] for p in body], response.headers["x-model-version"]


def test_promote_and_rollback_switch_what_a_fresh_service_answers(two_models):
    copy, predictions = two_models
    first, second = list(predictions)
    nbprod(copy, "promote", second)
    bento = nbprod(copy, "bento").stdout.strip()
    version, probabilities, header = answers(copy, bento)
    assert version == header == second
    assert probabilities == pytest.approx(predictions[second]["probability"].tolist(), abs=1e-9, rel=0)

    nbprod(copy, "rollback", "--name", "telco_churn")
    bento_after = nbprod(copy, "bento").stdout.strip()
    assert bento_after != bento
    version, probabilities, header = answers(copy, bento_after)
    assert version == header == first
    assert probabilities == pytest.approx(predictions[first]["probability"].tolist(), abs=1e-9, rel=0)


def test_a_tampered_artifact_keeps_the_service_from_starting(two_models):
    copy, predictions = two_models
    tag = list(predictions)[0]
    name, version = tag.split(":")
    artifact = copy.home / "models" / name / version / "model.joblib"
    artifact.write_bytes(artifact.read_bytes()[:-100])  # truncated
    log = copy.path / "tampered.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "bentoml"), "serve", "nbprod.service:ModelService", "--host", "127.0.0.1",
             "--port", "0"],
            cwd=copy.path, env=copy.env(NBPROD_MODEL_TAG=tag), stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if "refusing to load it" in log.read_text():
            break
        time.sleep(0.5)
    text = log.read_text()
    stop(proc)
    assert "modified or truncated, refusing to load it" in text, text[-3000:]
    assert "Application startup complete" not in text
