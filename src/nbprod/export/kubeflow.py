"""The export plan as a Kubeflow Pipelines (kfp 2) pipeline script.

nbprod does not import kfp (it lives in its own environment): this module writes a
short, readable kfp DSL script with one container component per pipeline task, the
dependencies as ``.after(...)``, retries, the environment, the image pull policy and
the shared volumes (``kfp-kubernetes``'s ``mount_pvc``). Running it with kfp compiles
the pipeline spec that Kubeflow accepts::

    python kubeflow/pipeline.py kubeflow/pipeline.yaml

kfp's own cache is switched off for every step: Ploomber decides what is up to date.
"""

from __future__ import annotations

import keyword
import re

from .plan import Plan

HEADER = '''"""Kubeflow Pipelines (kfp 2.x) pipeline {name!r}, written by `nbprod export kubeflow`.

Compile it with the kfp SDK (and kfp-kubernetes) to the spec Kubeflow runs:
    python {script} [OUTPUT.yaml]
Each component runs one task of pipeline.yaml in the image; the products and the model
store live on the shared volumes mounted in every step.
"""

import sys

from kfp import compiler, dsl, kubernetes

IMAGE = {image!r}
IMAGE_PULL_POLICY = {pull!r}
RETRIES = {retries!r}
RETRY_DELAY = "{delay}s"
ENV = {env!r}
VOLUMES = {volumes!r}  # (claim, mount path)


def configure(task, name):
    """The settings every step shares."""
    task.set_display_name(name)
    task.set_caching_options(False)  # Ploomber skips what is up to date
    if RETRIES:
        task.set_retry(num_retries=RETRIES, backoff_duration=RETRY_DELAY)
    for key, value in ENV.items():
        task.set_env_variable(key, value)
    kubernetes.set_image_pull_policy(task, IMAGE_PULL_POLICY)
    for claim, mount in VOLUMES:
        kubernetes.mount_pvc(task, pvc_name=claim, mount_path=mount)
    return task
'''

COMPONENT = '''

@dsl.container_component
def {function}():
    return dsl.ContainerSpec(image=IMAGE, command={command!r})
'''

FOOTER = '''

if __name__ == "__main__":
    compiler.Compiler().compile(pipeline, sys.argv[1] if len(sys.argv) > 1 else {default!r})
'''


def pipeline_script(plan: Plan, script: str = "kubeflow/pipeline.py") -> str:
    """The kfp DSL source of ``plan``."""
    names = {step.name: _identifier(step.name) for step in plan.steps}
    parts = [HEADER.format(
        name=plan.name, script=script, image=plan.image, pull=plan.image_pull_policy,
        retries=plan.retries, delay=plan.retry_delay_seconds, env=dict(plan.env),
        volumes=[(v.claim, v.mount) for v in plan.volumes],
    )]
    for step in plan.steps:
        parts.append(COMPONENT.format(function=names[step.name], command=list(step.command)))
    body = [f"\n\n@dsl.pipeline(name={plan.name!r})\ndef pipeline():\n"]
    for step in plan.steps:
        after = "".join(f".after({names[u]}_task)" for u in step.upstream)
        body.append(f"    {names[step.name]}_task = configure({names[step.name]}(), "
                    f"{step.name!r}){after}\n")
    if not plan.steps:
        body.append("    pass\n")
    parts.append("".join(body))
    parts.append(FOOTER.format(default=script.removesuffix(".py") + ".yaml"))
    return "".join(parts)


def _identifier(name: str) -> str:
    """A Python function name for task ``name`` (kfp names the component after it)."""
    text = re.sub(r"\W+", "_", name)
    if not text or text[0].isdigit():
        text = f"task_{text}"
    if keyword.iskeyword(text) or text in {"configure", "pipeline", "compiler", "dsl",
                                           "kubernetes", "sys"}:
        text = f"{text}_task"
    return text
