"""What the rules look at: one notebook, parsed once, and the pipeline tasks that run it."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..lineage import INJECTED_TAG

PARAMETERS_TAG = "parameters"
SPECIAL_PARAMETERS = ("upstream", "product")


@dataclass(frozen=True)
class TaskContract:
    """What the pipeline gives one notebook task: resolved params, products, dependencies.

    ``product`` is the task's product (a dict of paths, or one path); ``upstream``
    the names of the tasks it depends on when the pipeline states them, None when
    Ploomber reads them from the notebook's parameters cell (``extract_upstream``).
    """

    name: str
    source: Path
    params: dict[str, Any]
    product: dict[str, str] | str | None
    upstream: frozenset[str] | None = None


@dataclass(frozen=True)
class Pipeline:
    """The tasks of a pipeline (``pipeline.yaml`` as Ploomber resolves it)."""

    path: Path | None
    tasks: dict[str, TaskContract]
    env_file: Path | None = None

    @property
    def label(self) -> str:
        name = self.path.name if self.path else "pipeline.yaml"
        return f"{name} (with {self.env_file.name})" if self.env_file else name

    def tasks_for(self, notebook: Path) -> list[TaskContract]:
        target = notebook.resolve()
        return [t for t in self.tasks.values() if t.source.resolve() == target]

    def product_keys(self, task: str) -> set[str] | None:
        """The keys of ``task``'s product when it is a dict, else None (unknown or single)."""
        contract = self.tasks.get(task)
        if contract is None or not isinstance(contract.product, dict):
            return None
        return set(contract.product)


@dataclass(frozen=True)
class Parameter:
    """One assignment in the parameters cell."""

    name: str
    line: int
    literal: bool
    value: Any = None  # the default, when ``literal``


@dataclass
class NotebookContext:
    """A notebook as the rules see it. ``nb`` is None when the file is not a readable
    notebook (then only the rules that do not need one run)."""

    path: Path
    display: str
    root: Path
    text: str | None
    nb: Any = None
    read_error: str | None = None
    tasks: list[TaskContract] = field(default_factory=list)
    pipeline: Pipeline | None = None

    # --- cells -------------------------------------------------------------------

    def cells(self) -> Iterator[tuple[int, Any]]:
        """(cell number counted from 1, cell) for every cell."""
        yield from enumerate(self.nb.cells, start=1)

    def code_cells(self, *, parameters: bool = True, injected: bool = False):
        """The code cells, by default without the injected-parameters cell."""
        for number, cell in self.cells():
            if cell.cell_type != "code":
                continue
            if not injected and is_injected(cell):
                continue
            if not parameters and number == self.parameters_cell:
                continue
            yield number, cell

    def code_lines(self, **kwargs) -> Iterator[tuple[int, int, str]]:
        """(cell, line, text) for every line of the code cells."""
        for number, cell in self.code_cells(**kwargs):
            for line, text in enumerate(cell.source.splitlines(), start=1):
                yield number, line, text

    @cached_property
    def parameter_cells(self) -> list[int]:
        return [n for n, c in self.cells() if PARAMETERS_TAG in tags(c)]

    @property
    def parameters_cell(self) -> int | None:
        cells = self.parameter_cells
        return cells[0] if len(cells) == 1 else None

    def cell(self, number: int) -> Any:
        return self.nb.cells[number - 1]

    def python(self, number: int) -> ast.Module | None:
        """The cell's code parsed as Python (IPython magics translated), or None."""
        if number not in self._parsed:
            self._parsed[number] = parse_cell(self.cell(number).source)
        return self._parsed[number]

    @cached_property
    def _parsed(self) -> dict[int, ast.Module | None]:
        return {}

    @cached_property
    def parameters(self) -> dict[str, Parameter]:
        """The names the parameters cell assigns, with their literal defaults."""
        number = self.parameters_cell
        tree = self.python(number) if number else None
        if tree is None:
            return {}
        out = {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    try:
                        default = ast.literal_eval(value)
                    except (ValueError, SyntaxError, TypeError):
                        out[target.id] = Parameter(target.id, node.lineno, literal=False)
                    else:
                        out[target.id] = Parameter(target.id, node.lineno, True, default)
        return out

    @property
    def metadata(self) -> dict[str, Any]:
        return self.nb.get("metadata", {})


def tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def is_injected(cell: Any) -> bool:
    return INJECTED_TAG in tags(cell)


#: Cell magics whose body is Python run in the notebook's namespace.
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")


def parse_cell(source: str) -> ast.Module | None:
    """``source`` as a Python module: magics become ``get_ipython()`` calls as IPython
    runs them; lines keep their numbers. The body of ``%%time`` and the like is parsed
    as Python, that of another cell magic (``%%bash``) as no code. None on a syntax error."""
    from IPython.core.inputtransformer2 import TransformerManager

    if source.lstrip().startswith("%%"):
        first, _, body = source.lstrip().partition("\n")
        if first[2:].split(" ")[0] not in PYTHON_CELL_MAGICS:
            return ast.Module(body=[], type_ignores=[])
        source = "\n" + body
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def read_notebook(path: Path, root: Path) -> NotebookContext:
    """Read ``path`` with nbformat; a broken file gives a context with ``read_error``."""
    import nbformat

    display = relative(path, root)
    ctx = NotebookContext(path=path, display=display, root=root, text=None)
    try:
        ctx.text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        ctx.read_error = f"cannot read the file: {exc}"
        return ctx
    try:
        ctx.nb = nbformat.reads(ctx.text, as_version=4)
    except json.JSONDecodeError as exc:
        ctx.read_error = f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    except Exception as exc:  # nbformat raises several types for a file it cannot read
        ctx.read_error = f"not a notebook nbformat can read: {exc}"
    return ctx


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
