"""The reference project is what `nbprod new` writes for the Telco file, plus its domain edits.

Rendered for data/raw/telco_churn.csv.gz (--target churn --positive Yes --name churn), the
six notebooks are the reference project's byte for byte; pipeline.yaml, the env files and
bentofile.yaml differ only in the lines listed in DOMAIN_EDITS. The inferred column table
has the reference's columns, kinds and categories (its ranges and units are Telco's own).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nbprod.scaffold.infer import infer_table, read_data
from nbprod.scaffold.project import project_files

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data/raw/telco_churn.csv.gz"

#: file -> {line nbprod new writes: the reference project's line}: Telco's own decisions
DOMAIN_EDITS = {
    "pipeline.yaml": {
        "# Churn: raw file -> validated data -> features -> model -> evaluation -> model store.":
        "# Telco churn: raw file -> validated data -> features -> model -> evaluation -> model store.",
    },
    "env.yaml": {
        "model_name: churn": "model_name: telco_churn",
        "  floor: 0.6": "  floor: 0.83",
    },
    "env.smoke.yaml": {
        "# The smoke variant: the same pipeline on a stratified sample, for tests "
        "(PLOOMBER_ENV_FILENAME=env.smoke.yaml).":
        "# The smoke variant: the same pipeline on a 600-row sample, for tests "
        "(PLOOMBER_ENV_FILENAME=env.smoke.yaml).",
        "model_name: churn": "model_name: telco_churn",
        "  floor: 0.6": "  floor: 0.75",
    },
    "bentofile.yaml": {
        "  project: churn": "  project: nbprod",
        'description: "Churn: the probability that churn is Yes."':
        'description: "Telco churn: the probability that a customer leaves (the reference project of nbprod)."',
        "  packages:             # the same pins as requirements.lock.txt":
        "  packages:             # the same pins as requirements.lock.txt (tests/service checks it)",
    },
}


@pytest.fixture(scope="module")
def telco():
    table = infer_table(read_data(RAW), "churn", "Yes")
    return table, project_files("churn", table, RAW.name, "wheels/nbprod.whl")


@pytest.mark.parametrize("notebook", sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")))
def test_the_notebooks_are_the_reference_projects(telco, notebook):
    _, files = telco
    assert files[f"notebooks/{notebook}"] == (ROOT / "notebooks" / notebook).read_text()


@pytest.mark.parametrize("name", sorted(DOMAIN_EDITS))
def test_the_pipeline_files_differ_only_by_the_domain_edits(telco, name):
    _, files = telco
    edits = DOMAIN_EDITS[name]
    generated = files[name].splitlines()
    unused = set(edits) - set(generated)
    assert not unused, f"{name}: DOMAIN_EDITS names lines nbprod new does not write: {unused}"
    edited = [edits.get(line, line) for line in generated]
    assert edited == (ROOT / name).read_text().splitlines()


def test_the_inferred_table_has_the_reference_kinds_and_categories(telco):
    table, files = telco
    reference = yaml.safe_load((ROOT / "columns.yaml").read_text())
    inferred = yaml.safe_load(files["columns.yaml"])
    assert inferred["target"] == reference["target"]
    assert inferred["positive"] == reference["positive"]
    assert list(inferred["columns"]) == list(reference["columns"])
    for name, spec in reference["columns"].items():
        got = inferred["columns"][name]
        assert got["kind"] == spec["kind"], name
        assert sorted(map(str, got.get("categories", []))) == \
            sorted(map(str, spec.get("categories", []))), name
        assert got.get("nullable", False) == spec.get("nullable", False), name
    assert inferred.get("dropped") is None
