"""What every engine gets: the pipeline's tasks, their dependencies, and how a step runs.

An export plan is read from two files of the project: ``pipeline.yaml`` (through
Ploomber's own ``DAGSpec``, so the dependencies are exactly those ``ploomber build``
sees) and ``export.yaml`` (the image, retries and shared storage). Each engine module
turns a :class:`Plan` into its own spec.

Every step runs one task with Ploomber's own command::

    ploomber build --entry-point pipeline.yaml --partially NAME --skip-upstream

which builds the task when it is outdated and skips it when it is up to date (its
upstream tasks ran in earlier steps). ``ploomber task NAME`` cannot be used: 0.23.3
raises "Attempted to run task ... whose status TaskStatus.Skipped" for an up-to-date
task unless ``--force`` is given, and ``--force`` reruns everything on every run.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

CONFIG = "export.yaml"
ENTRY_POINT = "pipeline.yaml"
TELEMETRY_OFF = {"BENTOML_DO_NOT_TRACK": "true", "PLOOMBER_STATS_ENABLED": "false"}


@dataclass(frozen=True)
class Volume:
    """A persistent volume claim mounted in every step (products, the model store)."""

    name: str
    claim: str
    mount: str


@dataclass(frozen=True)
class Step:
    """One pipeline task as an engine step."""

    name: str
    upstream: tuple[str, ...]
    command: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """Everything an engine spec needs, independent of the engine."""

    name: str
    steps: tuple[Step, ...]
    image: str
    image_pull_policy: str = "IfNotPresent"
    retries: int = 2
    retry_delay_seconds: int = 60
    env: dict[str, str] = field(default_factory=dict)
    volumes: tuple[Volume, ...] = ()

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


def step_command(task: str) -> tuple[str, ...]:
    """The command running ``task`` alone, skipped when it is up to date."""
    return ("ploomber", "build", "--entry-point", ENTRY_POINT, "--partially", task,
            "--skip-upstream")


def dependencies(project: str | Path) -> dict[str, tuple[str, ...]]:
    """Task -> its upstream tasks, in the order of ``pipeline.yaml``, as Ploomber reads them."""
    from ploomber.spec import DAGSpec

    project = Path(project).resolve()
    if not (project / ENTRY_POINT).is_file():
        raise ConfigError(f"{project / ENTRY_POINT} not found: nothing to export")
    with contextlib.chdir(project):
        try:
            dag = DAGSpec(ENTRY_POINT).to_dag()
        except Exception as exc:  # Ploomber's own errors: a bad spec, a missing notebook
            raise ConfigError(f"{project / ENTRY_POINT} cannot be read by Ploomber: {exc}") from exc
        order = list(dag)  # upstream sets in the order of pipeline.yaml: a stable spec
        return {name: tuple(sorted(dag[name].upstream, key=order.index)) for name in dag}


def read_config(project: str | Path) -> dict[str, Any]:
    """The project's ``export.yaml`` (an empty mapping when there is none)."""
    path = Path(project) / CONFIG
    if not path.is_file():
        return {}
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(config).__name__}")
    unknown = sorted(set(config) - _KNOWN)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; known: {sorted(_KNOWN)}")
    return config


_KNOWN = {"name", "image", "image_pull_policy", "retries", "retry_delay_seconds", "env", "volumes"}


def make_plan(project: str | Path, image: str | None = None) -> Plan:
    """The export plan of ``project`` (``image`` overrides the one of ``export.yaml``)."""
    project = Path(project).resolve()
    config = read_config(project)
    where = project / CONFIG
    name = str(config.get("name") or _dns_name(project.name))
    steps = tuple(Step(task, upstream, step_command(task))
                  for task, upstream in dependencies(project).items())
    retries = _non_negative_int(config.get("retries", 2), "retries", where)
    delay = _non_negative_int(config.get("retry_delay_seconds", 60), "retry_delay_seconds", where)
    env = {**TELEMETRY_OFF, **{str(k): str(v) for k, v in (config.get("env") or {}).items()}}
    volumes = tuple(_volume(v, where) for v in config.get("volumes") or [])
    return Plan(
        name=name,
        steps=steps,
        image=image or str(config.get("image") or f"{name}:latest"),
        image_pull_policy=str(config.get("image_pull_policy", "IfNotPresent")),
        retries=retries,
        retry_delay_seconds=delay,
        env=env,
        volumes=volumes,
    )


def _non_negative_int(value: Any, key: str, where: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: {key} must be a whole number >= 0, got {value!r}")
    return value


def _volume(spec: Any, where: Path) -> Volume:
    if not isinstance(spec, dict) or not {"name", "claim", "mount"} <= set(spec):
        raise ConfigError(f"{where}: each of volumes needs name, claim and mount, got {spec!r}")
    if not str(spec["mount"]).startswith("/"):
        raise ConfigError(f"{where}: volume {spec['name']!r}: mount must be an absolute path")
    return Volume(_dns_name(str(spec["name"])), str(spec["claim"]), str(spec["mount"]))


def _dns_name(text: str) -> str:
    """``text`` as a Kubernetes/Argo name: lower case letters, digits and '-'."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name or "pipeline"
