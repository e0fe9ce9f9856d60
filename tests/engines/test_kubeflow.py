"""The kfp SDK (its own environment, build/engines/kfp) compiles the pipeline script that
`nbprod export kubeflow` writes into the pipeline spec Kubeflow runs: one component per
pipeline task, the dependencies, image, command, retries and the volumes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from enginekit import engine_bin, upstream_of_pipeline
from nbprod.export import export, make_plan
from projectkit import ROOT, copy_project

pytestmark = pytest.mark.engines


def test_kfp_compiles_one_component_per_task_with_the_dependencies(tmp_path):
    project = copy_project(tmp_path / "nbprod")
    shutil.copy2(ROOT / "export.yaml", project / "export.yaml")
    script = export(project, "kubeflow")
    out = tmp_path / "kfp-spec.yaml"
    result = subprocess.run([str(engine_bin("kfp", "python")), "-W", "error", str(script), str(out)],
                            cwd=project, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pipeline, platform = yaml.safe_load_all(out.read_text())
    upstream = upstream_of_pipeline(project)
    plan = make_plan(project)
    assert pipeline["pipelineInfo"]["name"] == "nbprod"
    assert pipeline["sdkVersion"].startswith("kfp-2.")
    tasks = pipeline["root"]["dag"]["tasks"]
    assert set(tasks) == set(upstream) and len(pipeline["components"]) == len(upstream)
    executors = pipeline["deploymentSpec"]["executors"]
    mounts = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for name, task in tasks.items():
        assert set(task.get("dependentTasks", [])) == upstream[name], name
        assert task["retryPolicy"]["maxRetryCount"] == plan.retries == 2
        assert task["retryPolicy"]["backoffDuration"] == "60s"
        component = pipeline["components"][task["componentRef"]["name"]]
        container = executors[component["executorLabel"]]["container"]
        assert container["image"] == "nbprod:latest"
        assert container["command"] == list(plan.step(name).command)
        assert {e["name"]: e["value"] for e in container["env"]}["BENTOML_HOME"] == "/bentoml"
        pvcs = {m["constant"]: m["mountPath"] for m in mounts[component["executorLabel"]]["pvcMount"]}
        assert pvcs == {"nbprod-products": "/project/products", "nbprod-model-store": "/bentoml"}
        assert mounts[component["executorLabel"]]["imagePullPolicy"] == "IfNotPresent"


def test_kfp_rejects_a_pipeline_whose_step_names_an_unknown_task(tmp_path):
    """The compile step is a real check: a script wired to a task that does not exist fails."""
    project = copy_project(tmp_path / "nbprod")
    script = export(project, "kubeflow")
    text = script.read_text().replace(".after(ingest_task)", ".after(no_such_task)", 1)
    script.write_text(text)
    result = subprocess.run([str(engine_bin("kfp", "python")), str(script), str(tmp_path / "o.yaml")],
                            cwd=project, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "no_such_task" in result.stderr
    assert not (tmp_path / "o.yaml").exists()
