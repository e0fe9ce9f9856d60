"""Airflow 3 DAG of the Ploomber pipeline described by the JSON file beside it.

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
