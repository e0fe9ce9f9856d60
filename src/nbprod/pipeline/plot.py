"""An offline picture of the pipeline: each task and its status, as inline SVG.

``ploomber plot --backend d3`` loads d3 from two CDNs (a blank page offline) and the
other backends need graphviz. :func:`render_page` writes one self-contained HTML page (or
:func:`render_svg` an SVG): no script, no stylesheet or font from anywhere, so it shows
the same with no network. Each task is a box coloured by its status:

- ``up to date``: Ploomber would skip it (its source, parameters and upstream are the
  ones its products were built from);
- ``outdated``: the next ``ploomber build`` runs it;
- ``failed``: its last run failed (:mod:`nbprod.pipeline.failure` left a marker newer than its
  products) and it has not built since.

As ``ploomber status`` does, each task also says when it last ran and why it is outdated
(never run, its source changed, an upstream task changed), in its box's tooltip and in the
table; each box links the task's HTML report (the failed run's page for a failed task).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .failure import failure_marker
from .reports import HTML_SUFFIXES, failed_page

UP_TO_DATE, OUTDATED, FAILED = "up to date", "outdated", "failed"
COLOURS = {UP_TO_DATE: ("#d9f2d9", "#2e7d32"), OUTDATED: ("#fff3cd", "#b26a00"),
           FAILED: ("#f8d7da", "#b71c1c")}
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 54, 70, 26, 20
TOP = 90  # room above the first row for the arcs of edges that skip a column


@dataclass(frozen=True)
class Node:
    name: str
    upstream: tuple[str, ...]
    status: str
    why: str = ""  # why it is outdated ("" when up to date)
    last_run: str = ""  # when its products were last built ("" never)
    report: Path | None = None  # the task's HTML report, if there is one


def _why(task: Any, status: str, outdated: set[str]) -> str:
    """Why ``task`` would run again, as ``ploomber status`` says it."""
    if status == UP_TO_DATE:
        return ""
    reasons = ["its last run failed"] if status == FAILED else []
    names = sorted(set(task.upstream) & outdated)
    if task.product.metadata.timestamp is None:  # Ploomber drops it when a run fails
        reasons.append("no finished run is recorded")
    else:
        row = task.status(sections=["outdated_code", "outdated_dependencies"])
        if row["Outdated code"]:
            reasons.append("its source or parameters changed")
        if row["Outdated dependencies"] and not names:
            reasons.append("an upstream product is newer")
    if names:
        reasons.append(f"upstream {', '.join(names)} will run")
    return "; ".join(reasons) or "its products are missing or were changed"


def _report(task: Any, status: str) -> Path | None:
    from ploomber.products import MetaProduct

    products = (task.product.to_json_serializable() if isinstance(task.product, MetaProduct)
                else {"product": str(task.product)})
    paths = [Path(p) for p in products.values()]
    notebook = next((p for p in paths if p.suffix == ".ipynb"), None)
    if status == FAILED and notebook is not None and failed_page(notebook).is_file():
        return failed_page(notebook)
    return next((p for p in paths if p.suffix in HTML_SUFFIXES and p.is_file()), None)


def _last_run(task: Any) -> str:
    stamp = task.product.metadata.timestamp
    return "" if stamp is None else f"{datetime.fromtimestamp(stamp, UTC):%Y-%m-%d %H:%M} UTC"


def _failed(task: Any) -> bool:
    """A marker of a failed run that no later build of the task replaced."""
    marker = failure_marker(task)
    if marker is None or not marker.is_file():
        return False
    product = marker.with_name(marker.name[1:-len(".nbprod-failed")])
    return not product.exists() or marker.stat().st_mtime >= product.stat().st_mtime


def task_status(dag: Any) -> list[Node]:
    """Each task of a rendered DAG with its upstream and status, in the DAG's order."""
    from ploomber.constants import TaskStatus

    nodes: list[Node] = []
    for name in dag:  # in topological order: an upstream task's status is known first
        task = dag[name]
        if task.exec_status == TaskStatus.Skipped:
            status = UP_TO_DATE
        else:
            status = FAILED if _failed(task) else OUTDATED
        outdated = {n.name for n in nodes if n.status != UP_TO_DATE}
        nodes.append(Node(name, tuple(task.upstream), status, _why(task, status, outdated),
                          _last_run(task), _report(task, status)))
    return nodes


def load_status(pipeline: str | Path | None = None) -> list[Node]:
    """Render the project's pipeline (pipeline.yaml found as Ploomber does; env.yaml or
    ``PLOOMBER_ENV_FILENAME``) and read every task's status. Nothing is executed."""
    from ploomber.spec import DAGSpec

    spec = DAGSpec(str(pipeline)) if pipeline else DAGSpec.find()
    dag = spec.to_dag()
    dag.render(show_progress=False)
    return task_status(dag)


def layers(nodes: list[Node]) -> dict[str, int]:
    """Column of each task: the length of the longest path from a task without upstream."""
    by_name = {n.name: n for n in nodes}
    depth: dict[str, int] = {}

    def visit(name: str) -> int:
        if name not in depth:
            ups = [u for u in by_name[name].upstream if u in by_name]
            depth[name] = 1 + max(map(visit, ups)) if ups else 0
        return depth[name]

    for n in nodes:
        visit(n.name)
    return depth


