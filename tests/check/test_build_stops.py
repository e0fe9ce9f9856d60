"""A broken contract stops the real `ploomber build` (the `on_render` hook) before any
notebook executes, with a message naming the notebook, the cell and the parameter."""

from __future__ import annotations

import warnings

import pytest

from projectkit import copy_project, ploomber_build, tasks_that_ran

pytestmark = pytest.mark.pipeline


def test_a_parameter_of_the_wrong_type_stops_the_build(tmp_path):
    project = copy_project(tmp_path / "project")
    env = project / "env.smoke.yaml"
    env.write_text(env.read_text().replace("threshold: 0.5", "threshold: high"))
    result = ploomber_build(project, tmp_path / "bentoml")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert ("notebooks/evaluate.ipynb:2:9 NB003 task 'evaluate': pipeline.yaml passes parameter "
            "'threshold' = 'high', a str, but its default 0.5 is float") in output
    assert "no notebook was executed" in output
    assert tasks_that_ran(result.stdout) == set()
    assert not (project / "products-smoke").exists()  # no task ran, no product written


def test_a_parameter_the_notebook_does_not_declare_stops_the_build(tmp_path):
    project = copy_project(tmp_path / "project")
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace(
        "      threshold: '{{threshold}}'\n", "      threshold: '{{threshold}}'\n      cutoff: 0.3\n"))
    result = ploomber_build(project, tmp_path / "bentoml")
    assert result.returncode != 0
    assert ("notebooks/evaluate.ipynb:2 NB003 task 'evaluate': pipeline.yaml passes parameter "
            "'cutoff', which the parameters cell does not declare") in result.stderr
    assert not (project / "products-smoke").exists()


def test_the_hook_lets_injected_cells_and_outputs_through(tmp_path, monkeypatch):
    """In-process render of the real DAG (no task runs): NB005 is left to pre-commit."""
    import nbformat
    from ploomber.exceptions import DAGRenderError
    from ploomber.spec import DAGSpec

    project = copy_project(tmp_path / "project")
    path = project / "notebooks" / "train.ipynb"
    nb = nbformat.read(path, as_version=4)
    injected = nbformat.v4.new_code_cell('# Parameters\nseed = 42\n')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(2, injected)
    nb.cells[3].execution_count = 1
    nbformat.write(nb, path)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PLOOMBER_ENV_FILENAME", "env.smoke.yaml")
    dag = DAGSpec.find().to_dag()
    dag.render(show_progress=False)  # raises DAGRenderError if the hook rejects the DAG
    # (A render never runs a task, so checking that no product was written proved nothing.)
    # This in-process render does run the hook: with a contract error added, it rejects the DAG
    # for that error alone, still not for the injected cell.
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace(
        "      threshold: '{{threshold}}'\n", "      threshold: '{{threshold}}'\n      cutoff: 0.3\n"))
    with pytest.raises(DAGRenderError) as rejected, warnings.catch_warnings():
        # Ploomber's own warning about the same parameter
        warnings.filterwarnings("ignore", r"(?s).*not used in the task's source code: 'cutoff'")
        DAGSpec.find().to_dag().render(show_progress=False)
    message = str(rejected.value)
    assert "1 notebook contract error(s)" in message
    assert "notebooks/evaluate.ipynb:2 NB003" in message and "NB005" not in message


def test_a_wrong_value_given_on_the_command_line_is_named_as_such(tmp_path):
    project = copy_project(tmp_path / "project")
    result = ploomber_build(project, tmp_path / "bentoml", "--env--threshold", "high")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert ("notebooks/evaluate.ipynb:2:8 NB003 task 'evaluate': the command line "
            "(`--env--threshold`) passes parameter 'threshold' = 'high', a str, but its default "
            "0.5 is float") in output
    assert "hint: fix the value of `--env--threshold` on the command line" in output
