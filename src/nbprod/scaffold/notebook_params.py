"""Her notebook's literals that become pipeline parameters: her data file's path, her split's
``test_size`` and ``random_state`` (as ``seed``), and the literal hyper-parameters of her
model's constructor (``rf = RandomForestClassifier(n_estimators=30)`` -> ``rf_n_estimators``).

Each parameter is the literal she wrote, replaced in her cell by the parameter's name (only
that span of the line changes); its value goes to ``env.yaml`` through YAML, so
``ploomber build --env--rf_n_estimators 100`` overrides it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .notebook_flow import Flow
from .notebook_source import Cell
from .notebook_statements import Statement, statements

__all__ = ["Parameter", "find_parameters", "with_parameters"]

#: the split's keywords that become parameters, and their parameter names
SPLIT = {"test_size": "test_size", "random_state": "seed"}
#: a literal is a parameter when it is one of these types (not None, not a string of code)
PLAIN = (bool, int, float, str)


@dataclass(frozen=True)
class Parameter:
    """One literal of hers that is a parameter."""

    name: str
    value: object
    cell: int
    literal: ast.Constant


def _constructor(flow: Flow, stmts: list[Statement]) -> tuple[Statement, ast.Call] | None:
    """The last ``MODEL = Something(...)`` (or ``Something(...).fit(...)``) before its fit."""
    found = None
    for stmt in stmts:
        node = stmt.node
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == flow.model
                and isinstance(node.value, ast.Call)):
            call = node.value
            if isinstance(call.func, ast.Attribute) and call.func.attr == "fit" \
                    and isinstance(call.func.value, ast.Call):
                call = call.func.value
            found = (stmt, call)
    return found


def find_parameters(cells: list[Cell], flow: Flow) -> list[Parameter]:
    """Her split's and her model's literal keywords, named; a name her notebook already
    uses is left out (her literal then stays as it is)."""
    stmts = statements(cells)
    taken = {n.id for s in stmts for n in ast.walk(s.node) if isinstance(n, ast.Name)}
    out: list[Parameter] = []
    split_call = flow.split.node.value  # type: ignore[attr-defined]
    for keyword in split_call.keywords:
        if keyword.arg in SPLIT and isinstance(keyword.value, ast.Constant):
            out.append(Parameter(SPLIT[keyword.arg], keyword.value.value, flow.split.cell,
                                 keyword.value))
    made = _constructor(flow, stmts)
    if made is not None:
        stmt, call = made
        for keyword in call.keywords:
            if (keyword.arg and isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, PLAIN)):
                out.append(Parameter(f"{flow.model}_{keyword.arg}", keyword.value.value,
                                     stmt.cell, keyword.value))
    seen: set[str] = set()
    kept = []
    for p in out:
        if p.name not in taken and p.name not in seen and p.name.isidentifier():
            seen.add(p.name)
            kept.append(p)
    return kept


def with_parameters(source: str, replacements: list[tuple[ast.Constant, str]]) -> str:
    """``source`` with each literal's span replaced by a name (one cell's literals)."""
    lines = source.splitlines()
    for literal, name in sorted(replacements, key=lambda r: (r[0].lineno, r[0].col_offset),
                                reverse=True):
        if literal.end_lineno != literal.lineno:
            continue  # a literal over several lines stays as she wrote it
        i = literal.lineno - 1
        lines[i] = lines[i][:literal.col_offset] + name + lines[i][literal.end_col_offset or 0:]
    return "\n".join(lines)
