"""Ploomber DAG hooks, named in pipeline.yaml (``on_render: nbprod.hooks.on_render``,
``on_finish: nbprod.hooks.on_finish``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from . import report_index, reports
from .errors import ContractError

log = logging.getLogger(__name__)

#: Rules the build hook leaves to ``nbprod check`` / pre-commit: outputs and injected
#: cells in a source notebook do not change what the pipeline runs (Ploomber replaces
#: an injected cell), and they are there while a notebook is open in JupyterLab.
NOT_AT_BUILD = ("NB005",)


def on_render(dag: Any) -> None:
    """Runs once per `ploomber build` / `status` / `plot` / `nb`, before any task executes."""
    kernel_like_display()
    enforce_contract(dag)
    invalidate_outdated(dag)
    reports.attach(dag)  # each notebook's report tidied as its task succeeds


def on_finish(dag: Any) -> None:
    """Runs after a successful `ploomber build`: the index page of the reports."""
    report_index.write_index(dag)


def enforce_contract(dag: Any) -> None:
    """Check the DAG's notebooks against the contract with the parameters of this build.

    Raises :class:`nbprod.errors.ContractError` (Ploomber reports it and the build
    exits non-zero before any kernel starts) when a rule finds an error.
    """
    from .check import (
        attach_origins,
        check,
        cli_overrides,
        errors,
        find_pipeline,
        pipeline_from_dag,
    )

    spec = _entry_point(sys.argv) or find_pipeline(Path.cwd())
    pipeline = attach_origins(pipeline_from_dag(dag, path=spec), cli_overrides(sys.argv))
    findings = check(pipeline=pipeline, ignore=NOT_AT_BUILD, paths=None)
    broken = errors(findings)
    for finding in findings:
        if finding not in broken:
            log.warning("%s", finding.format())
    if broken:
        raise ContractError(broken)


def _entry_point(argv: list[str]) -> Path | None:
    """The spec a ``ploomber`` command was given with ``-e`` / ``--entry-point``, if a file."""
    for index, arg in enumerate(argv[:-1]):
        if arg in ("-e", "--entry-point") and argv[index + 1].endswith((".yaml", ".yml")):
            path = Path(argv[index + 1])
            return path.resolve() if path.is_file() else None
    return None


def invalidate_outdated(dag) -> list[str]:
    """Forget the recorded metadata of every task that is about to run.

    Ploomber writes a product's metadata only after its task succeeds, but it keeps
    the metadata of the previous run until then. A build killed in the middle of a
    task (SIGKILL, a power cut) would leave half-written products next to the old
    metadata, and the next build would take them for complete. Deleting the metadata
    of tasks that are outdated anyway changes nothing about what runs, and makes an
    interrupted task run again.
    """
    from ploomber.constants import TaskStatus

    pending = (TaskStatus.WaitingExecution, TaskStatus.WaitingUpstream)
    names = [name for name in dag if dag[name].exec_status in pending]
    for name in names:
        dag[name].product.metadata.delete()
    if names:
        log.debug("invalidated the metadata of %s", ", ".join(names))
    return names


def kernel_like_display() -> None:
    """Make notebooks executed in-process render tables as a Jupyter kernel does.

    The ploomber-engine executor runs notebooks inside the `ploomber` process, where
    pandas believes it writes to a terminal (``display.max_columns`` 0, frames
    wrapped at the console width). A Jupyter kernel uses 20. Without this, a
    report's text output would differ from the same notebook run in JupyterLab or
    by nbval.
    """
    import pandas as pd

    pd.set_option("display.max_columns", 20)
    log.debug("pandas display.max_columns set to 20, as in a Jupyter kernel")
