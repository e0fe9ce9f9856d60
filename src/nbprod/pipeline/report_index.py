"""The index page of a build's reports: ``index.html`` beside them (``on_finish`` hook).

One self-contained page (no script, no download) linking each notebook task's HTML
report and executed notebook in pipeline order, whether the task ran in this build or was
up to date, every figure a notebook task produced (``.png``, ``.svg``, ...), shown inline,
and the model version the build registered (a ``registration`` product, see
:mod:`nbprod.pipeline.reports`). It lies in the folder holding the HTML reports (their common
parent), so its links are relative and the folder can be copied or served as it is.
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .reports import HTML_SUFFIXES, REGISTRATION_KEY, model_heading

log = logging.getLogger(__name__)

INDEX_NAME = "index.html"
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")


@dataclass(frozen=True)
class TaskReports:
    name: str
    ran: bool
    reports: list[Path] = field(default_factory=list)  # HTML first, then the notebook
    figures: list[Path] = field(default_factory=list)


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
        tasks.append(TaskReports(name, task.exec_status == TaskStatus.Executed,
                                 [p for p in reports if p.is_file()],
                                 [p for p in figures if p.is_file()]))
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
           title: str, when: datetime) -> str:
    """The index page's HTML (pure: no file is read)."""
    def href(path: Path) -> str:
        return html.escape(quote(Path(os.path.relpath(path.resolve(), folder)).as_posix()))

    rows, figures = [], []
    for task in tasks:
        links = " · ".join(f'<a href="{href(p)}">{html.escape(p.name)}</a>' for p in task.reports)
        status = "ran in this build" if task.ran else "up to date (earlier build)"
        rows.append(f"<tr><td>{html.escape(task.name)}</td><td>{links or '—'}</td>"
                    f"<td>{status}</td></tr>")
        for fig in task.figures:
            figures.append(f'<figure><a href="{href(fig)}"><img src="{href(fig)}" alt="'
                           f'{html.escape(fig.name)}"></a><figcaption>{html.escape(fig.name)} '
                           f"({html.escape(task.name)})</figcaption></figure>")
    model = ""
    heading = model_heading(registration)
    if heading:
        version = html.escape(heading.replace("**", "").replace("`", ""))
        report = next((t for t in tasks if t.name == registration.get("task")), None)
        link = (f' · <a href="{href(report.reports[0])}">{html.escape(report.name)} report</a>'
                if report and report.reports else "")
        model = f'<p class="model">{version}{link}</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}: reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; }}
.model {{ font-size: 1.1rem; padding: .6rem; background: #f3f6fa; overflow-wrap: anywhere; }}
figure {{ margin: 1rem 0; }} img {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}
</style></head>
<body>
<h1>{html.escape(title)}: reports</h1>
<p>Written {when:%Y-%m-%d %H:%M} UTC by the last successful build.</p>
{model}
<table><thead><tr><th>task</th><th>report</th><th>status</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{"<h2>Figures</h2>" + chr(10).join(figures) if figures else ""}
</body></html>
"""


def write_index(dag: Any) -> Path | None:
    """Write ``index.html`` beside the reports of ``dag``'s notebook tasks; its path."""
    tasks, registration = collect(dag)
    folder = index_folder(tasks)
    if folder is None:
        log.info("no HTML reports: no index page written")
        return None
    from ..errors import ConfigError
    from ..registry.lineage import find_project_root

    try:
        title = find_project_root(folder).name
    except ConfigError:  # a DAG built outside a project folder
        title = folder.name
    path = folder / INDEX_NAME
    path.write_text(render(tasks, registration, folder, title, datetime.now(UTC)),
                    encoding="utf-8")
    log.info("reports index: %s", path)
    return path
