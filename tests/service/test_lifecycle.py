"""Promotion and rollback change what a freshly started service answers; a tampered
model artifact or model.yaml stops `bentoml serve` with one line."""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest

from projectkit import BIN, SERVED, free_port, ploomber_build, stop

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
    assert probabilities == pytest.approx(predictions[second]["probability"].tolist(), abs=SERVED, rel=0)

    nbprod(copy, "rollback", "--name", "telco_churn")
    bento_after = nbprod(copy, "bento").stdout.strip()
    assert bento_after != bento
    version, probabilities, header = answers(copy, bento_after)
    assert version == header == first
    assert probabilities == pytest.approx(predictions[first]["probability"].tolist(), abs=SERVED, rel=0)


def serve_until_exit(copy: Project, target: str, **env: str) -> tuple[int | None, list[str]]:
    """Run `bentoml serve TARGET` and wait for it to end by itself: (exit status, its lines)."""
    proc = subprocess.Popen(
        [str(BIN / "bentoml"), "serve", target, "--host", "127.0.0.1", "--port", str(free_port())],
        cwd=copy.path, env=copy.env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        stop(proc)
        out, _ = proc.communicate()
        return None, out.splitlines()
    return proc.returncode, [line for line in out.splitlines() if line.strip()]


@pytest.fixture
def restored():
    """Files a test damages, put back afterwards for the next test of the module."""
    saved: dict = {}
    yield lambda path: saved.setdefault(path, path.read_bytes())
    for path, data in saved.items():
        path.write_bytes(data)


def test_a_truncated_artifact_stops_bentoml_serve_with_one_line(two_models, restored):
    copy, predictions = two_models
    tag = list(predictions)[0]
    name, version = tag.split(":")
    artifact = copy.home / "models" / name / version / "model.skops"
    artifact.write_bytes(restored(artifact)[:-100])  # truncated
    status, lines = serve_until_exit(copy, "nbprod.serving.service:ModelService", NBPROD_MODEL_TAG=tag)
    assert status == 1, lines[-20:]  # exits by itself: no worker crash-loop
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: cannot serve {tag}: model {tag}: artifact ")
    assert "modified or truncated, refusing to load it" in lines[0]


def test_a_broken_trust_file_stops_bentoml_serve_with_one_line(two_models, restored):
    copy, predictions = two_models
    tag = list(predictions)[0]
    trust = copy.path / "trust.yaml"
    restored(trust)
    trust.write_text("libraries: [tensorflow]\n")
    status, lines = serve_until_exit(copy, "nbprod.serving.service:ModelService", NBPROD_MODEL_TAG=tag)
    assert status == 1, lines[-20:]
    assert lines == [f"error: cannot serve {tag}: {trust.resolve()}: no reviewed list for librar(ies) "
                     "['tensorflow']; nbprod has lists for ['catboost', 'lightgbm', 'sklearn', "
                     "'xgboost']. List their types under `types:`"], lines


def test_a_corrupt_model_yaml_stops_the_bento_naming_the_file(two_models, restored):
    copy, predictions = two_models
    tag = list(predictions)[-1]
    bento = nbprod(copy, "bento", "--model", tag).stdout.strip()
    name, version = tag.split(":")
    info = copy.home / "models" / name / version / "model.yaml"
    info.write_bytes(restored(info).replace(b"metadata:", b"metadata: [", 1))
    status, lines = serve_until_exit(copy, bento)
    assert status not in (0, None), lines[-20:]
    text = "\n".join(lines)
    assert f"{info}: invalid YAML at line" in text and "the file is corrupt" in text, text[-3000:]
    assert "not found in module" not in text and "Traceback" not in text
