"""Statistics of her whole frame that her feature code uses (``df['c'].median()``,
``df['c'].mode()[0]``, ``df['c'].max()``): frozen at training, used by the service.

A feature step such as ``df['c'] = df['c'].fillna(df['c'].median())`` cannot run on one record
as it is. Each such sub-expression becomes a key of a dict of statistics: the generated
``statistics(df)`` evaluates it as her notebook does (after the same earlier steps, training
only ones included), the fitted model keeps the values, and ``features(df, stats)`` runs her
statement with ``stats[key]`` in place of the expression. Groupings, joins, ranks, shifts and
rolling windows are not values of this kind: they stay training only.
"""

from __future__ import annotations

import ast
import copy
from typing import cast

from .notebook_rules import AGGREGATES
from .notebook_statements import Statement
from .notebook_statements import names as _names

__all__ = ["STATISTICS", "freeze", "key_assignment", "unused_name"]

#: methods whose value over her frame (or a column of it) is a scalar or a small mapping
STATISTICS = frozenset({"mean", "median", "std", "var", "sum", "min", "max", "mode", "quantile",
                        "nunique", "count", "value_counts", "idxmax", "idxmin", "prod", "sem",
                        "skew", "kurt"})


def _statistic(node: ast.expr, frames: set[str]) -> bool:
    """``df['c'].median()``, ``df.mean(numeric_only=True)``: a statistic of her frame, not of
    a grouping, a window or a join of it (``df.groupby('g')['c'].mean()`` stays training's)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in STATISTICS and _names(node.func.value) & frames):
        return False
    return not any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                   and sub.func.attr in AGGREGATES - STATISTICS for sub in ast.walk(node))


def _widened(node: ast.expr, parents: dict[int, ast.AST]) -> ast.expr:
    """The statistic with the element she takes of it: ``.mode()[0]``, ``.mode().iloc[0]``."""
    parent = parents.get(id(node))
    if isinstance(parent, ast.Subscript) and parent.value is node \
            and isinstance(parent.slice, ast.Constant):
        return parent
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr in ("iloc",
                                                                                      "loc"):
        grand = parents.get(id(parent))
        if isinstance(grand, ast.Subscript) and isinstance(grand.slice, ast.Constant):
            return grand
    return node


def _found(node: ast.AST, frames: set[str], out: list[ast.expr]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr) and _statistic(child, frames):
            out.append(child)  # the outermost statistic; what it is computed from stays inside
        else:
            _found(child, frames, out)


class _Swap(ast.NodeTransformer):
    def __init__(self, keys: dict[int, str], name: str) -> None:
        self.keys, self.name = keys, name

    def visit(self, node: ast.AST) -> ast.AST:
        key = self.keys.get(id(node))
        if key is not None:
            return ast.copy_location(
                ast.Subscript(ast.Name(self.name, ast.Load()), ast.Constant(key), ast.Load()), node)
        return super().visit(node)


def freeze(stmt: Statement, frames: set[str], name: str) -> tuple[Statement, dict[str, str]] | None:
    """Her statement with each statistic of her frame read from ``name[key]``, and the keys
    with the expressions that compute them (her code), or None when it has none."""
    mine = copy.deepcopy(stmt.node)  # swapped in place: her statement stays as it is
    found: list[ast.expr] = []
    _found(mine, frames, found)
    if not found:
        return None
    parents = {id(c): p for p in ast.walk(mine) for c in ast.iter_child_nodes(p)}
    exprs = [_widened(f, parents) for f in found]
    keys = {id(e): f"{stmt.where}: {ast.unparse(e)}" for e in exprs}
    swapped = cast(ast.stmt, ast.fix_missing_locations(_Swap(keys, name).visit(mine)))
    computed = {keys[id(e)]: ast.unparse(e) for e in exprs}
    return Statement(stmt.cell, stmt.line, swapped, ast.unparse(swapped)), computed


def key_assignment(stmt: Statement, name: str, key: str, expression: str) -> Statement:
    """``name[key] = expression``: a line of ``statistics(df)``."""
    value = ast.parse(expression, mode="eval").body
    node = ast.Assign([ast.Subscript(ast.Name(name, ast.Load()), ast.Constant(key), ast.Store())],
                      value, lineno=stmt.line, col_offset=0)
    node = ast.fix_missing_locations(node)
    return Statement(stmt.cell, stmt.line, node, ast.unparse(node))


def unused_name(taken: set[str], wanted: str = "stats") -> str:
    """``stats``, or a variant of it her notebook does not use."""
    name = wanted
    while name in taken:
        name += "_"
    return name
