"""The nine rules of the notebook contract (NB001-NB009), one function each.

Each function receives a :class:`~nbprod.check.context.NotebookContext` and yields
:class:`~nbprod.check.findings.Hit` objects; the registry adds the rule id.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from .context import SPECIAL_PARAMETERS, NotebookContext, is_injected
from .findings import Hit
from .names import names_used_before_defined
from .patterns import (
    CHANGE_DIR,
    INSTALL,
    SECRET_NAME,
    SECRET_PATTERNS,
    is_absolute_path,
    is_data_path,
    looks_random,
    redact,
)
from .registry import rule

PYTHON_KERNELS = ("python", "python3", "ipython", "ipython3")
TYPES = (bool, int, float, str, list, dict)

# --- NB001 ------------------------------------------------------------------------------


@rule("NB001", "valid-notebook", "valid nbformat, with a Python kernel spec", needs_notebook=False)
def valid_notebook(nb: NotebookContext) -> Iterator[Hit]:
    if nb.read_error:
        yield Hit(None, None, nb.read_error, "open and re-save it in JupyterLab, or restore it from git")
        return
    import nbformat

    try:
        nbformat.validate(nb.nb)
    except nbformat.ValidationError as exc:
        yield Hit(None, None, f"not valid nbformat {nb.nb.nbformat}: {exc.message}",
                  "open and re-save it in JupyterLab (it repairs most schema problems)")
    kernel = nb.metadata.get("kernelspec") or {}
    language = (kernel.get("language") or nb.metadata.get("language_info", {}).get("name", ""))
    name = kernel.get("name", "")
    if not kernel:
        yield Hit(None, None, "no kernel spec in the notebook metadata",
                  "open it in JupyterLab and select the Python 3 (ipykernel) kernel")
    elif str(language).lower() != "python" or not str(name).lower().startswith(PYTHON_KERNELS):
        yield Hit(None, None, f"kernel spec {name!r} (language {language!r}) is not a Python kernel",
                  "select the Python 3 (ipykernel) kernel: the pipeline runs notebooks with it")


# --- NB002 ------------------------------------------------------------------------------


@rule("NB002", "parameters-cell", "exactly one cell tagged `parameters`, the first code cell")
def parameters_cell(nb: NotebookContext) -> Iterator[Hit]:
    cells = nb.parameter_cells
    first_code = next((n for n, c in nb.cells() if c.cell_type == "code" and not is_injected(c)), None)
    hint = ("tag the first code cell `parameters` (JupyterLab: Property Inspector > Common Tools "
            "> Cell Tags) and declare `upstream`, `product` and every parameter with its default")
    if not cells:
        yield Hit(first_code, None, "no cell is tagged `parameters`", hint)
        return
    if len(cells) > 1:
        listed = ", ".join(str(n) for n in cells)
        yield Hit(cells[1], None, f"{len(cells)} cells are tagged `parameters` (cells {listed})",
                  "keep the tag on one cell only: the first code cell")
        return
    number = cells[0]
    cell = nb.cell(number)
    if cell.cell_type != "code":
        yield Hit(number, None, f"the cell tagged `parameters` is a {cell.cell_type} cell", hint)
    elif number != first_code:
        yield Hit(number, None, f"the parameters cell is not the first code cell (cell {first_code} is)",
                  "move it above every other code cell: values injected after it must override "
                  "the defaults before any code runs")
    elif nb.python(number) is None:
        yield Hit(number, None, "the parameters cell is not valid Python",
                  "make it plain assignments: `name = literal`")


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


@rule("NB003", "parameters-match", "every parameter the pipeline passes is declared, with its type")
def parameters_match(nb: NotebookContext) -> Iterator[Hit]:
    cell = nb.parameters_cell
    if cell is None or not nb.tasks:
        return
    where = nb.pipeline.label if nb.pipeline else "the pipeline"
    declared = nb.parameters
    for task in nb.tasks:
        for name, value in task.params.items():
            if name in SPECIAL_PARAMETERS:
                continue
            shown = _short(value)
            if name not in declared:
                yield Hit(cell, None,
                          f"task {task.name!r}: {where} passes parameter {name!r} = {shown}, "
                          "which the parameters cell does not declare",
                          f"declare it in the parameters cell with a typed default "
                          f"(`{name} = ...`) or remove it from the task's params")
                continue
            param = declared[name]
            if not param.literal:
                yield Hit(cell, param.line,
                          f"task {task.name!r}: the default of parameter {name!r} is not a literal, "
                          "so its type cannot be checked",
                          "give it a literal default (number, string, bool, list, dict or None)")
                continue
            problem = type_mismatch(param.value, value)
            if problem:
                yield Hit(cell, param.line,
                          f"task {task.name!r}: {where} passes parameter {name!r} = {shown}, a {problem}",
                          f"fix the value in {where} or the default's type in the parameters cell")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- NB004 ------------------------------------------------------------------------------


def _cell_upstream(nb: NotebookContext) -> tuple[set[str] | None, int | None, str | None]:
    """(names in ``upstream`` of the parameters cell or None if not given, its line, a problem)."""
    param = nb.parameters.get("upstream")
    if param is None:
        return None, None, None
    if not param.literal:
        return None, param.line, "`upstream` must be a literal list of task names (or None)"
    value = param.value
    if value is None:
        return set(), param.line, None
    if isinstance(value, (list, tuple, set)) and all(isinstance(v, str) for v in value):
        return set(value), param.line, None
    if isinstance(value, dict):
        return set(value), param.line, None
    return None, param.line, "`upstream` must be a list of task names, or None for a root task"


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
        if key is not None and isinstance(node.value, ast.Name) and node.value.id == name:
            yield number, node.lineno, node, key


@rule("NB004", "upstream-product", "`upstream` matches the pipeline; used upstream/product keys exist")
def upstream_and_product(nb: NotebookContext) -> Iterator[Hit]:
    cell = nb.parameters_cell
    if cell is None:
        return
    names, line, problem = _cell_upstream(nb)
    if problem:
        yield Hit(cell, line, problem, 'e.g. `upstream = ["features"]`')
        return
    pipeline = nb.pipeline
    expanded = names
    if pipeline is not None and nb.tasks and names is not None:
        expanded = set()
        known = sorted(pipeline.tasks)
        for name in sorted(names):
            matches = {t for t in known if fnmatch(t, name)}
            if not matches:
                yield Hit(cell, line, f"upstream {name!r} is not a task of {pipeline.label}",
                          f"the tasks are: {', '.join(known)}")
            expanded |= matches
        for task in nb.tasks:
            if task.name in expanded:
                yield Hit(cell, line, f"task {task.name!r} lists itself in `upstream`",
                          "remove it: a task cannot depend on itself")
            if task.upstream is not None and task.upstream != expanded:
                yield Hit(cell, line,
                          f"task {task.name!r}: `upstream` in the cell is {sorted(expanded)}, "
                          f"the pipeline's dependencies are {sorted(task.upstream)}",
                          "make the cell's `upstream` list the tasks the pipeline says it depends on")
    # keys the code reads
    for number, lineno, _, key in _subscripts(nb, "upstream"):
        if names is None or key in expanded or any(fnmatch(key, n) for n in names):
            continue
        declared = sorted(names) if names else None
        yield Hit(number, lineno, f"upstream[{key!r}] is read, but the parameters cell declares "
                  f"upstream = {declared}", f"add {key!r} to `upstream` in the parameters cell")
    yield from _upstream_product_keys(nb)
    yield from _product_keys(nb)


def _upstream_product_keys(nb: NotebookContext) -> Iterator[Hit]:
    if nb.pipeline is None or not nb.tasks:
        return
    for number, node in _code_nodes(nb):
        key = _constant_key(node)
        inner = node.value if isinstance(node, ast.Subscript) else None
        task = _constant_key(inner) if inner is not None else None
        if key is None or task is None:
            continue
        if not (isinstance(inner.value, ast.Name) and inner.value.id == "upstream"):
            continue
        keys = nb.pipeline.product_keys(task)
        if keys is not None and key not in keys:
            yield Hit(number, node.lineno,
                      f"upstream[{task!r}][{key!r}]: task {task!r} has no product {key!r}",
                      f"its products are: {', '.join(sorted(keys))}")


def _product_keys(nb: NotebookContext) -> Iterator[Hit]:
    if nb.tasks:
        products = [t.product for t in nb.tasks]
        where = "the pipeline"
    else:
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


# --- NB006 ------------------------------------------------------------------------------


def _is_magic_call(node: ast.AST) -> bool:
    """``get_ipython().run_line_magic(...)`` and friends (IPython's translation of magics)."""
    func = getattr(node, "func", None)
    inner = getattr(func, "value", None)
    return (isinstance(node, ast.Call) and isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Name) and inner.func.id == "get_ipython")


