"""A static pass over a notebook's cells in order: names read before any cell binds them.

Run top to bottom, such a read raises ``NameError``; in a live kernel it silently
uses state left by a cell run earlier, or by a cell that has since been edited or
deleted (the "hidden state" smell). Module-level code is followed statement by
statement; comprehensions, lambdas and function bodies get their own scopes.
A function body runs later, so its free names only need to be bound somewhere in
the notebook. A ``from x import *`` or a ``%run script.py`` ends the pass (the names
they bind are unknown); ``del x`` unbinds ``x``; ``global x`` in a function binds ``x``
in the notebook.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Names PySpark's shell and kernels (``pyspark``, sparkmagic, Databricks) define before
#: the first cell runs, in a kernel whose spec often just says Python 3.
SPARK_NAMES = frozenset({"sc", "spark", "sqlContext", "sqlCtx"})
#: Names an IPython kernel defines before the first cell runs.
KERNEL_NAMES = frozenset(dir(builtins)) | SPARK_NAMES | {
    "get_ipython", "display", "In", "Out", "exit", "quit", "_", "__", "___",
    "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "__name__", "__builtins__", "__doc__",
}


@dataclass(frozen=True)
class Use:
    name: str
    cell: int
    line: int


class NameFlow(ast.NodeVisitor):
    """Feed it cells in order with :meth:`cell`; ``early`` collects reads of unbound names,
    ``deferred`` the free names of function bodies (checked against every binding)."""

    def __init__(self, predefined: Iterable[str] = ()):
        self.bound: set[str] = set(KERNEL_NAMES) | set(predefined)
        self.early: list[Use] = []
        self.deferred: list[Use] = []
        self.first_binding: dict[str, tuple[int, int]] = {}
        self.deleted: dict[str, tuple[int, int]] = {}
        self.stopped = False
        self._cell = 0
        self._scopes: list[set[str]] = []
        self._deferred_depth = 0

    # --- driving -------------------------------------------------------------------

    def cell(self, number: int, tree: ast.Module) -> None:
        if self.stopped:
            return
        self._cell = number
        for stmt in tree.body:
            self._statement(stmt)
            if self.stopped:
                return

    def all_bound(self) -> set[str]:
        return self.bound | set(self.first_binding)

    # --- binding and reading ---------------------------------------------------------

    def _bind(self, name: str, line: int) -> None:
        if self._scopes:
            self._scopes[-1].add(name)
            return
        self.bound.add(name)
        self.deleted.pop(name, None)
        self.first_binding.setdefault(name, (self._cell, line))

    def _read(self, name: str, line: int) -> None:
        if any(name in scope for scope in self._scopes):
            return
        if self._deferred_depth:  # inside a function body: runs later
            self.deferred.append(Use(name, self._cell, line))
        elif name not in self.bound:
            self.early.append(Use(name, self._cell, line))

    def _targets(self, node: ast.AST) -> None:
        """Bind the names a target stores; evaluate the rest of it (subscripts, attributes)."""
        if isinstance(node, ast.Name):
            self._bind(node.id, node.lineno)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self._targets(elt)
        elif isinstance(node, ast.Starred):
            self._targets(node.value)
        else:  # obj.attr = ..., obj[key] = ...: reads obj and key
            self.visit(node)

    # --- statements ------------------------------------------------------------------

    def _statements(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self._statement(stmt)

    def _statement(self, node: ast.stmt) -> None:  # noqa: C901 - one branch per statement kind
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    self.stopped = not self._scopes
                    return
                bound = alias.asname or alias.name.split(".")[0]
                self._bind(bound, node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for expr in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
                if expr is not None:
                    self.visit(expr)
            self._bind(node.name, node.lineno)
            self._function(node.args, node.body)
        elif isinstance(node, ast.ClassDef):
            for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
                self.visit(expr)
            self._scopes.append(set())
            self._statements(node.body)
            self._scopes.pop()
            self._bind(node.name, node.lineno)
        elif isinstance(node, ast.Assign):
            self.visit(node.value)
            for target in node.targets:
                self._targets(target)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit(node.value)
                self._targets(node.target)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name):
                self._read(node.target.id, node.lineno)
            self.visit(node.value)
            self._targets(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.visit(node.iter)
            self._targets(node.target)
            self._statements(node.body)
            self._statements(node.orelse)
        elif isinstance(node, (ast.While, ast.If)):
            self.visit(node.test)
            self._statements(node.body)
            self._statements(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.visit(item.context_expr)
                if item.optional_vars is not None:
                    self._targets(item.optional_vars)
            self._statements(node.body)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self._statements(node.body)
            for handler in node.handlers:
                if handler.type is not None:
                    self.visit(handler.type)
                if handler.name:
                    self._bind(handler.name, handler.lineno)
                self._statements(handler.body)
            self._statements(node.orelse)
            self._statements(node.finalbody)
        elif isinstance(node, ast.Global):
            for name in node.names:  # in a function: the function binds it in the notebook
                self.bound.add(name)
                self.first_binding.setdefault(name, (self._cell, node.lineno))
                self._bind(name, node.lineno)
        elif isinstance(node, ast.Nonlocal):
            for name in node.names:
                self._bind(name, node.lineno)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if not isinstance(target, ast.Name):
                    self.visit(target)
                elif not self._scopes:
                    self._read(target.id, node.lineno)
                    self.bound.discard(target.id)
                    self.deleted[target.id] = (self._cell, node.lineno)
        elif isinstance(node, ast.Expr) and _line_magic(node.value) == "run":
            self.stopped = not self._scopes
        elif isinstance(node, ast.Match):
            self.visit(node.subject)
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    captured = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(captured, str):
                        self._bind(captured, case.pattern.lineno)
                if case.guard is not None:
                    self.visit(case.guard)
                self._statements(case.body)
        else:  # Expr, Return, Raise, Assert, Pass, ...
            self.generic_visit(node)

    def _function(self, args: ast.arguments, body: list[ast.stmt] | ast.expr) -> None:
        names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        self._scopes.append(names)
        self._deferred_depth += 1
        if isinstance(body, list):
            # names bound anywhere in the body are local to it, whatever their order
            for stmt in body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        names.add(sub.id)
                    elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        names.add(sub.name)
                    elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                        names.update((a.asname or a.name.split(".")[0]) for a in sub.names)
            self._statements(body)
        else:
            self.visit(body)
        self._deferred_depth -= 1
        self._scopes.pop()

    # --- expressions -----------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node.id, node.lineno)
        else:
            self._bind(node.id, node.lineno)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        # a walrus binds in the enclosing (non-comprehension) scope
        if self._scopes and not self._deferred_depth:
            self.bound.add(node.target.id)
            self.first_binding.setdefault(node.target.id, (self._cell, node.lineno))
        else:
            self._bind(node.target.id, node.lineno)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for expr in [*node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        self._function(node.args, node.body)

    def _comprehension(self, node, elements: list[ast.expr]) -> None:
        generators = node.generators
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        self._scopes.append(set())
        for i, gen in enumerate(generators):
            if i:
                self.visit(gen.iter)
            self._targets(gen.target)
            for cond in gen.ifs:
                self.visit(cond)
        for element in elements:
            self.visit(element)
        self._scopes.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp  # type: ignore[assignment]
    visit_GeneratorExp = visit_ListComp  # type: ignore[assignment]

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])


def _line_magic(node: ast.AST) -> str | None:
    """``run`` for ``get_ipython().run_line_magic('run', 'helpers.py')``."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run_line_magic" and node.args
            and isinstance(node.args[0], ast.Constant)):
        return str(node.args[0].value)
    return None


