"""The IBM Telco file as tutorials ship it (11 ``' '`` in ``TotalCharges``), end to end with
its raw file untouched: `nbprod new` declares the column a nullable number whose ``' '``
is a blank -> `ploomber build` -> `bentoml serve` answers a record sent as the file writes it.

The fixture (`fixtures/ibm_telco/`, Apache-2.0, provenance in its README) keeps the 11
blank rows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from projectkit import BIN, bentoml_serve, build_env

pytestmark = pytest.mark.pipeline
FIXTURE = Path(__file__).parent / "fixtures" / "ibm_telco" / "Telco-Customer-Churn-sample.csv"
FIXTURE_SHA256 = "803d0c2643d839f5a92e04c7847cfc2d47c98ce3c2c8953d84c689975a94e8b6"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict[str, str], str]:
    assert sha256(FIXTURE) == FIXTURE_SHA256
    folder = tmp_path_factory.mktemp("ibm-telco")
    new = subprocess.run([str(BIN / "nbprod"), "new", str(folder / "telco"), "--data",
                          str(FIXTURE), "--target", "Churn", "--positive", "Yes"],
                         capture_output=True, text=True, timeout=300)
    assert new.returncode == 0, new.stderr
    path = folder / "telco"
    env = build_env(folder / "bentoml-home")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path / "src"),
                                                      os.environ.get("PYTHONPATH")]))
    env.pop("NBPROD_MODEL_TAG", None)
    build = subprocess.run([str(BIN / "ploomber"), "build"], cwd=path, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return path, env, new.stdout


def test_new_declares_blank_strings_in_a_number_column(project):
    path, _, out = project
    spec = yaml.safe_load((path / "columns.yaml").read_text())
    assert spec["columns"]["total_charges"] == {
        "source": "TotalCharges", "kind": "number", "min": 0.0, "max": 20000.0,
        "nullable": True, "missing": [" "]}
    assert "TotalCharges" not in out  # not left out, and no false reason printed
    assert spec["dropped"] == {"customerID": "id-like (a different value on every row)"}


def test_the_build_reads_the_blanks_and_leaves_the_raw_file_alone(project):
    path, _, _ = project
    raw = path / "data" / "raw" / FIXTURE.name
    assert sha256(raw) == FIXTURE_SHA256
    assert sha256(FIXTURE) == FIXTURE_SHA256
    clean = pd.read_parquet(next((path / "products-smoke").rglob("clean.parquet")))
    assert clean["total_charges"].dtype == "float64"
    assert int(clean["total_charges"].isna().sum()) == 11
    assert set(clean.loc[clean["total_charges"].isna(), "tenure"]) == {0}


def test_the_service_reads_the_files_blank_as_null(project, tmp_path):
    path, env, _ = project
    (path / "products/model").mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json",
                 path / "products/model/registration.json")
    bento = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert bento.returncode == 0, bento.stderr
    tag = bento.stdout.strip().splitlines()[-1]
    frame = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    spec = yaml.safe_load((path / "columns.yaml").read_text())
    features = {name: c.get("source", name) for name, c in spec["columns"].items()
                if name != spec["target"]}
    blank_row = frame[frame["TotalCharges"] == " "].iloc[0]

    def record(row: pd.Series) -> dict:
        out = {}
        for name, header in features.items():
            kind = spec["columns"][name]["kind"]
            value = row[header]
            if kind in ("integer", "binary") or (kind == "categorical" and isinstance(
                    spec["columns"][name]["categories"][0], int)):
                out[name] = int(value)
            elif kind == "number" and value != " ":
                out[name] = float(value)
            else:
                out[name] = value
        return out

    with bentoml_serve(tag, path, {**env, "NBPROD_PREDICTION_LOG_DIR": str(tmp_path)},
                       timeout=180) as client:
        sent = record(blank_row)
        assert sent["total_charges"] == " "
        answer = client.post("/predict", json={"record": sent})
        assert answer.status_code == 200, answer.text
        assert 0.0 <= answer.json()["probability"] <= 1.0
        null = client.post("/predict", json={"record": {**sent, "total_charges": None}})
        assert null.status_code == 200 and null.json()["probability"] == \
            answer.json()["probability"]
        wrong = client.post("/predict", json={"record": {**sent, "total_charges": "x"}})
        assert wrong.status_code in (400, 422), wrong.text
        assert "total_charges" in wrong.text
