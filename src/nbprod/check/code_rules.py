"""The rules about the code in the cells (NB006-NB010), one function each.

NB006, NB008, NB009 and NB010 read the cells as Python, so they run on Python
notebooks only; NB007's token patterns apply to any language.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .context import NotebookContext, is_injected
from .findings import Hit
from .names import names_used_before_defined, stand_in
from .patterns import (
    CHANGE_DIR,
    INSTALL,
    SECRET_NAME,
    SECRET_PATTERNS,
    SHELL_INSTALL,
    is_absolute_path,
    is_data_path,
    is_placeholder,
    looks_random,
    redact,
)
from .rules_table import rule


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


# --- NB006 ------------------------------------------------------------------------------

_JOINS = frozenset({"join", "joinpath", "Path", "PurePath", "PosixPath", "WindowsPath"})


def joined_parts(tree: ast.AST) -> set[int]:
    """Ids of the string constants joined to something else: ``Path(folder, "args.json")``,
    ``os.path.join(dp, "x.csv")``, ``folder / "x.csv"``: relative to a folder the code
    was given, not hard-coded data paths."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _JOINS:
                out.update(id(a) for a in node.args[1:])
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant)):
                out.add(id(node.right))
    return out


@rule("NB006", "no-hardcoded-paths", "no absolute or hard-coded data paths outside the parameters cell",
      python_only=True)
def no_hardcoded_paths(nb: NotebookContext) -> Iterator[Hit]:
    hint = ("pass it from pipeline.yaml: a product, an upstream product, or a parameter "
            "(`resources_` for input files) declared in the parameters cell")
    for number, _ in nb.code_cells(parameters=False):
        tree = nb.python(number)
        if tree is None:
            continue
        joined = joined_parts(tree)
        for node in sorted(string_literals(tree), key=lambda n: (n.lineno, n.col_offset)):
            text = str(node.value)
            if is_absolute_path(text):
                yield Hit(number, node.lineno, f"absolute path {text!r}", hint)
            elif id(node) not in joined and is_data_path(text):
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


