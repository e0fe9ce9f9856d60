"""Ploomber DAG hooks, named in pipeline.yaml (``on_render: nbprod.pipeline.hooks.on_render``,
``on_finish: nbprod.pipeline.hooks.on_finish``)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from ..compat.ploomber import check_networkx, invalidate_outdated, kernel_like_display
from ..errors import ContractError
from . import report_index, reports

log = logging.getLogger(__name__)

#: Rules the build hook leaves to ``nbprod check`` / pre-commit: outputs and injected
#: cells in a source notebook do not change what the pipeline runs (Ploomber replaces
#: an injected cell), and they are there while a notebook is open in JupyterLab.
NOT_AT_BUILD = ("NB005",)


def on_render(dag: Any) -> None:
    """Runs once per `ploomber build` / `status` / `plot` / `nb`, before any task executes."""
    kernel_like_display()  # these three: Ploomber's bugs (nbprod.compat.ploomber)
    check_networkx()
    enforce_contract(dag)
    one_build_at_a_time(dag)  # and, once it holds the lock, invalidate_outdated
    reports.attach(dag)  # each notebook's report tidied as its task succeeds


def one_build_at_a_time(dag: Any) -> None:
    """Make the DAG's executor hold the project's build lock while it runs the tasks.

    Only a build executes (`ploomber status`, `plot` and JupyterLab render and never wait).
    A build that had to wait for another build of the same project folder reads its
    products' status again before it runs anything, so what the other build made is not
    made twice (unless it was given ``--force``).
    """
    if not isinstance(dag.executor, OneBuildAtATime):
        spec = _entry_point(sys.argv) or find_spec()
        project = spec.parent if spec is not None else Path.cwd()
        force = any(arg in ("-f", "--force") for arg in sys.argv[1:])
        dag.executor = OneBuildAtATime(dag.executor, project, force)


def find_spec() -> Path | None:
    from ..check import find_pipeline

    return find_pipeline(Path.cwd())


class OneBuildAtATime:
    """A DAG executor run holding the build lock of ``project`` (:func:`nbprod.registry.storelock.
    build_lock`); a module-level class, since Ploomber pickles the DAG for subprocesses."""

    def __init__(self, executor: Any, project: Path, force: bool = False) -> None:
        self.executor = executor
        self.project = project
        self.force = force

    def __call__(self, dag: Any, show_progress: bool = True) -> Any:
        from ..registry.storelock import build_lock

        purpose = "ploomber build" if Path(sys.argv[0]).name == "ploomber" else "a DAG build"
        with build_lock(self.project, purpose + (" --force" if self.force else "")) as waited:
            if waited and not self.force:
                skipped = refresh_status(dag)
                if skipped:
                    log.warning("up to date after the other build: %s", ", ".join(skipped))
            invalidate_outdated(dag)
            return self.executor(dag=dag, show_progress=show_progress)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.executor!r})"


def refresh_status(dag: Any) -> list[str]:
    """Render every task's status again from its products' metadata on disk (another
    process may have built them since the DAG was rendered); the tasks now up to date."""
    from ploomber.constants import TaskStatus

    pending = (TaskStatus.WaitingExecution, TaskStatus.WaitingUpstream)
    before = {name for name in dag if dag[name].exec_status in pending}
    outdated_by_code = getattr(getattr(dag, "_params", None), "outdated_by_code", True)
    for name in dag:  # in topological order: a task's status needs its upstream's
        task = dag[name]
        task.product.metadata.clear()
        task.exec_status = TaskStatus.WaitingRender
        task.render(outdated_by_code=outdated_by_code)
    return sorted(name for name in before if dag[name].exec_status not in pending)


def enforce_contract(dag: Any) -> None:
    """Check the DAG's notebooks against the contract with the parameters of this build.

    Raises :class:`nbprod.errors.ContractError` (Ploomber reports it and the build
    exits non-zero before any kernel starts) when a rule finds an error.
    """
    from ..check import (
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


#: The product key of a registration record (``{"tag", "decision", ...}``, written by the
#: register task); its ``decision`` is shown at the end of the build.
REGISTRATION_KEY = "registration"


def on_finish(dag: Any) -> None:
    """Runs in the `ploomber build` process after every task succeeded: logs, at WARNING
    (so Ploomber's console shows it above the build table, whatever the executor), the
    gate's full decision of each registration task that ran in this build, then writes the
    index page of the reports."""
    for text in gate_decisions(dag):
        log.warning("%s", text)
    comparison_page(dag)
    report_index.write_index(dag)


def comparison_page(dag: Any) -> Path | None:
    """When this build registered a version and another one is in production (or was
    before it), ``compare.html`` beside the reports sets the two side by side
    (:mod:`nbprod.pipeline.compare_page`). A fault is logged, never fails the build."""
    from ..errors import NbprodError
    from .compare_page import write_page
    from .report_index import COMPARE_NAME, collect, index_folder

    tasks, registration = collect(dag)
    folder = index_folder(tasks)
    ran = any(t.ran and t.name == registration.get("task") for t in tasks)
    if folder is None or not ran or not registration.get("tag"):
        return None
    from ..registry.compare import compare

    tag = str(registration["tag"])
    try:
        return write_page(tag.partition(":")[0], compare(tag.partition(":")[0], tag),
                          folder / COMPARE_NAME)
    except NbprodError as exc:
        log.info("no comparison page: %s", exc)
        return None


def gate_decisions(dag: Any) -> list[str]:
    """The ``decision`` of every registration product whose task was executed in this build."""
    from ploomber.constants import TaskStatus

    found = []
    for name in dag:
        task = dag[name]
        if task.exec_status != TaskStatus.Executed:
            continue
        try:
            path = Path(str(task.product[REGISTRATION_KEY]))
        except (KeyError, TypeError, AttributeError):
            continue
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.warning("task %s: cannot read %s (%s)", name, path, exc)
            continue
        if isinstance(record, dict) and record.get("decision"):
            found.append(f"{name}: {record.get('tag', '?')}: {record['decision']}")
    return found
