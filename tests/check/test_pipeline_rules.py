"""NB003 and NB004 against a tiny pipeline.yaml + env.yaml, read by Ploomber's spec loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nbprod.check import check, load_pipeline

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_project(tmp_path) -> Path:
    """fixtures/project copied out of the repository, so Ploomber does not find it
    nested below the project's own pipeline.yaml."""
    return Path(shutil.copytree(FIXTURES / "project", tmp_path / "project"))


def by_notebook(project):
    out = {}
    for finding in check(root=project):
        out.setdefault(finding.path.removeprefix("notebooks/"), []).append(finding)
    return out


def test_env_placeholders_are_resolved(fixture_project):
    pipeline = load_pipeline(fixture_project / "pipeline.yaml")
    assert pipeline.tasks["wrong_type"].params["threshold"] == "high"  # from env.yaml
    assert pipeline.tasks["fit"].params["n_iter"] == 20
    assert pipeline.tasks["fit"].params["resources_"]["raw"] == str(fixture_project / "raw.csv")
    assert set(pipeline.tasks["load"].product) == {"nb", "data"}


def test_notebooks_that_keep_the_contract_pass(fixture_project):
    found = by_notebook(fixture_project)
    # fit: an int for a float default, a str, a bool, a list, a dict and resources_
    assert "load.ipynb" not in found and "fit.ipynb" not in found


def test_a_value_of_the_wrong_type_names_cell_line_and_parameter(fixture_project):
    found = by_notebook(fixture_project)["wrong_type.ipynb"]
    assert [(f.rule, f.cell, f.line) for f in found] == [("NB003", 1, 3), ("NB003", 1, 4)]
    assert "passes parameter 'threshold' = 'high', a str, but its default 0.5 is float" in found[0].message
    assert "pipeline.yaml (with env.yaml)" in found[0].message
    assert "'n_iter' = 2.5, a float, but its default 5 is int" in found[1].message


def test_a_parameter_the_notebook_does_not_declare_is_an_error(fixture_project):
    (finding,) = by_notebook(fixture_project)["undeclared_param.ipynb"]
    assert (finding.rule, finding.severity, finding.cell) == ("NB003", "error", 1)
    assert "passes parameter 'learning_rate', which the parameters cell does not declare" in (
        finding.message
    )


def test_upstream_must_name_tasks_of_the_pipeline(fixture_project):
    (finding,) = by_notebook(fixture_project)["unknown_upstream.ipynb"]
    assert finding.rule == "NB004"
    assert "upstream 'lod' is not a task of pipeline.yaml" in finding.message
    assert "load" in finding.hint


def test_upstream_and_product_keys_the_code_reads_must_exist(fixture_project):
    messages = [f.message for f in by_notebook(fixture_project)["missing_product_key.ipynb"]]
    assert len(messages) == 3
    assert any("upstream['load']['dataset']: task 'load' has no product 'dataset'" in m for m in messages)
    assert any("product['model'] is read, but the pipeline declares no such product" in m for m in messages)
    assert any("upstream['fit'] is read, but the parameters cell declares upstream = ['load']" in m
               for m in messages)


@pytest.mark.parametrize("outside", ["{{here}}/../shared/data.csv", "/srv/lake/data.csv",
                                     "../data.csv"])
def test_a_product_outside_the_project_is_flagged(fixture_project, outside):
    spec = fixture_project / "pipeline.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("data: '{{products}}/data.csv'", f"data: '{outside}'"))
    (finding,) = by_notebook(fixture_project)["load.ipynb"]
    assert (finding.rule, finding.cell) == ("NB004", 1)
    assert "task 'load': product data '" in finding.message
    assert f"{outside.removeprefix('{{here}}')}' is outside the project" in finding.message
