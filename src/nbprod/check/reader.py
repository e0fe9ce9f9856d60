"""Read a notebook for the rules: ``.ipynb`` with nbformat, text notebooks with jupytext.

Ploomber runs percent-format ``.py`` scripts (``# %% tags=["parameters"]``), light
scripts and R / R Markdown files as notebooks, converting them with jupytext; the
check reads them the same way and keeps, for each cell, the line of the file where
its source starts, so findings name the file's own line numbers.

A notebook that is nearly valid (a cell without ``source``, a raw cell carrying
outputs, nbformat 4.4 with cell ids) is read anyway: each flaw becomes a *problem*
(reported by NB001) and the cell is repaired in memory, so the other rules still run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .context import NotebookContext, relative

log = logging.getLogger(__name__)

#: Source suffixes Ploomber runs as notebooks (ploomber.spec.taskspec.suffix2taskclass).
NOTEBOOK_SUFFIXES = (".ipynb", ".py", ".R", ".r", ".Rmd")
TEXT_SUFFIXES = tuple(s for s in NOTEBOOK_SUFFIXES if s != ".ipynb")
#: The language a text notebook is in when its header names no kernel.
SUFFIX_LANGUAGE = {".py": "python", ".R": "R", ".r": "R", ".Rmd": "R"}

_CELL_TYPES = ("code", "markdown", "raw")


def read_notebook(path: Path, root: Path) -> NotebookContext:
    """``path`` as the rules see it; a file that cannot be read gets ``read_error``."""
    ctx = NotebookContext(path=path, display=relative(path, root), root=root, text=None)
    try:
        text = ctx.text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        ctx.read_error = f"cannot read the file: {exc}"
        return ctx
    try:
        if path.suffix in TEXT_SUFFIXES:
            _read_text_notebook(ctx, text)
        else:
            _read_ipynb(ctx, text)
    except RecursionError:
        ctx.nb = None
        ctx.read_error = ("nested too deeply to read (Python's recursion limit): no notebook "
                          "nests that deep; is it generated?")
    return ctx


def _read_ipynb(ctx: NotebookContext, text: str) -> None:
    import nbformat

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        ctx.read_error = f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        return
    if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
        ctx.read_error = "not a notebook nbformat can read: the JSON is not a notebook object"
        return
    if not isinstance(data.get("nbformat"), int):
        ctx.read_error = "not a notebook nbformat can read: no `nbformat` version number"
        return
    if data["nbformat"] >= 4:
        ctx.problems.extend(repair_cells(data))
    try:
        # nbformat.reads would validate and log the raw schema error on stderr; convert only
        nb = nbformat.convert(nbformat.from_dict(data), 4)
    except Exception as exc:  # nbformat raises several types for a file it cannot convert
        ctx.read_error = f"not a notebook nbformat can read: {exc}"
        return
    if nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        ctx.read_error = f"not a notebook nbformat can read (nbformat {data['nbformat']})"
        return
    if data["nbformat"] < 4:
        ctx.problems.extend(repair_cells(nb))
    ctx.nb = nb
    ctx.fmt = "ipynb"


def repair_cells(nb: dict[str, Any]) -> list[tuple[int | None, str]]:
    """Fix in memory what nbformat's schema rejects but Jupyter opens; say what was fixed.

    Cell ids in an nbformat 4.4 notebook are allowed silently (JupyterLab reads and
    writes them; the schema only wants the minor version raised).
    """
    problems: list[tuple[int | None, str]] = []
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = {}
    cells = nb.setdefault("cells", [])
    if nb.get("nbformat") == 4 and nb.get("nbformat_minor", 0) < 5 and any(
            isinstance(c, dict) and "id" in c for c in cells):
        nb["nbformat_minor"] = 5
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            cells[number - 1] = cell = {"cell_type": "raw", "metadata": {}, "source": ""}
            problems.append((number, "the cell is not a JSON object"))
            continue
        kind = cell.get("cell_type")
        if kind not in _CELL_TYPES:
            problems.append((number, f"cell_type {kind!r} is not one of {', '.join(_CELL_TYPES)}"))
            cell["cell_type"] = kind = "raw"
        if "source" not in cell:
            problems.append((number, f"the {kind} cell has no `source`"))
            cell["source"] = ""
        elif isinstance(cell["source"], list):
            cell["source"] = "".join(str(part) for part in cell["source"])
        elif not isinstance(cell["source"], str):
            problems.append((number, "the cell's `source` is not text"))
            cell["source"] = ""
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        if kind == "code":
            if not isinstance(cell.get("outputs"), list):
                if "outputs" in cell:
                    problems.append((number, "the code cell's `outputs` is not a list"))
                cell["outputs"] = []
            cell.setdefault("execution_count", None)
        else:
            extra = [key for key in ("outputs", "execution_count") if key in cell]
            if extra:
                problems.append((number, f"the {kind} cell carries {' and '.join(extra)} "
                                 "(only code cells have them)"))
                for key in extra:
                    del cell[key]
    return problems


def _read_text_notebook(ctx: NotebookContext, text: str) -> None:
    import jupytext

    try:
        nb = jupytext.reads(text, fmt=ctx.path.suffix[1:])
    except Exception as exc:  # jupytext raises several types on text it cannot split
        ctx.read_error = f"jupytext cannot read it as a notebook: {exc}"
        return
    ctx.nb = nb
    ctx.fmt = nb.metadata.get("jupytext", {}).get("text_representation", {}).get(
        "format_name") or "text"
    ctx.default_language = SUFFIX_LANGUAGE.get(ctx.path.suffix, "")
    ctx.first_lines = source_lines(text, nb.cells)


def source_lines(text: str, cells: list[Any]) -> dict[int, int]:
    """For each cell (numbered from 1), the 1-based line of ``text`` holding its first
    source line (for an empty cell: the line after the previous cell)."""
    lines = text.splitlines()
    stripped = [line.strip() for line in lines]
    out: dict[int, int] = {}
    cursor = 0
    for number, cell in enumerate(cells, start=1):
        body = cell.source.splitlines()
        first = next((i for i, line in enumerate(body) if line.strip()), None)
        if first is None:
            out[number] = min(cursor + 1, max(len(lines), 1))
            continue
        wanted = body[first].strip()
        found = None
        for index in range(cursor, len(lines)):
            candidate = stripped[index]
            if candidate == wanted or _uncommented(candidate) == wanted:
                found = index
                break
        if found is None:  # jupytext rewrote the line beyond recognition: keep counting
            found = cursor
        out[number] = found - first + 1
        cursor = found + len(body) - first
    return out


def _uncommented(line: str) -> str:
    """A line as jupytext uncomments it (markdown, commented magics): ``# %pip`` -> ``%pip``."""
    for prefix in ("# ", "#' ", "#", "#'"):
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return line