def string_literals(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants of ``tree``, leaving out the arguments of magics."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_magic_call(node):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node
        stack.extend(ast.iter_child_nodes(node))


@rule("NB006", "no-hardcoded-paths", "no absolute or hard-coded data paths outside the parameters cell")
def no_hardcoded_paths(nb: NotebookContext) -> Iterator[Hit]:
    hint = ("pass it from pipeline.yaml: a product, an upstream product, or a parameter "
            "(`resources_` for input files) declared in the parameters cell")
    for number, _ in nb.code_cells(parameters=False):
        tree = nb.python(number)
        if tree is None:
            continue
        for node in sorted(string_literals(tree), key=lambda n: (n.lineno, n.col_offset)):
            text = node.value
            if is_absolute_path(text):
                yield Hit(number, node.lineno, f"absolute path {text!r}", hint)
            elif is_data_path(text):
                yield Hit(number, node.lineno, f"hard-coded data path {text!r}", hint)


# --- NB007 ------------------------------------------------------------------------------


@rule("NB007", "no-secrets", "no tokens, keys or passwords (by pattern and by entropy)")
def no_secrets(nb: NotebookContext) -> Iterator[Hit]:
    hint = ("read it from the environment (`os.environ[...]`) or an uncommitted .env file, "
            "and rotate it: it is in the notebook's history")
    for number, cell in nb.cells():
        lines = set()
        texts = [cell.source] + [_output_text(o) for o in cell.get("outputs", [])]
        for text, source in zip(texts, [True] + [False] * len(texts), strict=False):
            for lineno, line in enumerate(text.splitlines(), start=1):
                for kind, pattern in SECRET_PATTERNS.items():
                    match = pattern.search(line)
                    if match:
                        where = lineno if source else None
                        lines.add(where)
                        yield Hit(number, where, f"{kind} {redact(match.group(0))}"
                                  + ("" if source else " in an output"), hint)
                        break
        if cell.cell_type != "code" or is_injected(cell):
            continue
        tree = nb.python(number)
        if tree is not None:
            yield from (h for h in _secret_literals(number, tree, hint) if h.line not in lines)


def _secret_literals(number: int, tree: ast.AST, hint: str) -> Iterator[Hit]:
    named: set[int] = set()
    for node in ast.walk(tree):
        pairs: list[tuple[str, Any]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.keyword) and node.arg:
            pairs = [(node.arg, node.value)]
        elif isinstance(node, ast.Dict):
            pairs = [(k.value, v) for k, v in zip(node.keys, node.values, strict=True)
                     if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        for name, value in pairs:
            if (SECRET_NAME.search(name) and isinstance(value, ast.Constant)
                    and isinstance(value.value, str) and len(value.value) >= 4):
                named.add(id(value))
                yield Hit(number, value.lineno, f"hard-coded secret in {name!r}: "
                          f"{redact(value.value)}", hint)
    for node in string_literals(tree):
        if id(node) not in named and looks_random(node.value):
            yield Hit(number, node.lineno, f"high-entropy string {redact(node.value)} looks like a "
                      "key or token", hint + " (if it is not a secret: `# nbprod: ignore[NB007]`)")


def _output_text(output: Any) -> str:
    if "text" in output:
        text = output["text"]
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


# --- NB008 ------------------------------------------------------------------------------


@rule("NB008", "no-installs", "no `!pip`/`%pip`/`!conda` installs; no `%cd` out of the project")
def no_installs(nb: NotebookContext) -> Iterator[Hit]:
    for number, line, text in nb.code_lines():
        if INSTALL.match(text):
            yield Hit(number, line, f"package install in a notebook: {text.strip()!r}",
                      "add the package to pyproject.toml (pinned) and the lock file; "
                      "the pipeline's environment is built from them")
            continue
        match = CHANGE_DIR.match(text)
        if match and not _inside(nb, match.group("target")):
            yield Hit(number, line, f"`{text.strip()}` leaves the project folder",
                      "use paths passed as parameters instead of changing directory")
    for number, _ in nb.code_cells():
        tree = nb.python(number)
        for node in ast.walk(tree) if tree is not None else ():
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "chdir" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and not _inside(nb, node.args[0].value)):
                yield Hit(number, node.lineno, f"os.chdir({node.args[0].value!r}) leaves the project",
                          "use paths passed as parameters instead of changing directory")


def _inside(nb: NotebookContext, target: str) -> bool:
    """Whether ``%cd target``, run in the notebook's folder, stays in the project."""
    target = target.strip().strip("'\"")
    if target.startswith("-"):
        return True  # %cd -b bookmark / %cd -: history, not a path
    if not target or target.startswith("~") or "$" in target:
        return False
    root = (nb.pipeline.path.parent if nb.pipeline and nb.pipeline.path else nb.root).resolve()
    resolved = (nb.path.parent / Path(target)).resolve()
    return resolved == root or root in resolved.parents


# --- NB009 ------------------------------------------------------------------------------


@rule("NB009", "defined-before-use", "no name read before a cell above binds it (hidden state)")
def defined_before_use(nb: NotebookContext) -> Iterator[Hit]:
    if any(nb.python(n) is None for n, _ in nb.code_cells()):
        return  # a cell that does not parse: NB002 / the kernel will say where
    injected = set()
    for task in nb.tasks:
        injected |= set(task.params)
    cells = [(n, nb.python(n)) for n, _ in nb.code_cells()]
    early, never, first = names_used_before_defined(cells, predefined=injected)
    seen = set()
    for use in early:
        if (use.name, use.cell) in seen:
            continue
        seen.add((use.name, use.cell))
        if use.name in first:
            where = first[use.name]
            yield Hit(use.cell, use.line,
                      f"{use.name!r} is read before it is defined (first bound in cell {where[0]}, "
                      f"line {where[1]})",
                      "move the definition above its first use; run Restart Kernel and Run All "
                      "Cells to see the notebook as the pipeline does")
        else:
            yield Hit(use.cell, use.line, f"{use.name!r} is not defined in any cell",
                      "define or import it, or declare it in the parameters cell")
    for use in never:
        if (use.name, use.cell) not in seen:
            seen.add((use.name, use.cell))
            yield Hit(use.cell, use.line, f"{use.name!r} (in a function body) is not defined in any cell",
                      "define or import it, or pass it to the function as an argument")