def _assigned_names(node: ast.AST) -> list[tuple[str, Any]]:
    """(name, value) pairs a node gives a value to: ``x = v``, ``obj.api_key = v``,
    ``d["token"] = v``, ``f(password=v)``, ``{"Authorization": v}``."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        out = []
        for target in targets:
            if isinstance(target, ast.Name):
                out.append((target.id, node.value))
            elif isinstance(target, ast.Attribute):
                out.append((target.attr, node.value))
            elif (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                  and isinstance(target.slice.value, str)):
                out.append((target.slice.value, node.value))
        return out
    if isinstance(node, ast.keyword) and node.arg:
        return [(node.arg, node.value)]
    if isinstance(node, ast.Dict):
        return [(k.value, v) for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return []


def _secret_literals(number: int, tree: ast.AST, hint: str) -> Iterator[Hit]:
    named: set[int] = set()
    for node in ast.walk(tree):
        for name, value in _assigned_names(node):
            if (SECRET_NAME.search(name) and isinstance(value, ast.Constant)
                    and isinstance(value.value, str) and len(value.value) >= 4
                    and not is_placeholder(value.value)):
                named.add(id(value))
                yield Hit(number, value.lineno, f"hard-coded secret in {name!r}: "
                          f"{redact(str(value.value))}", hint)
    for node in string_literals(tree):
        if id(node) not in named and looks_random(str(node.value)):
            yield Hit(number, node.lineno, f"high-entropy string {redact(str(node.value))} looks like a "
                      "key or token", hint + " (if it is not a secret: `# nbprod: ignore[NB007]`)")


def _output_text(output: Any) -> str:
    if "text" in output:
        text = output["text"]
    else:
        text = (output.get("data") or {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


# --- NB008 ------------------------------------------------------------------------------

_RUNNERS = frozenset({"run", "call", "check_call", "check_output", "Popen", "system", "popen",
                      "getoutput", "getstatusoutput"})
_INSTALL_HINT = ("add the package to pyproject.toml (pinned) and the lock file; "
                 "the pipeline's environment is built from them")


@rule("NB008", "no-installs", "no package installs (`!pip`, `%pip`, `!conda`, pip run by "
      "subprocess); no `%cd` out of the project", python_only=True)
def no_installs(nb: NotebookContext) -> Iterator[Hit]:
    for number, line, text in nb.code_lines():
        if INSTALL.match(text):
            yield Hit(number, line, f"package install in a notebook: {text.strip()!r}", _INSTALL_HINT)
            continue
        match = CHANGE_DIR.match(text)
        if match and not _inside(nb, match.group("target")):
            yield Hit(number, line, f"`{text.strip()}` leaves the project folder",
                      "use paths passed as parameters instead of changing directory")
    for number, _ in nb.code_cells():
        tree = nb.python(number)
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Call) or _is_magic_call(node):
                continue
            if (isinstance(node.func, ast.Attribute) and node.func.attr == "chdir" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and not _inside(nb, node.args[0].value)):
                yield Hit(number, node.lineno, f"os.chdir({node.args[0].value!r}) leaves the project",
                          "use paths passed as parameters instead of changing directory")
            elif _runs_an_install(node):
                yield Hit(number, node.lineno, "package install in a notebook: "
                          f"{ast.unparse(node)[:80]!r}", _INSTALL_HINT)


def _runs_an_install(node: ast.Call) -> bool:
    """``subprocess.run(["pip", "install", ...])``, ``check_call([sys.executable, "-m",
    "pip", "install", ...])``, ``os.system("pip install x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in _RUNNERS or not node.args:
        return False
    command = node.args[0]
    if isinstance(command, ast.Constant) and isinstance(command.value, str):
        return bool(SHELL_INSTALL.search(command.value))
    if isinstance(command, (ast.List, ast.Tuple)):
        words = [e.value for e in command.elts if isinstance(e, ast.Constant)
                 and isinstance(e.value, str)]
        tools = [i for i, w in enumerate(words) if Path(w).name.startswith(("pip", "conda", "mamba"))]
        return any(w in ("install", "uninstall") for i in tools for w in words[i + 1:])
    return False


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


@rule("NB009", "defined-before-use", "no name read before a cell above binds it (hidden state)",
      python_only=True)
def defined_before_use(nb: NotebookContext) -> Iterator[Hit]:
    # Ploomber injects `upstream`, `product` and the task's params below the parameters cell
    injected = {"upstream", "product"} if nb.tasks else set()
    for task in nb.tasks:
        injected |= set(task.params)
    cells = []
    for number, cell in nb.code_cells():
        tree = nb.python(number)
        # a cell that does not parse (NB010) still binds the names it plainly assigns
        cells.append((number, tree if tree is not None else stand_in(cell.source)))
    early, never, first, deleted = names_used_before_defined(cells, predefined=injected)
    seen = set()
    for use in early:
        if (use.name, use.cell) in seen:
            continue
        seen.add((use.name, use.cell))
        if use.name in deleted:
            cell, line = deleted[use.name]
            yield Hit(use.cell, use.line, f"{use.name!r} is read after `del {use.name}` "
                      f"(cell {cell}, line {line})", "remove the `del`, or bind the name again first")
        elif use.name in first:
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


# --- NB010 ------------------------------------------------------------------------------


@rule("NB010", "python-syntax", "every code cell of a Python notebook parses", python_only=True)
def python_syntax(nb: NotebookContext) -> Iterator[Hit]:
    for number, _ in nb.code_cells(injected=True):
        error = nb.syntax_error(number)
        if error is None:
            continue
        message = (error.msg or str(error)).strip()
        hint = "fix the cell so it runs on the notebook's Python 3 kernel; the other rules skip it"
        if "print" in message or "Missing parentheses" in message:
            hint = "this is Python 2 (`print x`); the kernel runs Python 3: `print(x)`"
        yield Hit(number, error.lineno or 1, f"the cell does not parse as Python: {message}", hint)
