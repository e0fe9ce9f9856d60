"""The pipeline's side of the contract, read with Ploomber's own loaders.

Two sources give the same :class:`~nbprod.check.context.Pipeline`: ``pipeline.yaml``
through ``DAGSpec`` (env.yaml placeholders resolved, nothing imported or executed),
for ``nbprod check``; and a rendered ``DAG``, for the ``on_render`` hook, which
thereby sees exactly the parameters of the build that is about to run (including
``--env--name value`` overrides).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .context import SPECIAL_PARAMETERS, Pipeline, TaskContract

log = logging.getLogger(__name__)

NOTEBOOK_SUFFIXES = (".ipynb",)


def find_pipeline(start: Path) -> Path | None:
    """The ``pipeline.yaml`` Ploomber would use from ``start`` (searching parents)."""
    from ploomber.util import default

    try:
        return Path(default.entry_point(root_path=str(start))).resolve()
    except Exception:  # ploomber raises several types when there is none
        return None


def load_pipeline(path: Path) -> Pipeline:
    """The notebook tasks of the pipeline at ``path``, env.yaml placeholders resolved.

    Ploomber looks for env.yaml (or ``$PLOOMBER_ENV_FILENAME``) in the working
    directory first; it is read from the pipeline's folder here, as ``ploomber build``
    run from the project root does.
    """
    from ploomber.spec import DAGSpec
    from ploomber.util import default

    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"{path}: pipeline file not found")
    with contextlib.chdir(path.parent):
        try:
            spec = DAGSpec(str(path), lazy_import=True)
            env_file = default.path_to_env_from_spec(str(path))
        except Exception as exc:
            raise ConfigError(f"{path.name}: Ploomber cannot load it: {exc}") from None
    tasks = {}
    for task in spec["tasks"]:
        data = task.data
        source = Path(data["source"])
        if source.suffix not in NOTEBOOK_SUFFIXES:
            continue
        if not source.is_absolute():
            source = path.parent / source
        name = data.get("name") or source.stem
        upstream = data.get("upstream")
        if isinstance(upstream, str):
            upstream = [upstream]
        tasks[name] = TaskContract(
            name=name,
            source=source,
            params=dict(data.get("params") or {}),
            product=data.get("product"),
            upstream=frozenset(upstream) if upstream is not None else None,
        )
    log.debug("pipeline %s: notebook tasks %s", path, sorted(tasks))
    return Pipeline(path=path, tasks=tasks, env_file=Path(env_file) if env_file else None)


def pipeline_from_dag(dag: Any) -> Pipeline:
    """The notebook tasks of a rendered Ploomber ``DAG``."""
    tasks = {}
    for name, task in dag.items():
        source = getattr(getattr(task, "source", None), "loc", None)
        if source is None or Path(str(source)).suffix not in NOTEBOOK_SUFFIXES:
            continue
        params = {k: v for k, v in task.params.items() if k not in SPECIAL_PARAMETERS}
        product = task.product.to_json_serializable()
        tasks[name] = TaskContract(
            name=str(name),
            source=Path(str(source)),
            params=params,
            product=product,
            upstream=frozenset(str(u) for u in task.upstream),
        )
    return Pipeline(path=None, tasks=tasks)
