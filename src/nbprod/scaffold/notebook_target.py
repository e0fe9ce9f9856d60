"""A target her notebook computes (``price = (df['Low Price'] + df['High Price']) / 2``,
``new['Price'] = price``) rather than reads from her file: the raw columns it may be made
from, read from her code (``ast``), never run.

:func:`target_sources` follows the target back from the statements that write it (a
``frame['Price'] = ...`` or ``frame.loc[rows, 'Price'] = ...`` assignment, a ``'Price': ...``
entry of a dict) through the plain variables they read (``price``), and collects the raw
headers they name. A frame they read (``df['Low Price']``) is not followed further. These
are candidates: the run of her notebook keeps those her features do not need
(:mod:`nbprod.scaffold.notebook_run`), and the project leaves them out of its record.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .column_rules import infer_column
from .infer import Inferred, infer_table
from .notebook_source import Cell
from .notebook_statements import Statement, statements

__all__ = ["target_sources", "table_of", "where_made", "with_her_target"]


def _names_key(node: ast.expr, key: str) -> bool:
    """``'Price'`` itself, or a tuple holding it (``.loc[rows, 'Price']``)."""
    if isinstance(node, ast.Constant):
        return node.value == key
    return isinstance(node, ast.Tuple) and any(_names_key(e, key) for e in node.elts)


def _makers(stmt: Statement, target: str) -> list[ast.AST]:
    """The parts of ``stmt`` that give the target its values."""
    node = stmt.node
    out: list[ast.AST] = []
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Subscript) and _names_key(t.slice, target) for t in targets):
            out.append(node.value)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            out += [v for k, v in zip(sub.keys, sub.values, strict=True)
                    if k is not None and _names_key(k, target)]
    return out


def _frames(node: ast.AST) -> set[str]:
    """Names read as frames (``df['col']``, ``df.loc[...]``): not followed."""
    return {sub.value.id for sub in ast.walk(node)
            if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)
            and isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str)}


def _plain_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - _frames(node)


def _literals(node: ast.AST, headers: set[str]) -> list[str]:
    return [sub.value for sub in ast.walk(node)
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            and sub.value in headers]


def _slice(stmts: list[Statement], target: str) -> list[tuple[Statement, ast.AST]]:
    """The statements (and their parts) the target's values come from."""
    parts = [(s, part) for s in stmts for part in _makers(s, target)]
    seen: set[str] = set()
    todo = set().union(*(_plain_names(p) for _, p in parts)) if parts else set()
    while todo - seen:
        name = (todo - seen).pop()
        seen.add(name)
        for stmt in stmts:
            node = stmt.node
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name):
                parts.append((stmt, node.value))
                todo |= _plain_names(node.value)
    return parts


def target_sources(cells: list[Cell], target: str, headers: Iterable[str]) -> list[str]:
    """The raw headers (of ``headers``) named by the code that makes ``target``, in the
    order of ``headers``; empty when ``target`` is itself a raw header."""
    headers = [str(h) for h in headers]
    if target in headers:
        return []
    found = {h for _, part in _slice(statements(cells), target)
             for h in _literals(part, set(headers))}
    return [h for h in headers if h in found and h != target]


def where_made(cells: list[Cell], target: str, header: str) -> str:
    """``cell 3, line 6``: the first statement making the target that names ``header``."""
    for stmt, part in sorted(_slice(statements(cells), target),
                             key=lambda sp: (sp[0].cell, sp[0].line)):
        if header in _literals(part, {header}):
            return stmt.where
    return "her notebook"


def with_her_target(frame: pd.DataFrame, target: str, values: list[list[Any]],
                    sources: list[str]) -> pd.DataFrame:
    """Her raw ``frame`` without the columns her target is made from, with her target's
    values on the rows her notebook gave one (blank on the rows she filtered out): the frame
    the project's column table is inferred from."""
    if not values:
        raise ConfigError(f"--target {target!r}: her notebook computes it, but her y_train and "
                          "y_test do not give one value per row of X_train and X_test; "
                          "make y a column or a Series of her frame, then adopt")
    labels, column = zip(*values, strict=True)
    her = pd.Series(column, index=list(labels), name=target)
    return frame.drop(columns=sources).assign(**{target: her.reindex(frame.index)})


def table_of(frame: pd.DataFrame, target: str, positive: Any = None) -> Inferred:
    """The column table of :func:`with_her_target`'s frame: her target (its kind, its
    values), the columns declared and the leak checks from the rows her notebook gave a
    target, each declared column's values from every raw row (the records the project
    checks and serves; a column too varied there to list its values is text)."""
    table = infer_table(frame[frame[target].notna()], target, positive)
    headers = {name: spec.get("source", name) for name, spec in table.columns.items()}
    columns = dict(table.columns)
    for name, header in headers.items():
        if name != table.target:
            spec = infer_column(frame[header])
            if not isinstance(spec, dict):
                spec = {"kind": "text", **({"nullable": True} if frame[header].isna().any()
                                           else {})}
            columns[name] = {"source": header, **spec} if header != name else spec
    return replace(table, columns=columns, rows=len(frame))
