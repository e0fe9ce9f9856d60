"""``nbprod check --fix``: make a source notebook clean (rule NB005).

Removes outputs, execution counts, the injected-parameters cell and the metadata
Ploomber and papermill add when injecting (``ploomber nb --inject``), and writes the
notebook back in nbformat's own layout (what JupyterLab writes). A text notebook
(percent ``.py``) only has injected cells to lose; it is written back by jupytext in
its own format, as ``ploomber nb --remove`` does. :func:`fix_findings` cleans the notebooks
a check found unclean.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .context import is_injected
from .findings import Finding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fixed:
    path: Path
    outputs: int
    execution_counts: int
    injected_cells: int

    def describe(self) -> str:
        parts = [f"{self.outputs} output(s)", f"{self.execution_counts} execution count(s)"]
        if self.injected_cells:
            parts.append(f"{self.injected_cells} injected cell(s)")
        return ", ".join(parts)


def strip_notebook(path: str | Path) -> Fixed | None:
    """Clean ``path`` in place; return what was removed, or None if it was clean."""
    import nbformat

    from .reader import TEXT_SUFFIXES

    path = Path(path)
    if path.suffix in TEXT_SUFFIXES:
        return _strip_text_notebook(path)
    nb = nbformat.read(path, as_version=4)
    outputs = counts = injected = 0
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and is_injected(cell):
            injected += 1
            continue
        if cell.cell_type == "code":
            outputs += len(cell.get("outputs", []))
            counts += cell.get("execution_count") is not None
            cell.outputs = []
            cell.execution_count = None
        if cell.get("metadata", {}).get("tags") == []:
            del cell.metadata["tags"]
        cells.append(cell)
    nb.cells = cells
    metadata_changed = nb.metadata.pop("papermill", None) is not None
    ploomber = nb.metadata.get("ploomber", {})
    if ploomber.pop("injected_manually", None) is not None:
        metadata_changed = True
        if not ploomber:
            del nb.metadata["ploomber"]
    if not (outputs or counts or injected or metadata_changed):
        return None
    nbformat.write(nb, path)
    fixed = Fixed(path, outputs, counts, injected)
    log.info("%s: removed %s", path, fixed.describe())
    return fixed


def fix_findings(findings: Iterable[Finding]) -> Iterator[Fixed]:
    """Clean each notebook with an NB005 finding (its path as given to the check), once, in
    path order; yield what was removed from each as it is written (a clean one yields none)."""
    for path in sorted({Path(f.path) for f in findings if f.rule == "NB005"}):
        fixed = strip_notebook(path)
        if fixed:
            yield fixed


def _strip_text_notebook(path: Path) -> Fixed | None:
    import jupytext

    nb = jupytext.read(path)
    kept = [c for c in nb.cells if not is_injected(c)]
    if len(kept) == len(nb.cells):
        return None
    removed = len(nb.cells) - len(kept)
    nb.cells = kept
    fmt = nb.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name")
    jupytext.write(nb, path, fmt=f"{path.suffix[1:]}:{fmt}" if fmt else path.suffix[1:])
    fixed = Fixed(path, 0, 0, removed)
    log.info("%s: removed %s", path, fixed.describe())
    return fixed
