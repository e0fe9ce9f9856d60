"""The index page of a build's reports: ``index.html`` beside them (``on_finish`` and
``on_failure`` hooks).

One self-contained page (no script, no download) linking each notebook task's HTML
report and executed notebook in pipeline order, whether the task ran in this build, was
up to date, failed or did not run, every figure a notebook task produced (``.png``,
``.svg``, ...), shown inline, the model version the build registered (a ``registration``
product, see :mod:`nbprod.pipeline.reports`), the comparison page when there is one
(:mod:`nbprod.pipeline.compare_page`) and the last builds (``builds.json`` beside it).
After a failed build it says so first, names the task and links its partial notebook
rendered as HTML (``NAME.failed.html``). It lies in the folder holding the HTML reports
(their common parent), so its links are relative and the folder can be copied or served
as it is.
"""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .reports import HTML_SUFFIXES, REGISTRATION_KEY, failed_page, model_heading

log = logging.getLogger(__name__)

INDEX_NAME = "index.html"
HISTORY_NAME = "builds.json"
#: how many builds the index lists
HISTORY = 10
COMPARE_NAME = "compare.html"
#: where the HTML reports of each build that registered a version are kept (per version)
KEPT = "history"
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")


@dataclass(frozen=True)
class TaskReports:
    name: str
    ran: bool
    reports: list[Path] = field(default_factory=list)  # HTML first, then the notebook
    figures: list[Path] = field(default_factory=list)
    #: "failed" (its partial notebook is ``failed``), "not run" (an upstream task failed), ""
    outcome: str = ""
    failed: Path | None = None


def _status(task: TaskReports) -> str:
    if task.outcome == "failed":
        return "<b class=bad>FAILED in the last build</b>"
    if task.outcome == "not run":
        return "not run: an upstream task failed (reports of an earlier build)"
    return "ran in this build" if task.ran else "up to date (earlier build)"


def collect(dag: Any) -> tuple[list[TaskReports], dict[str, Any]]:
    """Each notebook task's reports and figures, and the registration the build wrote."""
    from ploomber.constants import TaskStatus
    from ploomber.products import MetaProduct
    from ploomber.tasks.notebook import NotebookMixin

    tasks, registration = [], {}
    for name in dag:
        task = dag[name]
        if not isinstance(task, NotebookMixin):
            continue
        products = (task.product.to_json_serializable() if isinstance(task.product, MetaProduct)
                    else {"nb": str(task.product)})
        paths = {key: Path(value) for key, value in products.items()}
        reports = sorted((p for p in paths.values() if p.suffix in (*HTML_SUFFIXES, ".ipynb")),
                         key=lambda p: p.suffix == ".ipynb")
        figures = [p for p in paths.values() if p.suffix.lower() in FIGURE_SUFFIXES]
        outcome, failed = "", None
        if task.exec_status == TaskStatus.Errored:
            notebook = next((p for p in reports if p.suffix == ".ipynb"), None)
            outcome = "failed"
            if notebook is not None and failed_page(notebook).is_file():
                failed = failed_page(notebook)
        elif task.exec_status in (TaskStatus.Aborted, TaskStatus.WaitingUpstream,
                                  TaskStatus.WaitingExecution, TaskStatus.BrokenProcessPool):
            outcome = "not run"
        tasks.append(TaskReports(name, task.exec_status == TaskStatus.Executed,
                                 [p for p in reports if p.is_file()],
                                 [p for p in figures if p.is_file()], outcome, failed))
        if REGISTRATION_KEY in paths and paths[REGISTRATION_KEY].is_file():
            try:
                registration = json.loads(paths[REGISTRATION_KEY].read_text()) | {"task": name}
            except ValueError:
                log.warning("%s is not JSON; the index names no model", paths[REGISTRATION_KEY])
    return tasks, registration


def index_folder(tasks: list[TaskReports]) -> Path | None:
    """The common folder of the HTML reports (None when there is none)."""
    pages = [p.resolve().parent for t in tasks for p in t.reports if p.suffix in HTML_SUFFIXES]
    return Path(os.path.commonpath(pages)) if pages else None


def render(tasks: list[TaskReports], registration: dict[str, Any], folder: Path,
           title: str, when: datetime, builds: list[dict[str, Any]] | None = None,
           compare: Path | None = None) -> str:
    """The index page's HTML (pure: no file is read)."""
    def href(path: Path) -> str:
        return html.escape(quote(Path(os.path.relpath(path.resolve(), folder)).as_posix()))

    def link(path: Path, text: str | None = None) -> str:
        return f'<a href="{href(path)}">{html.escape(text or path.name)}</a>'

    rows, figures = [], []
    failed = [t for t in tasks if t.outcome == "failed"]
    for task in tasks:
        links = [link(p) + (" (last successful run)" if task.outcome == "failed"
                            and p.suffix in HTML_SUFFIXES else "")
                 for p in task.reports]
        if task.failed is not None:
            links.insert(0, link(task.failed, f"{task.failed.name} (this failed run)"))
        rows.append(f"<tr><td>{html.escape(task.name)}</td><td>{' · '.join(links) or '—'}</td>"
                    f"<td>{_status(task)}</td></tr>")
        for fig in task.figures:
            figures.append(f'<figure><a href="{href(fig)}"><img src="{href(fig)}" alt="'
                           f'{html.escape(fig.name)}"></a><figcaption>{html.escape(fig.name)} '
                           f"({html.escape(task.name)})</figcaption></figure>")
    model = ""
    heading = model_heading(registration)
    if failed:
        pages = [link(t.failed, f"{t.name}'s failed notebook") for t in failed if t.failed]
        banner = (f'<p class="failed">The last build FAILED at task '
                  f'{", ".join(html.escape(t.name) for t in failed)} ({when:%Y-%m-%d %H:%M} UTC). '
                  + (" · ".join(pages) + ". " if pages else "")
                  + "The other reports are from the builds that last ran their tasks.</p>")
    else:
        banner = f"<p>Written {when:%Y-%m-%d %H:%M} UTC by the last build, which succeeded.</p>"
    if heading and not failed:
        version = html.escape(heading.replace("**", "").replace("`", ""))
        report = next((t for t in tasks if t.name == registration.get("task")), None)
        to_report = (f' · {link(report.reports[0], f"{report.name} report")}'
                     if report and report.reports else "")
        model = f'<p class="model">{version}{to_report}</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}: reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; }}
