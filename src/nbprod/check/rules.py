"""The rules of the notebook's contract with its pipeline (NB001-NB005), one function each.

Each function receives a :class:`~nbprod.check.context.NotebookContext` and yields
:class:`~nbprod.check.findings.Hit` objects; the registry adds the rule id. The rules
about the code in the cells (NB006-NB010) are in :mod:`.code_rules`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from fnmatch import fnmatch
from typing import Any

from .context import SPECIAL_PARAMETERS, NotebookContext, is_injected
from .findings import Hit
from .pipeline import products_outside, project_folder
from .rules_table import rule

TYPES = (bool, int, float, str, list, dict)

# --- NB001 ------------------------------------------------------------------------------


@rule("NB001", "valid-notebook", "valid nbformat (or a text notebook jupytext reads), with a "
      "kernel spec", needs_notebook=False)
def valid_notebook(nb: NotebookContext) -> Iterator[Hit]:
    hint = "open and re-save it in JupyterLab (it repairs most schema problems)"
    if nb.read_error:
        yield Hit(None, None, nb.read_error, "open and re-save it in JupyterLab, or restore it from git")
        return
    for cell, problem in nb.problems:
        yield Hit(cell, None, f"not valid nbformat: {problem}", hint)
    if nb.is_text:
        return  # jupytext builds the notebook; Ploomber runs it with the default kernel
    import nbformat

    if not nb.problems:
        error = next(iter(nbformat.validator.iter_validate(nb.nb)), None)
        if error is not None:
            yield Hit(None, None, f"not valid nbformat {nb.nb.nbformat}: {error.message}", hint)
    if not nb.metadata.get("kernelspec"):
        yield Hit(None, None, "no kernel spec in the notebook metadata",
                  "open it in JupyterLab and select its kernel (Ploomber and papermill run "
                  "the notebook with the kernel it names)")


# --- NB002 ------------------------------------------------------------------------------


@rule("NB002", "parameters-cell", "exactly one code cell tagged `parameters`; no cell above it "
      "binds or reads a name it declares")
def parameters_cell(nb: NotebookContext) -> Iterator[Hit]:
    cells = nb.parameter_cells
    first_code = next((n for n, c in nb.cells() if c.cell_type == "code" and not is_injected(c)), None)
    hint = ("tag the cell that declares `upstream`, `product` and every parameter with its "
            "default `parameters` (JupyterLab: Property Inspector > Common Tools > Cell Tags; "
            'in a .py task: `# %% tags=["parameters"]`)')
    if not cells:
        yield Hit(first_code, None, "no cell is tagged `parameters`", hint)
        return
    if len(cells) > 1:
        listed = ", ".join(str(n) for n in cells)
        yield Hit(cells[1], None, f"{len(cells)} cells are tagged `parameters` (cells {listed})",
                  "keep the tag on one cell only")
        return
    number = cells[0]
    cell = nb.cell(number)
    if cell.cell_type != "code":
        yield Hit(number, None, f"the cell tagged `parameters` is a {cell.cell_type} cell", hint)
        return
    if nb.is_python:
        yield from _code_above_parameters(nb, number)


def _code_above_parameters(nb: NotebookContext, parameters: int) -> Iterator[Hit]:
    """Cells above the parameters cell run before the values the pipeline injects below
    it. Imports and setup code (``plt.style.use(...)``), which Ploomber's templates put
    there, cannot tell; a cell that binds or reads a declared name runs with the wrong value."""
    declared = set(nb.parameters)
    for number, _ in nb.code_cells():
        if number >= parameters:
            return
        tree = nb.python(number)
        if tree is None:
            continue  # NB010 reports the syntax error
        for line, name, verb in sorted(_touches(tree, declared)):
            yield Hit(number, line, f"{verb} {name!r}, which the parameters cell (cell {parameters}) "
                      "declares: this cell runs before the pipeline injects its value",
                      "move this code below the parameters cell (above it keep imports and setup)")
            return


def _touches(tree: ast.AST, names: set[str]) -> set[tuple[int, str, str]]:
    """(line, name, verb) for each use of one of ``names`` in ``tree``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            verb = "reads" if isinstance(node.ctx, ast.Load) else "binds"
            out.add((node.lineno, node.id, verb))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in names:
                    out.add((node.lineno, bound, "imports"))
    return out


