"""Executed notebooks as reports anyone can read: no machine paths, nothing cut off.

Ploomber writes each notebook task's executed copy (``.ipynb``) and converts it (``.html``).
Right after a task succeeds, and before any later task reads its report (the register
step hashes and archives them), :func:`tidy_task_reports` rewrites them:

- the injected-parameters cell is laid out one value per line, wrapped at
  :data:`WIDTH` characters, with every path inside the project written relative to the
  report's own folder (``../data/train.parquet``), so the report still runs where it
  lies (nbval, JupyterLab: a kernel starts in the notebook's folder);
- the notebook's own ``parameters`` cell says in its first line that it holds the defaults
  and that the injected cell after it holds this run's values (the two differ by design:
  the defaults run the notebook by hand, ``env.yaml`` runs the build);
- the project folder in outputs and in papermill's metadata is written relative too;
- a task with a ``registration`` product (the JSON the register step writes, with the
  model ``tag``) gets a first cell naming the model version it produced;
- the HTML is exported from the tidied notebook (instead of Ploomber's export of the raw
  one, which :func:`take_over_html` switches off), with code and text wrapped at the
  page's edge instead of cut off.

:func:`attach` (called by the ``on_render`` hook) makes it every notebook task's
``on_finish``, after any ``on_finish`` the pipeline declares.
"""

from __future__ import annotations

import ast
import functools
import json
import logging
import os
import pprint
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..registry.lineage import INJECTED_TAG, find_project_root

log = logging.getLogger(__name__)

WIDTH = 88
#: The first line of a report's ``parameters`` cell: its values are the notebook's defaults,
#: and the injected cell after it holds what this run used (they differ, by design).
DEFAULTS = "# Defaults for running the notebook by hand; this run's values are in the next cell.\n"
REGISTRATION_KEY = "registration"
HTML_SUFFIXES = (".html", ".htm")

#: Wrap long lines at the page's edge in JupyterLab's HTML template: at spaces, and inside a
#: word only when the word alone is wider than the page (``anywhere`` also let the output
#: area shrink to its narrowest, breaking ordinary words mid-word).
WRAP_CSS = """<style id="nbprod-report">
.jp-InputArea-editor pre, .jp-OutputArea-output pre, .highlight pre {
  white-space: pre-wrap; overflow-wrap: break-word; }
</style>
"""


# --- pure functions on values and notebooks ---------------------------------------------


def relative_path(value: str, root: Path, here: Path) -> str:
    """``value`` relative to ``here`` (with ``./`` or ``../``) if it is an absolute path
    inside ``root``, else unchanged."""
    path = Path(value)
    if not path.is_absolute():
        return value
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError):
        return value
    rel = Path(os.path.relpath(path.resolve(), here)).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def relative_paths(value: Any, root: Path, here: Path) -> Any:
    """:func:`relative_path` applied to every string inside lists and dicts."""
    if isinstance(value, dict):
        return {k: relative_paths(v, root, here) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_paths(v, root, here) for v in value]
    if isinstance(value, str):
        return relative_path(value, root, here)
    return value


def relative_text(text: str, root: Path) -> str:
    """Free text with the project folder left out (``/home/ana/proj/data/x`` -> ``data/x``)."""
    return text.replace(f"{root}{os.sep}", "").replace(str(root), ".")


def format_parameters(source: str, root: Path, here: Path, width: int = WIDTH) -> str:
    """The injected cell's source, one assignment per statement, wrapped at ``width``,
    project paths relative to ``here``. A source that is not plain literal assignments
    only has the project folder left out of its text."""
    try:
        tree = ast.parse(source)
        values = [(node.targets[0].id, ast.literal_eval(node.value))  # type: ignore[attr-defined]
                  for node in tree.body]
    except (SyntaxError, ValueError, AttributeError, IndexError):
        return relative_text(source, root)
    lines = ["# Parameters (paths relative to this report's folder)"]
    for name, value in values:
        prefix = f"{name} = "
        text = pprint.pformat(relative_paths(value, root, here), width=width - len(prefix),
                              sort_dicts=False)
        lines.append(prefix + text.replace("\n", "\n" + " " * len(prefix)))
    return "\n".join(lines)


