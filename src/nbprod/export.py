"""Export the pipeline to Argo Workflows, Airflow or Kubeflow with soopervisor.

soopervisor (pinned, no longer maintained) reads the targets in ``soopervisor.yaml``
and writes one spec per target; this module runs its ``export`` command and mends
what version 0.9.3 gets wrong, in one place:

* Kubeflow: for a task with several upstream tasks of several products each, the
  generated ``kubeflow_pipeline.py`` passes every product of every upstream task
  without commas between them (a syntax error) and more arguments than the
  component has inputs. :func:`_kubeflow_dependency_arguments` passes one output
  per upstream task, which is what the order of the steps needs.
* Argo and Kubeflow: the spec is written to the project root although soopervisor
  says ``<target>/``; it is moved there.
* With ``--skip-docker`` the specs name a broken image (``nbprod:latest-``, or just
  ``latest`` for Airflow); they get ``<repository>/<project>:latest`` instead (or
  ``image`` when given). Without ``skip_docker`` soopervisor builds the image with
  Docker, pushes it to the target's ``repository`` and names it itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import yaml

from .errors import ConfigError, NbprodError

log = logging.getLogger(__name__)

#: backend -> (spec files soopervisor writes at the project root, the spec in the target folder)
_OUTPUTS = {
    "argo-workflows": (["argo.yaml"], "argo.yaml"),
    "kubeflow": (["kubeflow_pipeline.py", "ploomber_pipeline.yaml"], "kubeflow_pipeline.py"),
    "airflow": ([], "{project}.json"),
}


class ExportError(NbprodError):
    """soopervisor could not export the pipeline to a target."""


def targets(project: str | Path) -> dict[str, dict]:
    """The targets of the project's ``soopervisor.yaml`` (name -> backend, repository...)."""
    path = Path(project) / "soopervisor.yaml"
    if not path.is_file():
        raise ConfigError(f"{path} not found; add a target with `soopervisor add NAME --backend ...`")
    return {name: dict(spec or {}) for name, spec in (yaml.safe_load(path.read_text()) or {}).items()}


def export(
    project: str | Path, target: str, skip_docker: bool = True, image: str | None = None
) -> Path:
    """Run ``soopervisor export TARGET`` in ``project``; return the spec it wrote."""
    from soopervisor.cli import cli

    project = Path(project).resolve()
    known = targets(project)
    if target not in known:
        raise ConfigError(
            f"target {target!r} is not in {project / 'soopervisor.yaml'}; "
            f"known targets: {sorted(known)}"
        )
    backend = known[target].get("backend")
    if backend not in _OUTPUTS:
        raise ConfigError(f"target {target!r}: backend {backend!r} is not one of {sorted(_OUTPUTS)}")
    args = ["export", target, "--mode", "force"] + (["--skip-docker"] if skip_docker else [])
    with contextlib.chdir(project), _kubeflow_fixed():
        try:
            cli.main(args, standalone_mode=False)
        except SystemExit as exc:  # soopervisor's Commander exits on failure
            if exc.code:
                raise ExportError(f"soopervisor export {target} failed (exit {exc.code})") from None
        except Exception as exc:
            raise ExportError(f"soopervisor export {target} failed: {exc}") from exc
    at_root, spec_name = _OUTPUTS[backend]
    for name in at_root:
        if (project / name).exists():
            shutil.move(project / name, project / target / name)
    spec = project / target / spec_name.format(project=project.name)
    if not spec.is_file():
        raise ExportError(f"soopervisor export {target} did not write {spec}")
    if skip_docker:
        repository = known[target].get("repository")
        _set_image(spec, image or f"{repository + '/' if repository else ''}{project.name}:latest")
    log.info("exported %s (%s) to %s", target, backend, spec)
    return spec


def _set_image(path: Path, image: str) -> None:
    """Name ``image`` in a spec soopervisor wrote with ``--skip-docker``."""
    if path.name == "argo.yaml":
        spec = yaml.safe_load(path.read_text())
        for template in spec["spec"]["templates"]:
            if "script" in template:
                template["script"]["image"] = image
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
    elif path.suffix == ".json":  # Airflow: the DAG file reads it
        spec = json.loads(path.read_text())
        spec["image"] = image
        path.write_text(json.dumps(spec, indent=2) + "\n")
    elif path.name == "kubeflow_pipeline.py":
        text = re.sub(r"^(\s+image: ).*$", lambda m: m.group(1) + image, path.read_text(), flags=re.M)
        path.write_text(text)


@contextlib.contextmanager
def _kubeflow_fixed() -> Iterator[None]:
    from soopervisor.kubeflow import export as kubeflow

    original = kubeflow._parse_pipeline_task
    kubeflow._parse_pipeline_task = _kubeflow_dependency_arguments
    try:
        yield
    finally:
        kubeflow._parse_pipeline_task = original


def _kubeflow_dependency_arguments(tasks, dependencies, products, task_name) -> list[str]:
    """The pipeline-function lines creating ``task_name``'s step.

    The component of a task declares one input per upstream task (soopervisor's
    ``_parse_task_dependencies``); each gets the first output of that upstream step.
    """
    if not dependencies:
        return [f"  {task_name}_step = {task_name}()\n\n"]
    arguments = []
    for upstream in dependencies:
        outputs = products[upstream]
        key = "product" if len(outputs) == 1 else next(iter(outputs[0]))
        arguments.append(f'      {upstream}_step.outputs["{key}"]')
    return [f"  {task_name}_step = {task_name}(\n", ",\n".join(arguments), "\n   )\n\n"]
