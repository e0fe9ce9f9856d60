"""Export the pipeline to Airflow, Argo Workflows or Kubeflow Pipelines.

nbprod writes each engine's spec itself from one engine-independent :class:`Plan`
(``pipeline.yaml`` read by Ploomber, plus ``export.yaml``); it no longer goes through
soopervisor, which is unmaintained and needed three workarounds (docs/scaling-out.md).
Each spec is checked by the engine it is for (tests/engines): Airflow 3 imports and runs
the DAG, kfp compiles the pipeline, hera's Argo models validate the Workflow.

    nbprod export airflow [--local]   # airflow/<name>.py + <name>.json
    nbprod export argo                # argo/argo.yaml
    nbprod export kubeflow            # kubeflow/pipeline.py (compile it with kfp)

May import every stage before it (it needs only the floor: errors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import yaml

from ..errors import ConfigError
from . import airflow, argo, kubeflow
from .plan import Plan, Step, Volume, make_plan

__all__ = ["ENGINES", "Plan", "Step", "Volume", "export", "make_plan"]

log = logging.getLogger(__name__)


def _airflow(plan: Plan, folder: Path, project: Path, local: bool) -> Path:
    return airflow.write(plan, folder, project if local else None)


def _argo(plan: Plan, folder: Path, project: Path, local: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "argo.yaml"
    path.write_text(yaml.safe_dump(argo.workflow(plan), sort_keys=False))
    return path


def _kubeflow(plan: Plan, folder: Path, project: Path, local: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline.py"
    path.write_text(kubeflow.pipeline_script(plan, f"{folder.name}/pipeline.py"))
    return path


#: engine -> writer of its spec into the engine's folder of the project
ENGINES: dict[str, Callable[[Plan, Path, Path, bool], Path]] = {
    "airflow": _airflow,
    "argo": _argo,
    "kubeflow": _kubeflow,
}


def export(project: str | Path, engine: str, image: str | None = None, local: bool = False) -> Path:
    """Write ``engine``'s spec of ``project``'s pipeline into ``project/<engine>/``; return it.

    ``local`` (Airflow only) makes the DAG run each task in this project's folder and
    environment instead of a pod: for a single-machine Airflow and for the tests.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {sorted(ENGINES)}")
    if local and engine != "airflow":
        raise ConfigError(f"--local is for airflow only, not {engine}")
    project = Path(project).resolve()
    plan = make_plan(project, image=image)
    path = ENGINES[engine](plan, project / engine, project, local)
    log.info("exported %d task(s) of %s to %s: %s", len(plan.steps), project, engine, path)
    return path
