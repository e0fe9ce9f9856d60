"""When a build fails, say why last: Ploomber's ``on_failure`` DAG hook.

``ploomber build`` prints a failed task's whole traceback (Ploomber's, IPython's, the
notebook's), about 40 lines, and the message of the error that matters (the column, rule
and rows a bad data file breaks) ends up in the middle. Named in pipeline.yaml
(``on_failure: nbprod.pipeline.failure.on_failure``), this hook:

- finds the messages of the toolkit's own errors (:class:`nbprod.errors.NbprodError` and
  its subclasses, a project's included) in the build's traceback;
- logs them, and under the ``ploomber`` command also prints them to stderr as the very
  last lines of its output (at interpreter exit, after Ploomber's report);
- leaves a marker beside each failed task's first product (``.NAME.nbprod-failed``), so
  ``nbprod plot`` can show the task as failed until it builds again;
- renders each failed notebook task's partial notebook as ``NAME.failed.html`` and writes
  the report index saying that the build failed, at which task.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import NbprodError

log = logging.getLogger(__name__)

#: A traceback's closing line: ``package.module.ClassName: message``.
_RAISED = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*\.(?P<name>\w+)): (?P<message>.*)$")


def _is_ours(qualified: str) -> bool:
    """Whether ``package.module.Class`` names a subclass of NbprodError."""
    module, _, name = qualified.rpartition(".")
    if module.startswith("ploomber") or not name.endswith(("Error", "Exception")):
        return False
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return False
    return isinstance(cls, type) and issubclass(cls, NbprodError)


def toolkit_errors(traceback_text: str) -> list[str]:
    """The messages (with their following lines, up to a blank line) of every NbprodError
    raised in ``traceback_text``, in order, without repeats."""
    lines = traceback_text.splitlines()
    found: list[str] = []
    for i, line in enumerate(lines):
        match = _RAISED.match(line)
        if not match or not _is_ours(match["cls"]):
            continue
        body = [match["message"]]
        for more in lines[i + 1:]:
            if not more.strip() or _RAISED.match(more) or more.startswith("Traceback"):
                break
            body.append(more)
        message = f"{match['name']}: " + "\n".join(body)
        if message not in found:
            found.append(message)
    return found


def summary(failed: list[str], messages: list[str]) -> str:
    """The closing words of a failed build."""
    tasks = ", ".join(f"'{name}'" for name in failed) or "a task"
    if not messages:
        return f"nbprod: the build failed at {tasks}; the traceback above says why."
    return f"nbprod: the build failed at {tasks}:\n" + "\n".join(messages)


def failure_marker(task: Any) -> Path | None:
    """Where a task's failure is recorded: beside its first file product."""
    products = getattr(task.product, "products", None)
    first = next(iter(products), None) if products is not None else task.product
    path = getattr(first, "_path_to_file", None)
    if path is None:
        return None
    path = Path(str(path))
    return path.with_name(f".{path.name}.nbprod-failed")


def record_failure(task: Any, messages: list[str]) -> None:
    marker = failure_marker(task)
    if marker is None:
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"task": task.name, "at": datetime.now(UTC).isoformat(),
                                  "errors": messages}) + "\n")


def on_failure(dag: Any, traceback: dict[str, str]) -> None:
    """Ploomber calls this once when a build fails (``traceback``: phase -> text)."""
    from ploomber.constants import TaskStatus

    failed = [name for name in dag if dag[name].exec_status == TaskStatus.Errored]
    messages = toolkit_errors("\n".join(traceback.values()))
    for name in failed:
        record_failure(dag[name], messages)
    honest_reports(dag, failed)
    text = summary(failed, messages)
    log.error("%s", text)
    if Path(sys.argv[0]).name == "ploomber":
        atexit.register(_say_last, text)


def honest_reports(dag: Any, failed: list[str]) -> None:
    """Each failed notebook task's partial notebook as HTML, then the index page saying
    that the build failed and where (:mod:`nbprod.pipeline.report_index`). A fault here
    is logged: the build's own failure is what must be reported."""
    from . import report_index, reports

    try:
        for name in failed:
            if hasattr(dag[name], "nb_product_key"):
                reports.failed_report(dag[name])
        report_index.write_index(dag)
    except Exception as exc:  # noqa: BLE001 - never hide the build's failure behind ours
        log.warning("the reports of the failed build could not be written: %s", exc)


def _say_last(text: str) -> None:
    """Runs after Ploomber printed its report: the reason stays the last thing on screen."""
    import click

    click.secho(f"\n{text}", fg="red", err=True)