def _tidy_output(output: dict, root: Path) -> None:
    if "text" in output:
        output["text"] = relative_text(_joined(output["text"]), root)
    for mime, data in output.get("data", {}).items():
        if mime.startswith("text/") and isinstance(data, (str, list)):
            output["data"][mime] = relative_text(_joined(data), root)
    if "traceback" in output:
        output["traceback"] = [relative_text(line, root) for line in output["traceback"]]


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def tidy_notebook(nb: Any, root: Path, here: Path, source: Path | None = None,
                  heading: str | None = None) -> Any:
    """``nb`` (an nbformat notebook, changed in place and returned) as a report: see the
    module docstring. ``here`` is the report's folder, ``source`` the task's notebook."""
    import nbformat

    injected = any(INJECTED_TAG in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if INJECTED_TAG in tags:
            cell.source = format_parameters(cell.source, root, here)
        elif injected and "parameters" in tags and not _joined(cell.source).startswith(DEFAULTS):
            cell.source = DEFAULTS + _joined(cell.source)
        for output in cell.get("outputs", []):
            _tidy_output(output, root)
    papermill = nb.metadata.get("papermill")
    if papermill:
        nb.metadata["papermill"] = relative_paths(dict(papermill), root, here)
        if source is not None and "input_path" in papermill:
            nb.metadata["papermill"]["input_path"] = relative_path(str(source), root, here)
    if heading and not (nb.cells and nb.cells[0].get("metadata", {}).get("nbprod") == "heading"):
        cell = nbformat.v4.new_markdown_cell(heading, metadata={"nbprod": "heading"})
        nb.cells.insert(0, cell)
    return nb


def model_heading(registration: dict[str, Any]) -> str | None:
    """The first cell of a report that produced a model version."""
    tag = registration.get("tag")
    if not tag:
        return None
    if "promoted" not in registration:
        return f"**Model version `{tag}`**"
    verdict = "promoted to production" if registration["promoted"] else "not promoted"
    reason = registration.get("reason")
    return f"**Model version `{tag}`**: {verdict}" + (f" ({reason})" if reason else "")


def html_report(nb: Any, export_kwargs: dict[str, Any] | None = None) -> str:
    """``nb`` as the HTML Ploomber writes (nbconvert, JupyterLab template, the task's
    ``nbconvert_export_kwargs``), lines wrapped."""
    body, _ = _exporter(tuple(sorted((export_kwargs or {}).items()))).from_notebook_node(nb)
    return body.replace("</head>", WRAP_CSS + "</head>", 1)


@functools.cache
def _exporter(kwargs: tuple) -> Any:
    """One HTMLExporter per set of options per process: it compiles its templates once
    (a new one per notebook, as Ploomber makes, compiles them again each time; BENCHMARKS.md,
    "The executed reports' HTML")."""
    from nbconvert import HTMLExporter

    return HTMLExporter(**dict(kwargs))


# --- the Ploomber hook ------------------------------------------------------------------


def report_notebook(task: Any) -> Path | None:
    """A notebook task's executed ``.ipynb``."""
    from ploomber.products import MetaProduct

    keys = task.nb_product_key
    if isinstance(task.product, MetaProduct) and keys is not None:
        keys = [keys] if isinstance(keys, str) else list(keys)
        paths = [Path(str(task.product[key])) for key in keys]
    else:
        paths = [Path(str(task.product))]
    return next((p for p in paths if p.suffix == ".ipynb"), None)


def take_over_html(task: Any) -> list[tuple[Path, dict[str, Any]]]:
    """Switch off Ploomber's conversion of ``task``'s executed notebook to its HTML
    products, and return them with their ``nbconvert_export_kwargs``: the tidy exports
    them from the tidied notebook, so converting the raw one first would only double the
    cost. The one place that touches Ploomber's converter (ploomber 0.23.3,
    ``NotebookRunner._converter``); a converter of another shape is left alone."""
    converters = getattr(task, "_converter", None)
    converters = converters if isinstance(converters, list) else [converters]
    taken = []
    for converter in converters:
        exporter = getattr(converter, "_exporter", None)
        output = Path(str(getattr(converter, "_path_to_output", "")))
        if exporter is None or output.suffix not in HTML_SUFFIXES or \
                getattr(exporter, "__name__", "") != "HTMLExporter":
            continue
        taken.append((output, dict(converter._nbconvert_export_kwargs)))
        converter._exporter, converter._nbconvert_export_kwargs = None, {}
    return taken


def _registration(task: Any) -> dict[str, Any]:
    from ploomber.products import MetaProduct

    if not isinstance(task.product, MetaProduct):
        return {}
    path = task.product.to_json_serializable().get(REGISTRATION_KEY)
    if path is None:
        return {}
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("%s: %s is not readable JSON; the report names no model", task.name, path)
        return {}


def tidy_task_reports(task: Any, html: Sequence[tuple[Path, dict[str, Any]]] = ()) -> None:
    """Rewrite ``task``'s executed notebook and write its ``html`` reports from it (the
    module docstring)."""
    import nbformat

    notebook = report_notebook(task)
    if notebook is None or not notebook.is_file():
        return
    source = Path(str(task.source.loc)).resolve()
    root = find_project_root(source.parent)
    nb = nbformat.read(notebook, as_version=4)
    heading = model_heading(_registration(task))
    tidy_notebook(nb, root, notebook.parent.resolve(), source=source, heading=heading)
    nbformat.write(nb, notebook)
    for path, kwargs in html:
        path.write_text(html_report(nb, kwargs), encoding="utf-8")
    log.debug("%s: reports tidied (%s)", task.name,
              ", ".join(p.name for p in [notebook, *(p for p, _ in html)]))


def failed_report(task: Any) -> Path | None:
    """After ``task`` failed: its partial executed notebook, tidied, as HTML beside it
    (``NAME.failed.html``; the task's own HTML stays the last successful run's). Its path,
    or None when the task wrote no notebook."""
    import nbformat

    notebook = report_notebook(task)
    if notebook is None or not notebook.is_file():
        return None
    source = Path(str(task.source.loc)).resolve()
    nb = nbformat.read(notebook, as_version=4)
    tidy_notebook(nb, find_project_root(source.parent), notebook.parent.resolve(), source=source,
                  heading=f"**This run of `{task.name}` failed**: the partial notebook, up to "
                          "the cell that raised")
    page = failed_page(notebook)
    page.write_text(html_report(nb), encoding="utf-8")
    return page


def failed_page(notebook: Path) -> Path:
    """Where the HTML of a failed run of the task writing ``notebook`` goes."""
    return notebook.with_name(f"{notebook.stem}.failed.html")


def attach(dag: Any) -> None:
    """Make :func:`tidy_task_reports` run when each notebook task of ``dag`` succeeds,
    after the task's own ``on_finish`` (if any). Idempotent: on_render runs on every
    render."""
    from ploomber.tasks.notebook import NotebookMixin

    for name in dag:
        task = dag[name]
        if not isinstance(task, NotebookMixin) or not hasattr(task, "nb_product_key"):
            continue
        if not getattr(task.on_finish, "nbprod_reports", False):
            task.on_finish = TidyAfter(task.on_finish, take_over_html(task))


class TidyAfter:
    """An ``on_finish`` hook: ``previous`` (with the arguments it asks for), then the tidy.

    A class, not a closure: Ploomber pickles the whole DAG to run a function task in a
    subprocess, and a local function on any task would make that fail.
    """

    nbprod_reports = True

    def __init__(self, previous: Any, html: list) -> None:
        self.previous = previous
        self.html = html

    def __call__(self, task: Any) -> None:
        from ploomber.util.util import callback_check

        if self.previous is not None:
            self.previous(**callback_check(self.previous, task._available_callback_kwargs))
        tidy_task_reports(task, self.html)