.model {{ font-size: 1.1rem; padding: .6rem; background: #f3f6fa; overflow-wrap: anywhere; }}
.failed {{ font-size: 1.1rem; padding: .6rem; background: #f8d7da; color: #58151c; }}
.bad {{ color: #b71c1c; }}
figure {{ margin: 1rem 0; }} img {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}
</style></head>
<body>
<h1>{html.escape(title)}: reports</h1>
{banner}
{model}{_compare(compare, href)}
<table><thead><tr><th>task</th><th>report</th><th>status</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{"<h2>Figures</h2>" + chr(10).join(figures) if figures else ""}
{_history(builds or [])}
</body></html>
"""


def _compare(page: Path | None, href: Any) -> str:
    if page is None:
        return ""
    return (f'<p><a href="{href(page)}">Compare the model versions</a>: metrics side by side, '
            "curves overlaid, every version over time.</p>")


def _history(builds: list[dict[str, Any]]) -> str:
    def links(build: dict[str, Any]) -> str:
        return " · ".join(f'<a href="{html.escape(quote(str(p)))}">'
                          f"{html.escape(Path(str(p)).stem)}</a>"
                          for p in build.get("reports") or []) or "—"

    rows = [f"<tr><td>{html.escape(str(b.get('at', '')))}</td>"
            f"<td>{html.escape(str(b.get('outcome', '')))}</td>"
            f"<td>{html.escape(str(b.get('model') or '—'))}</td><td>{links(b)}</td></tr>"
            for b in reversed(builds)]
    if not rows:
        return ""
    return ("<h2>Recent builds</h2><p>The reports of each build that registered a version are "
            f"kept beside this page ({KEPT}/VERSION/); the executed notebooks also stay in the "
            "model store (<code>nbprod models show TAG</code>).</p><table><thead><tr>"
            "<th>finished (UTC)</th><th>outcome</th><th>model version</th><th>its reports</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def keep_reports(folder: Path, tag: str, tasks: list[TaskReports]) -> list[str]:
    """Copy the HTML reports of a build that registered ``tag`` to ``KEPT/<version>/`` beside
    the index; their paths relative to it."""
    version = "".join(c if c.isalnum() or c in "-_." else "_" for c in tag.partition(":")[2] or tag)
    dest = folder / KEPT / version.strip(".")
    dest.mkdir(parents=True, exist_ok=True)
    kept = []
    for page in (p for t in tasks for p in t.reports if p.suffix in HTML_SUFFIXES):
        shutil.copyfile(page, dest / page.name)
        kept.append((dest / page.name).relative_to(folder).as_posix())
    return kept


def _prune(folder: Path, builds: list[dict[str, Any]]) -> None:
    """Delete the kept reports no remembered build links any more."""
    linked = {Path(str(p)).parts[1] for b in builds for p in b.get("reports") or []
              if len(Path(str(p)).parts) > 2}
    for old in (folder / KEPT).glob("*") if (folder / KEPT).is_dir() else []:
        if old.is_dir() and old.name not in linked:
            shutil.rmtree(old, ignore_errors=True)


def remember(folder: Path, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Append ``entry`` to the builds kept in ``folder`` (the last :data:`HISTORY`)."""
    path = folder / HISTORY_NAME
    try:
        builds = json.loads(path.read_text()) if path.is_file() else []
        builds = builds if isinstance(builds, list) else []
    except ValueError:
        builds = []
    builds = [*builds, entry][-HISTORY:]
    path.write_text(json.dumps(builds, indent=1) + "\n")
    return builds


def write_index(dag: Any) -> Path | None:
    """Write ``index.html`` beside the reports of ``dag``'s notebook tasks; its path."""
    tasks, registration = collect(dag)
    folder = index_folder(tasks)
    if folder is None:
        log.info("no HTML reports: no index page written")
        return None
    failed = [t.name for t in tasks if t.outcome == "failed"]
    if not failed:  # a failed run's page is stale once its task built again
        for task in tasks:
            for notebook in (p for p in task.reports if p.suffix == ".ipynb"):
                failed_page(notebook).unlink(missing_ok=True)
    when = datetime.now(UTC)
    outcome = f"failed at {', '.join(failed)}" if failed else "succeeded"
    registered = any(t.ran and t.name == registration.get("task") for t in tasks)
    tag = registration.get("tag") if registered else None
    builds = remember(folder, {"at": f"{when:%Y-%m-%d %H:%M:%S}", "outcome": outcome,
                               "model": tag,
                               "reports": keep_reports(folder, str(tag), tasks) if tag else []})
    _prune(folder, builds)
    compare = folder / COMPARE_NAME
    from ..errors import ConfigError
    from ..registry.lineage import find_project_root

    try:
        title = find_project_root(folder).name
    except ConfigError:  # a DAG built outside a project folder
        title = folder.name
    path = folder / INDEX_NAME
    path.write_text(render(tasks, registration, folder, title, when, builds,
                           compare if compare.is_file() else None), encoding="utf-8")
    log.info("reports index: %s", path)
    return path
