"""Each test data set end to end, as a user goes: `nbprod new` -> `ploomber build` (the
smoke env) -> `nbprod bento` -> real `bentoml serve` of the bento on a free loopback port ->
a row of the data answered with a probability -> an unknown category and an out-of-range
value refused with a 4xx naming the field -> drift gauges on /metrics -> `nbprod check`.

One project per data set, built once and shared by the tests of that data set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from datasets import DATASETS, DataSet

from projectkit import BIN, bentoml_cli, bentoml_serve, generated_env, wait_until

pytestmark = pytest.mark.pipeline
WINDOW = 40


@dataclass
class Generated:
    ds: DataSet
    path: Path
    home: Path
    spec: dict

    def env(self, **extra: str) -> dict[str, str]:
        return {**generated_env(self.path, self.home), **extra}

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=self.path, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def row(self, i: int = 0) -> dict:
        """Row ``i`` of the raw data with no blank, renamed to the API's field names."""
        features = [c for c in self.spec["columns"] if c != self.spec["target"]]
        source = {c: self.spec["columns"][c].get("source", c) for c in features}
        raw = self.ds.frame[[source[c] for c in features]].dropna().astype(object).iloc[i]
        return {c: (v.item() if hasattr(v, "item") else v) for c, v in
                zip(features, raw.tolist(), strict=True)}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def generated(request, tmp_path_factory) -> Generated:
    ds = DATASETS[request.param]
    folder = tmp_path_factory.mktemp(f"e2e-{ds.name}")
    data = ds.write(folder, ".parquet" if ds.name == "machines" else ".csv")
    args = ["new", str(folder / ds.name), "--data", str(data), "--target", ds.target]
    if ds.positive is not None:
        args += ["--positive", ds.positive]
    result = subprocess.run([str(BIN / "nbprod"), *args], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    path = folder / ds.name
    spec = yaml.safe_load((path / "columns.yaml").read_text())
    gen = Generated(ds, path, folder / "bentoml-home", spec)
    build = gen.run("ploomber", "build")
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    # where `make run` leaves the registration, so `nbprod bento` finds the model
    (path / "products/model").mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json",
                 path / "products/model/registration.json")
    return gen


@pytest.fixture(scope="module")
def client(generated, tmp_path_factory):
    result = generated.run("nbprod", "bento")
    assert result.returncode == 0, result.stderr
    bento = result.stdout.strip().splitlines()[-1]
    assert bento.startswith(f"{generated.ds.name}:"), bento
    logs = tmp_path_factory.mktemp("prediction-log")
    env = generated.env(NBPROD_DRIFT_WINDOW=str(WINDOW), NBPROD_DRIFT_UPDATE_EVERY=str(WINDOW),
                        NBPROD_DRIFT_MIN_ROWS=str(WINDOW), NBPROD_PREDICTION_LOG_DIR=str(logs))
    with bentoml_serve(bento, generated.path, env, timeout=180) as client:
        yield client


def predict(client: httpx.Client, generated: Generated, row: dict) -> httpx.Response:
    return client.post("/predict", json={"record": row})


def test_the_model_is_registered_with_lineage(generated):
    registration = json.loads((generated.path / "products/model/registration.json").read_text())
    assert registration["tag"].startswith(f"{generated.ds.name}:")
    schema = json.loads((generated.path / "products-smoke/model/feature_schema.json").read_text())
    names = [f["name"] for f in schema["features"]]
    assert names == [c for c in generated.spec["columns"] if c != generated.spec["target"]]
    for header in generated.ds.dropped:
        assert header not in names
    # the lineage names the first commit nbprod new made, on a clean work tree
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=generated.path, capture_output=True,
                          text=True, check=True).stdout.strip()
    model = bentoml_cli(generated.home, "models", "get", registration["tag"])
    assert model["metadata"]["git"] == {"commit": head, "dirty": False}
    assert registration["promoted"], registration["reason"]


def test_a_row_of_the_data_gets_a_probability(client, generated):
    resp = predict(client, generated, generated.row())
    assert resp.status_code == 200, resp.text
    assert 0.0 <= resp.json()["probability"] <= 1.0


@pytest.mark.parametrize("which", ["bad_category", "out_of_range"])
def test_a_bad_value_is_a_4xx_naming_the_field(client, generated, which):
    field, value = getattr(generated.ds, which)
    resp = predict(client, generated, {**generated.row(), field: value})
    assert 400 <= resp.status_code < 500, resp.text
    assert field in resp.text
    assert "Traceback" not in resp.text


def test_metrics_have_the_drift_gauges(client, generated):
    for i in range(WINDOW):
        assert predict(client, generated, generated.row(i)).status_code == 200
    def drift_page() -> str:
        page = client.get("/metrics").text
        return page if "nbprod_drift_psi{" in page else ""

    text = wait_until(drift_page, 30, lambda: client.get("/metrics").text[-2000:], interval=0.2)
    for name in generated.spec["columns"]:
        if name != generated.spec["target"]:
            assert f'feature="{name}"' in text, name


def test_nbprod_check_passes(generated):
    result = generated.run("nbprod", "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_customer_data_in_the_bento(client, generated):
    bentos = generated.home / "bentos"
    for path in bentos.rglob("*"):
        if path.is_file():
            assert path.suffix not in (".csv", ".parquet", ".gz"), path
    raw_name = next((generated.path / "data/raw").iterdir()).name
    assert not list(bentos.rglob(raw_name))
    assert os.environ.get("NBPROD_MODEL_TAG") is None