def names_used_before_defined(
    cells: Iterable[tuple[int, ast.Module]], predefined: Iterable[str] = ()
) -> tuple[list[Use], list[Use], dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Reads of unbound names, in cell order: (early reads, free names of functions that
    nothing binds, where each name is first bound, where each name still unbound was
    deleted)."""
    flow = NameFlow(predefined)
    for number, tree in cells:
        flow.cell(number, tree)
    if flow.stopped:
        return flow.early, [], flow.first_binding, flow.deleted
    everywhere = flow.all_bound()
    never = [use for use in flow.deferred if use.name not in everywhere]
    return flow.early, never, flow.first_binding, flow.deleted


_BINDINGS = (
    re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)"),
    re.compile(r"^\s*for\s+([A-Za-z_][\w\s,()]*?)\s+in\b"),
    re.compile(r"^\s*(?:with\s+.*\s+as\s+)([A-Za-z_]\w*)"),
    re.compile(r"^\s*([A-Za-z_][\w\s,]*?)\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)"),
)
_IMPORT = re.compile(r"^\s*(?:from\s+\S+\s+)?import\s+(.+)$")


def stand_in(source: str) -> ast.Module:
    """A module binding the names a cell that does not parse plainly binds (``x = ...``,
    ``def f``, ``import a as b``, ``for i in``), so cells below it are not blamed for them."""
    body: list[ast.stmt] = []
    for lineno, line in enumerate(source.splitlines(), start=1):
        names: list[str] = []
        imported = _IMPORT.match(line)
        if imported:
            for part in imported.group(1).strip("() ").split(","):
                words = part.split()
                if words and words[0] != "*":
                    names.append(words[-1] if len(words) == 3 and words[1] == "as"
                                 else words[0].split(".")[0])
        else:
            for pattern in _BINDINGS:
                match = pattern.match(line)
                if match:
                    names = re.findall(r"[A-Za-z_]\w*", match.group(1))
                    break
        for name in names:
            if name.isidentifier():
                node = ast.Assign(targets=[ast.Name(name, ast.Store())], value=ast.Constant(None))
                body.append(ast.fix_missing_locations(ast.copy_location(
                    node, ast.Pass(lineno=lineno, col_offset=0))))
    return ast.Module(body=body, type_ignores=[])
