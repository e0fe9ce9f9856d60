"""`nbprod export` writes each engine's spec from pipeline.yaml and export.yaml. Here: the
Argo Workflow validated by hera's models of the Argo Workflows schema, the committed specs
current, the steps' command running the real pipeline, and the errors. Airflow running the
DAG and kfp compiling the pipeline are in tests/engines (`make test-engines`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hera.workflows.models import Workflow
from pydantic import ValidationError

from nbprod import ConfigError
from nbprod.cli import main
from nbprod.export import export, make_plan
from nbprod.registry.lineage import notebook_parameters
from projectkit import BIN, ROOT, build_env, copy_project, models_in, tasks_that_ran

pytestmark = pytest.mark.pipeline

SPECS = ["airflow/nbprod.py", "airflow/nbprod.json", "argo/argo.yaml", "kubeflow/pipeline.py"]


def upstream_of_pipeline(project: Path) -> dict[str, set[str]]:
    import contextlib

    from ploomber.spec import DAGSpec

    with contextlib.chdir(project):
        dag = DAGSpec("pipeline.yaml", env="env.smoke.yaml").to_dag()
        return {name: set(dag[name].upstream) for name in dag}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A copy of the project with every engine's spec exported by the real command."""
    project = copy_project(tmp_path_factory.mktemp("export") / "churn-project")
    shutil.copy2(ROOT / "export.yaml", project / "export.yaml")
    for engine in ("argo", "airflow", "kubeflow"):
        result = subprocess.run([str(BIN / "nbprod"), "export", engine], cwd=project,
                                env=build_env(project / "bentoml-home"),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"wrote {project / engine}" in result.stdout
    return project, upstream_of_pipeline(project)


def test_the_committed_specs_are_what_nbprod_export_writes(exported):
    project, _ = exported
    for name in SPECS:
        assert (project / name).read_text() == (ROOT / name).read_text(), name


def test_argo_workflow_validates_and_carries_steps_image_retries_and_volumes(exported):
    project, upstream = exported
    spec = yaml.safe_load((project / "argo/argo.yaml").read_text())
    Workflow.model_validate(spec)  # Argo's own schema (hera's generated models)
    config = yaml.safe_load((ROOT / "export.yaml").read_text())
    dag, run_task = spec["spec"]["templates"]
    steps = {t["name"]: t for t in dag["dag"]["tasks"]}
    assert set(steps) == set(upstream)
    for name, step in steps.items():
        assert set(step.get("dependencies", [])) == upstream[name], name
        assert step["template"] == run_task["name"]
        assert step["arguments"]["parameters"] == [{"name": "task", "value": name}]
    container = run_task["container"]
    assert container["image"] == config["image"] == "nbprod:latest"
    assert container["command"] == ["ploomber", "build", "--entry-point", "pipeline.yaml",
                                    "--partially", "{{inputs.parameters.task}}", "--skip-upstream"]
    assert run_task["retryStrategy"] == {"limit": str(config["retries"]), "retryPolicy": "OnFailure",
                                         "backoff": {"duration": f"{config['retry_delay_seconds']}s"}}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in spec["spec"]["volumes"]}
    assert claims == {"products": "nbprod-products", "model-store": "nbprod-model-store"}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"products": "/project/products", "model-store": "/bentoml"}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["BENTOML_HOME"] == "/bentoml" and env["BENTOML_DO_NOT_TRACK"] == "true"


@pytest.mark.parametrize("path, value, field", [
    (("templates", 0, "dag", "tasks", 1, "dependencies"), "ingest", "dependencies"),
    (("templates", 1, "retryStrategy", "limit"), ["2"], "limit"),
    (("volumes", 0, "persistentVolumeClaim"), {"claim": "x"}, "claimName"),
])
def test_a_broken_argo_workflow_is_rejected_by_the_schema(exported, path, value, field):
    project, _ = exported
    spec = yaml.safe_load((project / "argo/argo.yaml").read_text())
    node = spec["spec"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError, match=field):
        Workflow.model_validate(spec)


def test_airflow_spec_has_one_task_per_pipeline_task(exported):
    project, upstream = exported
    spec = json.loads((project / "airflow/nbprod.json").read_text())
    assert spec["run"] == "kubernetes" and "local" not in spec  # no machine path in a cluster spec
    assert {t["name"]: set(t["upstream"]) for t in spec["tasks"]} == upstream
    assert spec["retries"] == 2 and spec["image"] == "nbprod:latest"


def test_the_exported_steps_run_the_pipeline_and_skip_what_is_up_to_date(exported, tmp_path):
    """Run the Argo steps' command in dependency order, twice, as the pods would."""
    project, upstream = exported
    plan = make_plan(project)
    home = tmp_path / "bentoml"
    order: list[str] = []
    while len(order) < len(upstream):
        order += sorted(t for t in upstream if t not in order and upstream[t] <= set(order))
    outputs = {}
    for attempt in (1, 2):
        for task in order:
            command = plan.step(task).command
            result = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=project,
                                    env=build_env(home), capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, task + result.stdout[-2000:] + result.stderr[-2000:]
            outputs[attempt, task] = result.stdout
    for task in order:  # each step builds its own task only, then nothing
        assert tasks_that_ran(outputs[1, task]) == {task}, outputs[1, task][-2000:]
        assert tasks_that_ran(outputs[2, task]) == set(), outputs[2, task][-2000:]
    assert len(models_in(home)) == 1
    # why not `ploomber task NAME`: Ploomber 0.23.3 fails on an up-to-date task (plan.py)
    task = subprocess.run([str(BIN / "ploomber"), "task", "ingest", "--entry-point", "pipeline.yaml"],
                          cwd=project, env=build_env(home), capture_output=True, text=True, timeout=300)
    assert task.returncode != 0 and "TaskStatus.Skipped" in task.stdout + task.stderr
    ran = {name: notebook_parameters(project / f"products-smoke/reports/{name}.ipynb")
           for name in upstream}
    smoke = yaml.safe_load((project / "env.smoke.yaml").read_text())
    assert ran["ingest"]["sample_rows"] == smoke["sample_rows"] == 600
    assert ran["evaluate"]["threshold"] == smoke["threshold"]


def test_bad_export_settings_are_one_clear_error(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["export", "argo", "--project", str(tmp_path)])
    assert result.exit_code == 1 and "pipeline.yaml not found: nothing to export" in result.output
    project = copy_project(tmp_path / "p")
    (project / "export.yaml").write_text("retries: -1\n")
    result = runner.invoke(main, ["export", "argo", "--project", str(project)])
    assert result.exit_code == 1
    assert "export.yaml: retries must be a whole number >= 0, got -1" in result.output
    (project / "export.yaml").write_text("retry: 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['retry'\]"):
        export(project, "argo")
    (project / "export.yaml").write_text("volumes: [{name: p, claim: c, mount: relative}]\n")
    with pytest.raises(ConfigError, match="mount must be an absolute path"):
        export(project, "argo")
    (project / "export.yaml").unlink()
    with pytest.raises(ConfigError, match="--local is for airflow only"):
        export(project, "kubeflow", local=True)
    result = runner.invoke(main, ["export", "slurm", "--project", str(project)])
    assert result.exit_code == 2 and "'slurm' is not one of 'airflow', 'argo', 'kubeflow'" in result.output
    assert export(project, "argo", image="registry.example.com/p:1").name == "argo.yaml"
    assert "image: registry.example.com/p:1" in (project / "argo/argo.yaml").read_text()
