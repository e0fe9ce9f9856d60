"""What the rules look at: one notebook, parsed once, and the pipeline tasks that run it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from ..registry.lineage import INJECTED_TAG

PARAMETERS_TAG = "parameters"
#: Notebook languages the Python rules apply to (kernel spec or language info).
PYTHON_LANGUAGES = frozenset({"python", "python3", "ipython", "ipython3", "pyspark", "pyspark3"})
SPECIAL_PARAMETERS = ("upstream", "product")


@dataclass(frozen=True)
class TaskContract:
    """What the pipeline gives one notebook task: resolved params, products, dependencies.

    ``product`` is the task's product (a dict of paths, or one path; None when
    Ploomber reads it from the notebook, ``extract_product``); ``upstream`` the names
    of the tasks it depends on when the pipeline states them, None when Ploomber reads
    them from the notebook's parameters cell (``extract_upstream``). ``kind`` is
    ``notebook``, ``function``, ``sql``, ``shell`` or another task class's name;
    ``source`` is the notebook's file (None for other kinds). ``origins`` maps a
    parameter to the env placeholders its value in pipeline.yaml is made of.
    """

    name: str
    source: Path | None
    params: dict[str, Any]
    product: dict[str, str] | str | None
    upstream: frozenset[str] | None = None
    kind: str = "notebook"
    static_analysis: str = "regular"  # Ploomber's setting; "disable": params may vary
    origins: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pipeline:
    """The tasks of a pipeline (``pipeline.yaml`` as Ploomber resolves it)."""

    path: Path | None
    tasks: dict[str, TaskContract]
    env_file: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # --env--name value of this build

    @property
    def label(self) -> str:
        name = self.path.name if self.path else "pipeline.yaml"
        return f"{name} (with {self.env_file.name})" if self.env_file else name

    def tasks_for(self, notebook: Path) -> list[TaskContract]:
        target = notebook.resolve()
        return [t for t in self.tasks.values()
                if t.source is not None and t.source.resolve() == target]

    @property
    def notebooks(self) -> list[Path]:
        """The notebook files of the pipeline's notebook tasks."""
        return sorted({t.source for t in self.tasks.values() if t.source is not None})

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
    fmt: str = "ipynb"  # or the jupytext format of a text notebook ("percent", "light")
    default_language: str = ""  # a text notebook's language from its suffix
    first_lines: dict[int, int] = field(default_factory=dict)  # text notebooks: cell -> line
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # repaired on reading

    # --- what kind of notebook ---------------------------------------------------

    @property
    def is_text(self) -> bool:
        return self.fmt != "ipynb"

    @cached_property
    def language(self) -> str:
        """The notebook's language, lower case: from the kernel spec, else the language
        info, jupytext's header or the file's suffix; ``python`` when nothing says."""
        meta = self.metadata if self.nb is not None else {}
        kernel = meta.get("kernelspec") or {}
        for value in (kernel.get("language"), (meta.get("language_info") or {}).get("name"),
                      (meta.get("jupytext") or {}).get("main_language"), self.default_language):
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
        return "python"

    @property
    def is_python(self) -> bool:
        """Whether the Python rules apply (IPython and PySpark kernels included)."""
        return self.language in PYTHON_LANGUAGES

    def file_line(self, cell: int | None, line: int | None) -> int | None:
        """The line of a text notebook's file holding ``line`` of ``cell`` (None for .ipynb)."""
        if not self.is_text or cell is None or cell not in self.first_lines:
            return None
        return self.first_lines[cell] + (line - 1 if line else 0)

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
        """The cell's code parsed as Python (IPython magics translated), or None when it
        does not parse or the notebook is not in Python."""
        if not self.is_python:
            return None
        if number not in self._parsed:
            self._parsed[number] = parse_cell(self.cell(number).source)
        parsed = self._parsed[number]
        return parsed if isinstance(parsed, ast.Module) else None

    def syntax_error(self, number: int) -> SyntaxError | None:
        """Why a Python code cell does not parse, or None."""
        self.python(number)
        parsed = self._parsed.get(number)
        return parsed if isinstance(parsed, SyntaxError) else None

    @cached_property
    def _parsed(self) -> dict[int, ast.Module | SyntaxError]:
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


_CAPTURE = re.compile(r"^%%capture(?:\s+--?\w+)*\s+(?P<name>[A-Za-z_]\w*)\s*$")


@cache
def _transformer() -> Any:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def parse_cell(source: str) -> ast.Module | SyntaxError:
    """``source`` as a Python module: magics become ``get_ipython()`` calls as IPython
    runs them; lines keep their numbers. The body of ``%%time`` and the like is parsed
    as Python, that of another cell magic (``%%bash``) as no code; ``%%capture name``
    binds ``name``. The SyntaxError (line counted in the cell) when it does not parse."""
    stripped = source.lstrip()
    prefix = ""
    if stripped.startswith("%%"):
        skipped = source[: len(source) - len(stripped)].count("\n")
        first, _, body = stripped.partition("\n")
        magic = first[2:].split(" ")[0]
        if magic not in PYTHON_CELL_MAGICS:
            return ast.Module(body=[], type_ignores=[])
        captured = _CAPTURE.match(first.strip()) if magic == "capture" else None
        prefix = f"{captured.group('name')} = None" if captured else ""
        source = "\n" * skipped + prefix + "\n" + body
    try:
        return ast.parse(_transformer().transform_cell(source))
    except SyntaxError as exc:
        return exc
    except (ValueError, TypeError) as exc:  # e.g. null bytes in the source
        error = SyntaxError(str(exc))
        error.lineno = 1
        return error


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
