"""nbprod.pipeline.reports and nbprod.pipeline.report_index on small inputs: paths, wrapping, headings, the
index page."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from nbprod.pipeline.report_index import TaskReports, render
from nbprod.pipeline.reports import (
    DEFAULTS,
    WIDTH,
    format_parameters,
    model_heading,
    relative_path,
    tidy_notebook,
)
from nbprod.registry.lineage import executed_notebooks

ROOT = Path("/home/ana/churn")
HERE = ROOT / "products" / "reports"


def test_paths_inside_the_project_become_relative_to_the_report_and_others_stay():
    assert relative_path(f"{ROOT}/products/data/train.parquet", ROOT, HERE) == "../data/train.parquet"
    assert relative_path(f"{HERE}/train.ipynb", ROOT, HERE) == "./train.ipynb"
    assert relative_path(f"{ROOT}/data/raw/x.csv", ROOT, HERE) == "../../data/raw/x.csv"
    assert relative_path("/data/shared/x.csv", ROOT, HERE) == "/data/shared/x.csv"
    assert relative_path("logistic_regression", ROOT, HERE) == "logistic_regression"


def test_the_injected_cell_is_wrapped_and_still_the_same_literals():
    source = (f'# Parameters\nseed = 42\nupstream = {{"features": {{"train": "{ROOT}/products/'
              f'data/train.parquet", "test": "{ROOT}/products/data/test.parquet", "schema": '
              f'"{ROOT}/products/model/feature_schema.json"}}}}\n')
    assert max(map(len, source.splitlines())) > WIDTH
    out = format_parameters(source, ROOT, HERE)
    assert max(map(len, out.splitlines())) <= WIDTH
    assert str(ROOT) not in out
    values = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(out).body}
    assert values == {"seed": 42, "upstream": {"features": {
        "train": "../data/train.parquet", "test": "../data/test.parquet",
        "schema": "../model/feature_schema.json"}}}


def test_a_cell_that_is_not_literal_assignments_only_loses_the_project_folder():
    assert format_parameters(f"x = f({str(ROOT)!r})", ROOT, HERE) == "x = f('.')"


def test_outputs_and_metadata_lose_the_project_folder_and_a_heading_is_added_once():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"output_path": f"{HERE}/t.ipynb"}})
    cell = nbformat.v4.new_code_cell("print(p)", metadata={"tags": []})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"wrote {ROOT}/products/m\n")]
    nb.cells = [cell]
    tidy_notebook(nb, ROOT, HERE, heading="**Model version `m:1`**")
    tidy_notebook(nb, ROOT, HERE, heading="**Model version `m:1`**")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"]
    assert nb.cells[1].outputs[0].text == "wrote products/m\n"
    assert nb.metadata.papermill.output_path == "./t.ipynb"


def test_the_defaults_cell_says_the_injected_one_holds_this_run_s_values():
    """The register report showed `model_name = "churn"`, floor 0.5, then `telco_churn`, 0.83,
    with nothing saying which one ran."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('model_name = "churn"\n', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('model_name = "telco_churn"\n',
                                          metadata={"tags": ["injected-parameters"]})]
    tidy_notebook(nb, ROOT, HERE)
    tidy_notebook(nb, ROOT, HERE)  # once
    assert nb.cells[0].source == DEFAULTS + 'model_name = "churn"\n'
    assert "this run's values are in the next cell" in DEFAULTS
    assert ast.parse(nb.cells[0].source)  # still runs
    alone = nbformat.v4.new_notebook()  # no injected cell (run by hand): left alone
    alone.cells = [nbformat.v4.new_code_cell("x = 1\n", metadata={"tags": ["parameters"]})]
    assert tidy_notebook(alone, ROOT, HERE).cells[0].source == "x = 1\n"


def test_the_model_heading():
    assert model_heading({}) is None
    assert model_heading({"tag": "m:1", "promoted": False, "reason": "worse"}) == \
        "**Model version `m:1`**: not promoted (worse)"


def test_lineage_reads_report_relative_paths_back_as_project_relative(tmp_path):
    report = tmp_path / "products" / "reports" / "ingest.ipynb"
    report.parent.mkdir(parents=True)
    cell = nbformat.v4.new_code_cell("resources_ = {'raw_data': '../../data/raw/x.csv'}\nseed = 1",
                                     metadata={"tags": ["injected-parameters"]})
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), report)
    (info,) = executed_notebooks({"ingest": report}, root=tmp_path).values()
    assert info["parameters"] == {"resources_": {"raw_data": "data/raw/x.csv"}, "seed": 1}


def test_the_index_page_escapes_and_links_relative(tmp_path):
    reports = tmp_path / "reports"
    tasks = [TaskReports("a<b", True, [reports / "a b.html"], [reports / "fig.png"]),
             TaskReports("register", False, [reports / "register.html"])]
    page = render(tasks, {"tag": "m:1", "promoted": True, "task": "register"}, reports, "proj",
                  datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    assert "a&lt;b" in page and 'href="a%20b.html"' in page and 'src="fig.png"' in page
    assert "Model version m:1: promoted to production" in page
    assert '<a href="register.html">register report</a>' in page
    assert "up to date (earlier build)" in page and "2026-01-02 03:04 UTC" in page
