"""The export plan as an Apache Airflow 3 DAG: ``airflow/<name>.py`` reading ``<name>.json``.

The DAG file is the same for every project and imports only Airflow (Airflow runs in
its own environment, nbprod is not installed there); the JSON beside it holds the
plan. One Airflow task per pipeline task, with the pipeline's dependencies and the
plan's ``retries`` and ``retry_delay``. The operator is chosen when Airflow parses the
file, by ``NBPROD_AIRFLOW_RUN`` (else the JSON's ``run``):

* ``kubernetes`` (the default): a ``KubernetesPodOperator`` per task running the step
  in the image, the shared volumes mounted (needs ``apache-airflow-providers-cncf-kubernetes``);
* ``local``: a ``BashOperator`` per task running the step in the project's folder with
  the project's environment (``local.project`` and ``local.bin`` of the JSON, written by
  ``nbprod export airflow --local``). The worker's own environment is passed on, so
  ``BENTOML_HOME`` and ``PLOOMBER_ENV_FILENAME`` come from where Airflow runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .plan import TELEMETRY_OFF, Plan

DAG_FILE = '''"""Airflow 3 DAG of the Ploomber pipeline described by the JSON file beside it.

Written by `nbprod export airflow`; the same for every project. Put both files in
Airflow's dags folder. NBPROD_AIRFLOW_RUN=local runs each task with the BashOperator in
the project's folder and environment; kubernetes (the default) runs it in the image with
the KubernetesPodOperator.
"""

import json
import os
import shlex
from datetime import timedelta
from pathlib import Path

from airflow.sdk import DAG

SPEC = json.loads(Path(__file__).with_suffix(".json").read_text())
RUN = os.environ.get("NBPROD_AIRFLOW_RUN", SPEC["run"])


def local_task(task):
    from airflow.providers.standard.operators.bash import BashOperator

    local = SPEC.get("local")
    if local is None:
        raise ValueError(f"{Path(__file__).with_suffix('.json')}: no local project; "
                         "write it with `nbprod export airflow --local` in the project")
    path = local["bin"] + os.pathsep + os.environ.get("PATH", "")
    return BashOperator(
        task_id=task["name"],
        bash_command=shlex.join(task["command"]),
        cwd=local["project"],
        env={**local["env"], "PATH": path},
        append_env=True,
    )


def kubernetes_task(task):
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s

    return KubernetesPodOperator(
        task_id=task["name"],
        name=task["name"].replace("_", "-"),
        image=SPEC["image"],
        image_pull_policy=SPEC["image_pull_policy"],
        cmds=task["command"][:1],
        arguments=task["command"][1:],
        env_vars=[k8s.V1EnvVar(name=k, value=v) for k, v in SPEC["env"].items()],
        volumes=[
            k8s.V1Volume(
                name=v["name"],
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=v["claim"]),
            )
            for v in SPEC["volumes"]
        ],
        volume_mounts=[k8s.V1VolumeMount(name=v["name"], mount_path=v["mount"]) for v in SPEC["volumes"]],
        do_xcom_push=False,
    )


with DAG(
    dag_id=SPEC["dag_id"],
    schedule=None,
    catchup=False,
    default_args={"retries": SPEC["retries"], "retry_delay": timedelta(seconds=SPEC["retry_delay_seconds"])},
    description=SPEC["description"],
    tags=["nbprod"],
) as dag:
    make = local_task if RUN == "local" else kubernetes_task
    tasks = {task["name"]: make(task) for task in SPEC["tasks"]}
    for task in SPEC["tasks"]:
        for upstream in task["upstream"]:
            tasks[upstream] >> tasks[task["name"]]
'''


def dag_spec(plan: Plan, local_project: Path | None = None) -> dict[str, Any]:
    """The JSON the DAG file reads. With ``local_project``, it runs there by default."""
    spec: dict[str, Any] = {
        "dag_id": plan.name.replace("-", "_"),
        "description": f"Ploomber pipeline {plan.name} (nbprod export airflow)",
        "run": "local" if local_project else "kubernetes",
        "image": plan.image,
        "image_pull_policy": plan.image_pull_policy,
        "retries": plan.retries,
        "retry_delay_seconds": plan.retry_delay_seconds,
        "env": dict(plan.env),
        "volumes": [{"name": v.name, "claim": v.claim, "mount": v.mount} for v in plan.volumes],
        "tasks": [{"name": s.name, "upstream": list(s.upstream), "command": list(s.command)}
                  for s in plan.steps],
    }
    if local_project is not None:
        # the environment nbprod runs in is the project's own: its ploomber runs the steps
        # and the cluster's settings (BENTOML_HOME, PLOOMBER_ENV_FILENAME...) are not applied:
        # they come from the environment Airflow runs in
        spec["local"] = {"project": str(local_project), "bin": str(Path(sys.executable).parent),
                         "env": dict(TELEMETRY_OFF)}
    return spec


def write(plan: Plan, folder: Path, local_project: Path | None = None) -> Path:
    """Write ``<dag_id>.py`` and ``<dag_id>.json`` into ``folder``; return the DAG file."""
    spec = dag_spec(plan, local_project)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{spec['dag_id']}.json").write_text(json.dumps(spec, indent=2) + "\n")
    dag_file = folder / f"{spec['dag_id']}.py"
    dag_file.write_text(DAG_FILE)
    return dag_file