# --- NB003 ------------------------------------------------------------------------------


def type_mismatch(default: Any, value: Any) -> str | None:
    """Why ``value`` cannot replace ``default``, or None when it can.

    The types compared are bool, int, float, str, list and dict. An int is accepted
    where the default is a float (``0`` for ``0.0``: YAML writes both alike and
    arithmetic is unchanged); a bool is never accepted as a number, nor a number as a
    bool. A default of None (or of another type) accepts anything.
    """
    expected = next((t for t in TYPES if isinstance(default, t)), None)
    if expected is None:
        return None
    if isinstance(value, bool) != (expected is bool):
        ok = False
    elif expected is float:
        ok = isinstance(value, (int, float))
    elif expected in (list, dict):
        ok = isinstance(value, (list, tuple) if expected is list else dict)
    else:
        ok = isinstance(value, expected)
    if ok:
        return None
    return f"{type(value).__name__}, but its default {default!r} is {expected.__name__}"


@rule("NB003", "parameters-match", "every parameter the pipeline passes is declared, with its type",
      python_only=True)
def parameters_match(nb: NotebookContext) -> Iterator[Hit]:
    cell = nb.parameters_cell
    if cell is None or not nb.tasks:
        return
    where = nb.pipeline.label if nb.pipeline else "the pipeline"
    declared = nb.parameters
    # one finding per parameter and problem, naming every task (grid) that has it
    groups: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
    for task in nb.tasks:
        for name, value in task.params.items():
            if name in SPECIAL_PARAMETERS:
                continue
            if name not in declared:
                if task.static_analysis != "disable":  # the task says its params vary
                    groups.setdefault((name, "undeclared"), []).append((task, value))
            elif not declared[name].literal:
                groups.setdefault((name, "not literal"), []).append((task, value))
            elif type_mismatch(declared[name].value, value):
                groups.setdefault((name, "type"), []).append((task, value))
    for (name, problem), uses in groups.items():
        task, value = uses[0]
        who = _tasks(uses)
        shown = _short(value) if len(uses) == 1 else ", ".join(_short(v) for _, v in uses[:3]) + (
            ", ..." if len(uses) > 3 else "")
        if problem == "undeclared":
            yield Hit(cell, None,
                      f"{who}: {where} passes parameter {name!r}, "
                      "which the parameters cell does not declare",
                      f"declare it in the parameters cell with a typed default "
                      f"(`{name} = ...`) or remove it from the task's params")
            continue
        param = declared[name]
        if problem == "not literal":
            yield Hit(cell, param.line,
                      f"{who}: the default of parameter {name!r} is not a literal, "
                      "so its type cannot be checked",
                      "give it a literal default (number, string, bool, list, dict or None)")
            continue
        given = _command_line(nb, task, name)
        source = f"the command line (`--env--{given}`)" if given else where
        fix = (f"fix the value of `--env--{given}` on the command line" if given
               else f"fix the value in {where}")
        yield Hit(cell, param.line,
                  f"{who}: {source} passes parameter {name!r} = {shown}, "
                  f"a {type_mismatch(param.value, value)}",
                  f"{fix} or the default's type in the parameters cell")


def _tasks(uses: list[tuple[Any, Any]]) -> str:
    names = [task.name for task, _ in uses]
    if len(names) == 1:
        return f"task {names[0]!r}"
    listed = ", ".join(repr(n) for n in names[:3]) + (" ..." if len(names) > 3 else "")
    return f"{len(names)} tasks ({listed})"


