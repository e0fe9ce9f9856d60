"""Her notebook, read as Python: each code cell's source with IPython's magics and shell lines
taken out, its tags, and the markdown headings above it.

Cells are numbered from 1 over every cell (markdown too), as Jupyter shows them top to
bottom; every message about her notebook names that number. A line of a cell keeps its
number: a dropped magic or ``!pip`` line becomes an empty line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

__all__ = ["Cell", "read_notebook"]

#: cell magics whose body is plain Python (the magic line goes, the body stays)
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})


@dataclass(frozen=True)
class Cell:
    """One code cell of her notebook."""

    number: int
    source: str
    tags: tuple[str, ...] = ()
    #: the nearest markdown heading above the cell (text, level), if any
    heading: tuple[str, int] | None = None
    #: lines that were IPython syntax (magics, shell) and were taken out, by line number
    dropped: tuple[int, ...] = ()

    def tree(self) -> ast.Module:
        return ast.parse(self.source, filename=f"<cell {self.number}>")


def _python(source: str) -> tuple[str, tuple[int, ...]]:
    """``source`` without IPython syntax, lines kept in place."""
    lines = source.splitlines()
    dropped: list[int] = []
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split()[0] if lines[0].strip() != "%%" else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return "", tuple(range(1, len(lines) + 1))
        lines[0], dropped = "", [1]
    out = []
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if stripped.startswith(("!", "%")) or (stripped.endswith("?") and "=" not in stripped
                                               and "#" not in stripped):
            out.append("")
            dropped.append(number)
        else:
            out.append(line)
    return "\n".join(out) + ("\n" if out else ""), tuple(dropped)


def _heading(text: str) -> tuple[str, int] | None:
    found = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            title = stripped[level:].strip()
            if title and 1 <= level <= 6 and (found is None or level <= found[1]):
                found = (title, level)
    return found


def read_notebook(path: str | Path) -> list[Cell]:
    """The code cells of the notebook at ``path``, as Python; a cell that still does not
    parse is refused naming its number and line."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--notebook {path}: no such file")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        raise ConfigError(f"--notebook {path}: not a Jupyter notebook ({exc})") from None
    cells: list[Cell] = []
    heading = None
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "markdown":
            heading = _heading(cell.source) or heading
            continue
        if cell.cell_type != "code":
            continue
        source, dropped = _python(cell.source)
        one = Cell(number, source, tuple(cell.metadata.get("tags", ())), heading, dropped)
        try:
            one.tree()
        except SyntaxError as exc:
            raise ConfigError(f"{path.name}: cell {number}, line {exc.lineno}: not Python "
                              f"({exc.msg}); fix the cell, then adopt the notebook") from None
        cells.append(one)
    if not any(c.source.strip() for c in cells):
        raise ConfigError(f"--notebook {path}: no code cell")
    return cells
