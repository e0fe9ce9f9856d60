"""The IBM Telco file as tutorials ship it (11 ``' '`` in ``TotalCharges``), end to end with
its raw file untouched: `nbprod new` declares the column a nullable number whose ``' '``
is a blank -> her ``clean(df)`` fills new customers' total with 0.0 (the reference project's
decision) -> `ploomber build` -> `bentoml serve` answers a record sent as the file writes it,
cleaned as the pipeline cleaned it.

The fixture (`fixtures/ibm_telco/`, Apache-2.0, provenance in its README) keeps the 11
blank rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from projectkit import BIN, bentoml_cli, bentoml_serve, generated_build

pytestmark = pytest.mark.pipeline
FIXTURE = Path(__file__).parent / "fixtures" / "ibm_telco" / "Telco-Customer-Churn-sample.csv"
FIXTURE_SHA256 = "803d0c2643d839f5a92e04c7847cfc2d47c98ce3c2c8953d84c689975a94e8b6"
#: her cleaning step: new customers (tenure 0) have been billed nothing yet
CLEAN = '''

def clean(df: pd.DataFrame) -> pd.DataFrame:
    """New customers' blank total is 0.0: they have not been billed yet."""
    out = df.copy()
    out.loc[out["total_charges"].isna() & (out["tenure"] == 0), "total_charges"] = 0.0
    return out
'''


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
    package = path / "src" / "telco" / "__init__.py"
    text = package.read_text()
    package.write_text(text[:text.index("\ndef clean(")] + CLEAN)
    subprocess.run(["git", "commit", "-qam", "clean: new customers' total is 0.0"], cwd=path,
                   check=True, capture_output=True)
    env = generated_build(path, folder / "bentoml-home")
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
    # her clean ran on the raw frame, its blanks already read as blanks, before validation
    assert int(clean["total_charges"].isna().sum()) == 0
    assert int(((clean["tenure"] == 0) & (clean["total_charges"] == 0.0)).sum()) == 11


def test_the_service_reads_the_files_blank_as_null(project, tmp_path):
    path, env, _ = project
    (path / "products/model").mkdir(parents=True)
    shutil.copy2(path / "products-smoke/model/registration.json",
                 path / "products/model/registration.json")
    bento = subprocess.run([str(BIN / "nbprod"), "bento"], cwd=path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert bento.returncode == 0, bento.stderr
    tag = bento.stdout.strip().splitlines()[-1]
    registered = json.loads((path / "products/model/registration.json").read_text())["tag"]
    stored = bentoml_cli(path.parent / "bentoml-home", "models", "get", registered)
    assert stored["metadata"]["cleaning"] == "telco:clean"
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
        # the service runs her clean as the pipeline did: a new customer's blank is 0.0
        zero = client.post("/predict", json={"record": {**sent, "total_charges": 0.0}})
        assert zero.json()["probability"] == answer.json()["probability"]
        billed = client.post("/predict", json={"record": {**sent, "total_charges": 500.0}})
        assert billed.json()["probability"] != answer.json()["probability"]
        wrong = client.post("/predict", json={"record": {**sent, "total_charges": "x"}})
        assert wrong.status_code in (400, 422), wrong.text
        assert "total_charges" in wrong.text