def _command_line(nb: NotebookContext, task: Any, name: str) -> str | None:
    """The ``--env--KEY`` of this command line the parameter's value came from, if any."""
    overrides = nb.pipeline.overrides if nb.pipeline else {}
    for key in sorted(task.origins.get(name, ())):
        if key in overrides:
            return key.replace(".", "--")
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- NB004 ------------------------------------------------------------------------------


def _cell_upstream(nb: NotebookContext) -> tuple[set[str] | None, int | None, str | None]:
    """(names in ``upstream`` of the parameters cell, None if it is not given or None; its
    line; a problem). ``upstream = None`` is what Ploomber documents for a root task and
    for ``extract_upstream: False``, where pipeline.yaml lists the dependencies."""
    param = nb.parameters.get("upstream")
    if param is None:
        return None, None, None
    if not param.literal:
        return None, param.line, "`upstream` must be a literal list of task names (or None)"
    value = param.value
    if value is None:
        return None, param.line, None
    if isinstance(value, (list, tuple, set, dict)) and all(isinstance(v, str) for v in value):
        return set(value), param.line, None
    return None, param.line, "`upstream` must be a list of task names, or None"


def _constant_key(node: ast.AST) -> str | None:
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        if isinstance(node.slice.value, str):
            return node.slice.value
    return None


def _code_nodes(nb: NotebookContext) -> Iterator[tuple[int, ast.AST]]:
    """(cell, node) for every syntax node of the code cells after the parameters cell."""
    for number, _ in nb.code_cells(parameters=False):
        tree = nb.python(number)
        for node in ast.walk(tree) if tree is not None else ():
            yield number, node


def _subscripts(nb: NotebookContext, name: str) -> Iterator[tuple[int, int, ast.Subscript, str]]:
    """Every ``name["key"]`` read in the code cells after the parameters cell."""
    for number, node in _code_nodes(nb):
        key = _constant_key(node)
        if key is not None and isinstance(node, ast.Subscript) and \
                isinstance(node.value, ast.Name) and node.value.id == name:
            yield number, node.lineno, node, key


@rule("NB004", "upstream-product", "`upstream` matches the pipeline; used upstream/product keys "
      "exist; products inside the project", python_only=True)
def upstream_and_product(nb: NotebookContext) -> Iterator[Hit]:
    cell = nb.parameters_cell
    if cell is None:
        return
    names, line, problem = _cell_upstream(nb)
    if problem:
        yield Hit(cell, line, problem, 'e.g. `upstream = ["features"]`')
        return
    pipeline = nb.pipeline
    allowed: set[str] | None = set(names or ())
    if pipeline is not None and nb.tasks:
        known = sorted(pipeline.tasks)  # every kind: notebooks, functions, SQL, shell...
        expanded: set[str] = set()
        for name in sorted(names or ()):
            matches = {t for t in known if fnmatch(t, name)}
            if not matches:
                yield Hit(cell, line, f"upstream {name!r} is not a task of {pipeline.label}",
                          f"the tasks are: {_listed(known)}")
            expanded |= matches
        allowed = expanded | set(names or ())
        for task in nb.tasks:
            if task.name in expanded:
                yield Hit(cell, line, f"task {task.name!r} lists itself in `upstream`",
                          "remove it: a task cannot depend on itself")
            if task.upstream is None:
                continue
            allowed |= task.upstream
            if names and matches_known(names, known) and task.upstream != expanded:
                yield Hit(cell, line,
                          f"task {task.name!r}: `upstream` in the cell is {sorted(names)}, "
                          f"the pipeline's dependencies are {sorted(task.upstream)}",
                          "make the cell's `upstream` list the tasks the pipeline says it depends "
                          "on, or set it to None and let pipeline.yaml list them")
    elif names is None:
        allowed = None  # no pipeline to say what Ploomber will inject
    # keys the code reads
    for number, lineno, _, key in _subscripts(nb, "upstream"):
        if allowed is None or key in allowed or any(fnmatch(key, n) for n in names or ()):
            continue
        declared = sorted(names) if names else None
        yield Hit(number, lineno, f"upstream[{key!r}] is read, but the parameters cell declares "
                  f"upstream = {declared}", f"add {key!r} to `upstream` in the parameters cell")
    yield from _upstream_product_keys(nb)
    yield from _product_keys(nb)
    if pipeline is not None and pipeline.path is not None:
        for task in nb.tasks:
            for key, path in products_outside(task, project_folder(pipeline.path)):
                yield Hit(cell, line, f"task {task.name!r}: product {key + ' ' if key else ''}"
                          f"{path!r} is outside the project", "keep products under the "
                          "project's folder (e.g. products/), where its builds write")


