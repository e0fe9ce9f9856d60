"""The export plan as an Argo Workflows ``Workflow`` (``argo submit argo/argo.yaml``).

One DAG template holds a task per pipeline task with its dependencies; each task runs
one shared container template with the task's name as parameter, the image, the
retry strategy and the shared volumes (products, model store). Argo names allow only
lower case letters, digits and '-', so ``my_task`` runs as the Argo task ``my-task``
(the parameter keeps the Ploomber name).
"""

from __future__ import annotations

from typing import Any

from .plan import Plan, _dns_name, step_command

RUN_TEMPLATE = "run-task"
DAG_TEMPLATE = "pipeline"


def workflow(plan: Plan) -> dict[str, Any]:
    """The ``Workflow`` manifest of ``plan``."""
    container: dict[str, Any] = {
        "image": plan.image,
        "imagePullPolicy": plan.image_pull_policy,
        "command": list(step_command("{{inputs.parameters.task}}")),
        "env": [{"name": k, "value": v} for k, v in plan.env.items()],
    }
    if plan.volumes:
        container["volumeMounts"] = [{"name": v.name, "mountPath": v.mount} for v in plan.volumes]
    run_task: dict[str, Any] = {
        "name": RUN_TEMPLATE,
        "inputs": {"parameters": [{"name": "task"}]},
        "container": container,
    }
    if plan.retries:
        run_task["retryStrategy"] = {
            "limit": str(plan.retries),
            "retryPolicy": "OnFailure",
            "backoff": {"duration": f"{plan.retry_delay_seconds}s"},
        }
    tasks = []
    for step in plan.steps:
        task: dict[str, Any] = {
            "name": _dns_name(step.name),
            "template": RUN_TEMPLATE,
            "arguments": {"parameters": [{"name": "task", "value": step.name}]},
        }
        if step.upstream:
            task["dependencies"] = [_dns_name(u) for u in step.upstream]
        tasks.append(task)
    spec: dict[str, Any] = {
        "entrypoint": DAG_TEMPLATE,
        "templates": [{"name": DAG_TEMPLATE, "dag": {"tasks": tasks}}, run_task],
    }
    if plan.volumes:
        spec["volumes"] = [{"name": v.name, "persistentVolumeClaim": {"claimName": v.claim}}
                           for v in plan.volumes]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{plan.name}-"},
        "spec": spec,
    }

