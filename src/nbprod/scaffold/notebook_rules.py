"""Which of her frame statements the service can run on one record: the reasons a statement
is training's only (it filters or renumbers rows, uses the target, aggregates the whole frame)
and the shapes of a row-by-row value or a frame made from a frame."""

from __future__ import annotations

import ast
import copy

from .notebook_statements import Statement
from .notebook_statements import names as _names

__all__ = ["AGGREGATES", "FILTERS", "MASKS", "every_dummy", "frame_value", "reason", "rowwise",
           "without_target"]

FILTERS = frozenset({"dropna", "drop_duplicates", "query", "sample", "head", "tail", "nlargest",
                     "nsmallest"})
MASKS = frozenset({"contains", "startswith", "endswith", "match", "fullmatch", "isin", "isna",
                   "notna", "isnull", "notnull", "between", "duplicated"})
AGGREGATES = frozenset({"mean", "median", "std", "var", "sum", "min", "max", "mode", "quantile",
                        "value_counts", "groupby", "transform", "agg", "aggregate", "rank",
                        "cumsum", "shift", "diff", "rolling", "expanding", "nunique", "count",
                        "pivot_table", "merge", "join", "concat", "fit", "fit_transform"})


def reason(stmt: Statement, frames: set[str], target: str | None, derived: set[str]) -> str:
    """Why a frame statement cannot run on one record ('' when it can)."""
    node = stmt.node
    if target is not None and any(isinstance(s, ast.Constant) and s.value == target
                                  for s in ast.walk(node)):
        return f"uses the target {target!r}"
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            if sub.func.attr in FILTERS:
                return f"filters or renumbers rows (.{sub.func.attr})"
            if sub.func.attr in AGGREGATES:
                return f"aggregates the whole frame (.{sub.func.attr})"
            if sub.func.attr == "drop" and any(k.arg == "index" for k in sub.keywords):
                return "drops rows (.drop(index=...))"
            if sub.func.attr == "reset_index" and not _dropped(sub):  # drop=True: served
                return "renumbers rows into a column (.reset_index)"
        if (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)
                and sub.value.id in frames
                and (isinstance(sub.slice, (ast.Compare, ast.BoolOp, ast.UnaryOp))
                     or _mask(sub.slice, frames))):
            return "filters rows (a condition)"
        if (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Attribute)
                and sub.value.attr in ("loc", "iloc")
                and isinstance(sub.slice, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Slice))):
            return f"filters rows (.{sub.value.attr}[...])"
    used = _names(node) & derived
    if used:
        return f"uses {', '.join(sorted(used))}, computed from the whole frame"
    return ""


def _dropped(call: ast.Call) -> bool:
    """``.reset_index(drop=True)``: her row labels renumbered, no column added."""
    return any(k.arg == "drop" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def _mask(node: ast.expr, frames: set[str]) -> bool:
    """``df['c'].str.contains(...)``, ``df['c'].isin(...)``: a row mask made from a frame."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in MASKS and bool(_names(node.func.value) & frames))


def rowwise(node: ast.expr, frames: set[str]) -> bool:
    """A value computed row by row from her frame's columns: ``(df['a'] + df['b']) / 2``,
    ``pd.DatetimeIndex(df['Date']).month``."""
    if isinstance(node, ast.BinOp):
        return all(isinstance(n, ast.Constant) or rowwise(n, frames)
                   for n in (node.left, node.right)) and bool(_names(node) & frames)
    if isinstance(node, ast.Subscript):
        return (isinstance(node.value, ast.Name) and node.value.id in frames
                and isinstance(node.slice, ast.Constant))
    if isinstance(node, ast.Attribute):
        return node.attr not in AGGREGATES and rowwise(node.value, frames)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
            and node.func.attr in ("DatetimeIndex", "to_datetime") and len(node.args) == 1):
        return rowwise(node.args[0], frames)
    return False


def without_target(stmt: Statement, target: str | None) -> Statement | None:
    """``new = pd.DataFrame({..., 'Price': price})`` without its target entry, for the
    service (the target is training's), or None when that is not the statement's shape."""
    node = stmt.node
    if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "attr", getattr(node.value.func, "id", "")) == "DataFrame"
            and len(node.value.args) == 1 and isinstance(node.value.args[0], ast.Dict)):
        return None
    table = node.value.args[0]
    keep = [(k, v) for k, v in zip(table.keys, table.values, strict=True)
            if not (isinstance(k, ast.Constant) and k.value == target)]
    if len(keep) == len(table.keys):
        return None
    value = ast.Call(node.value.func, [ast.Dict([k for k, _ in keep], [v for _, v in keep])],
                     node.value.keywords)
    copy = ast.Assign(node.targets, value, lineno=node.lineno, col_offset=node.col_offset)
    return Statement(stmt.cell, stmt.line, copy, ast.unparse(ast.fix_missing_locations(copy)))


def frame_value(node: ast.stmt, frames: set[str]) -> bool:
    """An assignment whose value is a frame made from a frame (``pd.get_dummies(df)``,
    ``df.copy()``, ``df[cols]``), not a value computed from one (``list(df.columns)``)."""
    value = getattr(node, "value", None)
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute) and _names(func.value) & frames:
            return True
        return any(_names(a) & frames for a in value.args[:1])
    if isinstance(value, ast.Subscript):
        return bool(_names(value.value) & frames)
    return isinstance(value, ast.Name) and value.id in frames


def every_dummy(stmt: Statement) -> Statement | None:
    """Her ``pd.get_dummies(..., drop_first=True)`` with every dummy, for the service (or None
    when she keeps them all): which category is first depends on the rows encoded, and one
    record's own category is its first. The aligner then drops the dummies her model was not
    fitted on, which are exactly those ``drop_first`` dropped in training."""
    node = copy.deepcopy(stmt.node)
    calls = [sub for sub in ast.walk(node) if isinstance(sub, ast.Call)
             and getattr(sub.func, "attr", getattr(sub.func, "id", "")) == "get_dummies"]
    firsts = [k for c in calls for k in c.keywords
              if k.arg == "drop_first" and isinstance(k.value, ast.Constant) and k.value.value]
    if not firsts:
        return None
    for keyword in firsts:
        keyword.value = ast.Constant(False)
    node = ast.fix_missing_locations(node)
    return Statement(stmt.cell, stmt.line, node, ast.unparse(node))
