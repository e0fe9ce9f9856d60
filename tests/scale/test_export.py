"""The pipeline exported to Argo Workflows, Airflow and Kubeflow by the real
`nbprod export` (soopervisor export --skip-docker), checked against pipeline.yaml."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hera.workflows import Workflow
from ploomber.spec import DAGSpec

from nbprod.lineage import notebook_parameters
from projectkit import BIN, ROOT, build_env, copy_project

pytestmark = pytest.mark.pipeline

TARGETS = ["soopervisor.yaml", "argo", "airflow", "kubeflow", "requirements.lock.txt"]


def upstream_of_pipeline(project: Path) -> dict[str, set[str]]:
    """Task -> its upstream tasks, as Ploomber reads pipeline.yaml."""
    cwd = Path.cwd()
    os.chdir(project)
    try:
        dag = DAGSpec("pipeline.yaml", env="env.smoke.yaml").to_dag()
        return {name: set(dag[name].upstream) for name in dag}
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A copy of the project (in a folder named like the repository) with every target exported."""
    project = copy_project(tmp_path_factory.mktemp("export") / "nbprod")
    for name in TARGETS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, project / name)
        else:
            shutil.copy2(src, project / name)
    env = build_env(project / "bentoml-home")
    for target in ("argo", "airflow", "kubeflow"):
        result = subprocess.run([str(BIN / "nbprod"), "export", target], cwd=project, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"wrote {project / target}" in result.stdout
    return project, upstream_of_pipeline(project)


def test_argo_workflow_is_valid_and_has_one_step_per_task(exported):
    project, upstream = exported
    spec = yaml.safe_load((project / "argo/argo.yaml").read_text())
    Workflow.from_dict(spec)  # Argo's own models (hera): raises on a malformed workflow
    run_task, dag = spec["spec"]["templates"]
    steps = {t["name"]: t for t in dag["dag"]["tasks"]}
    assert set(steps) == set(upstream)
    for name, step in steps.items():
        assert set(step["dependencies"]) == upstream[name], name
        assert step["template"] == run_task["name"]
        assert step["arguments"]["parameters"] == [{"name": "task_name", "value": name}]
    script = run_task["script"]
    assert script["source"].strip() == (
        "ploomber task {{inputs.parameters.task_name}} --entry-point pipeline.yaml --force"
    )
    assert script["image"] == "nbprod:latest"  # not soopervisor's broken "nbprod:latest-"


def test_a_broken_argo_workflow_is_rejected_by_the_schema_check(exported):
    project, _ = exported
    spec = yaml.safe_load((project / "argo/argo.yaml").read_text())
    spec["spec"]["templates"][1]["dag"]["tasks"][0]["dependencies"] = "ingest"
    with pytest.raises(ValueError, match="dependencies"):
        Workflow.from_dict(spec)


def test_airflow_dag_spec_and_file(exported):
    project, upstream = exported
    spec = json.loads((project / "airflow/nbprod.json").read_text())
    assert spec["image"] == "nbprod:latest"
    tasks = {t["name"]: t for t in spec["tasks"]}
    assert set(tasks) == set(upstream)
    for name, task in tasks.items():
        assert set(task["upstream"]) == upstream[name]
        assert task["command"] == f"ploomber task {name} --entry-point pipeline.yaml --force"
    # The DAG file Airflow imports reads exactly that spec; importing it needs Airflow 2
    # (apache-airflow is not installed here), so check that it parses and what it reads.
    dag_file = (project / "airflow/nbprod.py").read_text()
    tree = ast.parse(dag_file)
    assert '"nbprod.json"' in dag_file and "KubernetesPodOperator" in dag_file
    assert any(isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "set_upstream"
               for n in ast.walk(tree))


def test_kubeflow_pipeline_compiles_and_wires_the_steps_like_pipeline_yaml(exported):
    project, upstream = exported
    source = (project / "kubeflow/kubeflow_pipeline.py").read_text()
    tree = ast.parse(source)  # soopervisor 0.9.3 alone writes a syntax error here
    components = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            text = node.value.args[0].value
            components[node.targets[0].id] = yaml.safe_load(text)
    assert set(components) == set(upstream)
    for name, component in components.items():
        container = component["implementation"]["container"]
        assert container["image"] == "nbprod:latest"
        assert f"ploomber task {name} --entry-point pipeline.yaml" in container["command"][-1]
        assert {i["name"] for i in component.get("inputs", [])} == upstream[name]
    (pipeline,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for step in pipeline.body:
        task = step.value.func.id
        args = [a.value.value.id.removesuffix("_step") for a in step.value.args]
        inputs = [i["name"] for i in components[task].get("inputs", [])]
        assert args == inputs, task  # each upstream step feeds the input named after it


def test_the_exported_steps_run_the_pipeline_with_its_parameters(exported, tmp_path):
    """Run the commands of the Argo steps in their dependency order, as the pods would."""
    project, upstream = exported
    spec = yaml.safe_load((project / "argo/argo.yaml").read_text())
    command = spec["spec"]["templates"][0]["script"]["source"].strip()
    home = tmp_path / "bentoml"
    done: list[str] = []
    while len(done) < len(upstream):
        ready = sorted(t for t in upstream if t not in done and upstream[t] <= set(done))
        for task in ready:
            args = command.replace("{{inputs.parameters.task_name}}", task).split()
            result = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=project,
                                    env=build_env(home), capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, task + result.stdout[-2000:] + result.stderr[-2000:]
            done.append(task)
    assert json.loads((project / "products-smoke/model/registration.json").read_text())["tag"]
    ran = {task: notebook_parameters(project / f"products-smoke/reports/{task}.ipynb")
           for task in upstream}
    smoke = yaml.safe_load((project / "env.smoke.yaml").read_text())
    assert ran["ingest"]["sample_rows"] == smoke["sample_rows"] == 600
    assert ran["evaluate"]["threshold"] == smoke["threshold"]
    assert ran["train"]["estimator"] == smoke["estimator"]
    assert ran["features"]["test_size"] == smoke["test_size"]


def test_an_unknown_target_or_a_missing_config_is_one_clear_error(tmp_path):
    from click.testing import CliRunner

    from nbprod.cli import main

    result = CliRunner().invoke(main, ["export", "argo", "--project", str(tmp_path)])
    assert result.exit_code == 1 and "soopervisor.yaml not found" in result.output
    shutil.copy2(ROOT / "soopervisor.yaml", tmp_path / "soopervisor.yaml")
    result = CliRunner().invoke(main, ["export", "slurm", "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert "target 'slurm' is not in" in result.output and "['airflow', 'argo', 'kubeflow']" in result.output