def matches_known(names: set[str], known: list[str]) -> bool:
    """Whether every name (or pattern) of the cell names a task; else one finding says it."""
    return all(any(fnmatch(t, n) for t in known) for n in names)


def _listed(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _upstream_product_keys(nb: NotebookContext) -> Iterator[Hit]:
    if nb.pipeline is None or not nb.tasks:
        return
    for number, node in _code_nodes(nb):
        key = _constant_key(node)
        inner = node.value if isinstance(node, ast.Subscript) else None
        task = _constant_key(inner) if inner is not None else None
        if key is None or task is None or not isinstance(inner, ast.Subscript) or \
                not isinstance(node, ast.Subscript):
            continue
        if not (isinstance(inner.value, ast.Name) and inner.value.id == "upstream"):
            continue
        keys = nb.pipeline.product_keys(task)
        if keys is not None and key not in keys:
            yield Hit(number, node.lineno,
                      f"upstream[{task!r}][{key!r}]: task {task!r} has no product {key!r}",
                      f"its products are: {', '.join(sorted(keys))}")


def _product_keys(nb: NotebookContext) -> Iterator[Hit]:
    products = [t.product for t in nb.tasks if t.product is not None]
    where = "the pipeline"
    if not products:  # no pipeline, or Ploomber reads the product from the cell
        param = nb.parameters.get("product")
        products = [param.value] if param is not None and param.literal else []
        products = [p for p in products if p is not None]  # a placeholder: unknown products
        where = "the parameters cell"
    for number, lineno, _, key in _subscripts(nb, "product"):
        for product in products:
            if not isinstance(product, dict):
                yield Hit(number, lineno, f"product[{key!r}] is read, but the task has a single "
                          "product (a path, not a dict)", "use `product` itself, or make it a dict")
                break
            if key not in product:
                yield Hit(number, lineno, f"product[{key!r}] is read, but {where} declares no such "
                          f"product (it has: {', '.join(sorted(product))})",
                          "add the product to the task in pipeline.yaml, or fix the key")
                break


# --- NB005 ------------------------------------------------------------------------------


@rule("NB005", "clean-source", "no outputs, execution counts or injected cells in a source notebook",
      fixable=True)
def clean_source(nb: NotebookContext) -> Iterator[Hit]:
    hint = "run `nbprod check --fix` (or clear all outputs in JupyterLab and save)"
    for number, cell in nb.cells():
        if cell.cell_type != "code":
            continue
        if is_injected(cell):
            yield Hit(number, None, "an injected-parameters cell is saved in the source (its "
                      "paths are this machine's)", "run `nbprod check --fix` or `ploomber nb --remove`")
            continue
        problems = []
        if cell.get("outputs"):
            problems.append(f"{len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"execution count {cell.execution_count}")
        if problems:
            yield Hit(number, None, "the source notebook carries " + " and ".join(problems), hint)
    if "papermill" in nb.metadata or nb.metadata.get("ploomber", {}).get("injected_manually"):
        yield Hit(None, None, "notebook metadata carries injected parameters (papermill/ploomber)",
                  "run `nbprod check --fix` or `ploomber nb --remove`")