def _edge(start: tuple[int, int], end: tuple[int, int], span: int) -> str:
    """An arrow from the upstream box to the task's: straight to the next column, an arc
    over the boxes in between when it skips columns."""
    (x1, y1), (x2, y2) = start, end
    if span <= 1:
        d = (f"M{x1 + BOX_W},{y1 + BOX_H / 2} C{x1 + BOX_W + GAP_X / 2},{y1 + BOX_H / 2} "
             f"{x2 - GAP_X / 2},{y2 + BOX_H / 2} {x2},{y2 + BOX_H / 2}")
    else:
        lift = min(TOP - 10, 14 * span + 8)
        d = (f"M{x1 + BOX_W * 0.75},{y1} C{x1 + BOX_W * 0.75},{y1 - lift} "
             f"{x2 + BOX_W * 0.25},{y2 - lift} {x2 + BOX_W * 0.25},{y2}")
    return (f'<path class="edge" d="{d}" fill="none" stroke="#555" stroke-width="1.5" '
            'marker-end="url(#arrow)"/>')


def _href(node: Node, folder: Path | None) -> str | None:
    """The link of a task's box, relative to the page's ``folder``."""
    if node.report is None or folder is None:
        return None
    return Path(os.path.relpath(node.report.resolve(), folder.resolve())).as_posix()


def _tooltip(n: Node) -> str:
    parts = [f"{n.name}: {n.status}",
             f"last run {n.last_run}" if n.last_run else "no finished run recorded"]
    if n.why:
        parts.append(f"why: {n.why}")
    return html.escape(" · ".join(parts))


def render_svg(nodes: list[Node], title: str = "pipeline", folder: Path | None = None) -> str:
    """The DAG as an SVG document: boxes left to right by depth, arrows upstream -> task;
    each box links its task's report, relative to ``folder`` (where the page is)."""
    from urllib.parse import quote

    depth = layers(nodes)
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for n in nodes:
        col = depth[n.name]
        row = rows.get(col, 0)
        rows[col] = row + 1
        pos[n.name] = (MARGIN + col * (BOX_W + GAP_X), MARGIN + TOP + row * (BOX_H + GAP_Y))
    width = MARGIN * 2 + (max(depth.values(), default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + TOP + max(rows.values(), default=1) * (BOX_H + GAP_Y) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="img">',
        f"<title>{html.escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
        f'<text x="{MARGIN}" y="{MARGIN + 10}" font-size="15" font-weight="bold">'
        f"{html.escape(title)}</text>",
    ]
    for n in nodes:
        for up in n.upstream:
            if up in pos:
                parts.append(_edge(pos[up], pos[n.name], depth[n.name] - depth[up]))
    for n in nodes:
        x, y = pos[n.name]
        fill, stroke = COLOURS[n.status]
        href = _href(n, folder)
        if href is not None:
            parts.append(f'<a href="{html.escape(quote(href))}">')
        parts.append(
            f'<g class="task" data-task="{html.escape(n.name)}" data-status="{n.status}">'
            f"<title>{_tooltip(n)}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + 22}" text-anchor="middle" font-size="14" '
            f'font-weight="bold">{html.escape(n.name)}</text>'
            f'<text x="{x + BOX_W / 2}" y="{y + 41}" text-anchor="middle" font-size="12" '
            f'fill="{stroke}">{n.status}</text></g>' + ("</a>" if href is not None else ""))
    ly = height - MARGIN - 10
    for i, (status, (fill, stroke)) in enumerate(COLOURS.items()):
        lx = MARGIN + i * 130
        parts.append(f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" rx="3" fill="{fill}" '
                     f'stroke="{stroke}"/><text x="{lx + 20}" y="{ly}" font-size="12">{status}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_page(nodes: list[Node], title: str = "pipeline", folder: Path | None = None) -> str:
    """A self-contained HTML page around :func:`render_svg`, with a table of the statuses,
    when each task last ran and why it is outdated."""
    from urllib.parse import quote

    counts = {s: sum(n.status == s for n in nodes) for s in COLOURS}

    def report(n: Node) -> str:
        href = _href(n, folder)
        return "-" if href is None else \
            f'<a href="{html.escape(quote(href))}">{html.escape(Path(href).name)}</a>'

    rows = "\n".join(f"<tr><td>{html.escape(n.name)}</td><td>{n.status}</td>"
                     f"<td>{html.escape(n.why) or '-'}</td><td>{html.escape(n.last_run) or 'none recorded'}"
                     f"</td><td>{html.escape(', '.join(n.upstream)) or '-'}</td>"
                     f"<td>{report(n)}</td></tr>" for n in nodes)
    when = datetime.now(UTC).isoformat(timespec="seconds")
    summary = ", ".join(f"{c} {s}" for s, c in counts.items())
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;margin-top:1em}}
td,th{{border:1px solid #ccc;padding:3px 10px;text-align:left}}
svg{{max-width:100%;height:auto}}</style></head>
<body>
{render_svg(nodes, title, folder)}
<p>{summary} (as of {when}; <code>ploomber build</code> runs what is not up to date)</p>
<table><tr><th>task</th><th>status</th><th>why outdated</th><th>last run</th><th>upstream</th>
<th>report</th></tr>
{rows}</table>
</body></html>
"""


def write(nodes: list[Node], output: str | Path, title: str = "pipeline") -> Path:
    """Write the picture: SVG if ``output`` ends in .svg, else the HTML page."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = output.parent
    text = (render_svg(nodes, title, folder) if output.suffix == ".svg"
            else render_page(nodes, title, folder))
    output.write_text(text)
    return output
