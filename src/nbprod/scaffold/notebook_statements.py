"""Her notebook as statements: every top-level statement of every cell with its cell and
line, and what names a statement reads, binds or changes in place (read from ``ast``)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .notebook_source import Cell

__all__ = ["Statement", "bound", "names", "statements", "written"]


@dataclass(frozen=True)
class Statement:
    """One top-level statement of her notebook."""

    cell: int
    line: int
    node: ast.stmt
    source: str

    @property
    def where(self) -> str:
        return f"cell {self.cell}, line {self.line}"


def statements(cells: list[Cell]) -> list[Statement]:
    """Every top-level statement of every cell, in order."""
    out = []
    for cell in cells:
        for node in cell.tree().body:
            text = ast.get_source_segment(cell.source, node) or ""
            out.append(Statement(cell.number, node.lineno, node, text))
    return out


def names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def written(node: ast.stmt) -> set[str]:
    """Names a statement binds or changes in place (``df[...] = ``, ``df.x = ``)."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    out = set()
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                out.add(sub.id)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        if any(k.arg == "inplace" for k in call.keywords):
            base = call.func
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def bound(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    return set()
