"""Her code in her project's package: her ``def`` and ``class`` statements as
``src/<pkg>/notebook.py``, and her feature steps as ``features(df)`` in ``src/<pkg>/features.py``,
the one function training and the service both run.

Her statements are copied as she wrote them (``ast.get_source_segment``), each under a
comment naming its cell and line; nothing of her data is written here.
"""

from __future__ import annotations

import ast

from .notebook_flow import Flow
from .notebook_statements import Statement

__all__ = ["features_module", "notebook_module"]

INDENT = "    "


def _block(stmt: Statement, indent: str = "") -> str:
    lines = stmt.source.splitlines()
    # a statement's continuation lines keep the column they had at the top level
    return "\n".join(indent + line if line.strip() else "" for line in lines)


def _imports(flow: Flow, names: set[str]) -> list[str]:
    out = []
    for stmt in flow.imports:
        node = stmt.node
        bound = {(a.asname or a.name).split(".")[0] for a in node.names}  # type: ignore[attr-defined]
        if bound & names:
            out.append(_block(stmt))
    return out


def _used(stmts: list[Statement]) -> set[str]:
    return {n.id for s in stmts for n in ast.walk(s.node) if isinstance(n, ast.Name)}


def notebook_module(flow: Flow, notebook: str) -> str:
    """``src/<pkg>/notebook.py``: her functions and classes, with the imports they use."""
    head = [f'"""The functions and classes defined in {notebook}, as she wrote them: the',
            'pipeline and the service import them from here (a model can hold them)."""', ""]
    body = []
    for stmt in flow.definitions:
        body += [f"# {notebook}: {stmt.where}", _block(stmt), "", ""]
    imports = _imports(flow, _used(flow.definitions))
    return "\n".join(head + imports + (["", ""] if imports else []) + body).rstrip() + "\n"


def features_module(flow: Flow, notebook: str) -> str:
    """``src/<pkg>/features.py``: her feature steps as one function of the raw frame."""
    defined = {s.node.name for s in flow.definitions}  # type: ignore[attr-defined]
    used = _used(flow.steps + flow.helpers + flow.statistics)
    lines = [f'"""Her feature code from {notebook}: one function, run by training and by the',
             "service on the raw records (nbprod new --notebook wrote it; edit it freely, the",
             'build checks that the served answers still equal her notebook\'s)."""', ""]
    lines += _imports(flow, used)
    mine = sorted(used & defined)
    if mine:
        lines.append(f"from .notebook import {', '.join(mine)}")
    lines += ["", ""]
    for stmt in flow.helpers:
        lines += [f"# {notebook}: {stmt.where}", _block(stmt), ""]
    if flow.helpers:
        lines.append("")
    if flow.stats_name:
        lines += _statistics(flow, notebook)
    stats = f", {flow.stats_name}" if flow.stats_name else ""
    lines += [f"def features(df{stats}):",
              f'{INDENT}"""Her raw frame -> her model\'s input columns (the service aligns them',
              f'{INDENT}to the training columns{"; " + flow.stats_name + " is what statistics(df) gave on" if stats else ""}'
              + (f'\n{INDENT}the file she read, kept in the fitted model)."""' if stats else ')."""')]
    lines.append(f"{INDENT}{flow.raw} = df.copy()")
    for stmt in flow.steps:
        lines += [f"{INDENT}# {notebook}: {stmt.where}", _block(stmt, INDENT)]
    if flow.x_value:
        lines.append(f"{INDENT}# {notebook}: {flow.X} is built from {flow.frame}")
    lines.append(f"{INDENT}return {flow.x_value or flow.frame}")
    return "\n".join(lines) + "\n"


def _statistics(flow: Flow, notebook: str) -> list[str]:
    """``statistics(df)``: her steps up to the last statistic of her frame her feature code
    uses, training-only ones included, so each value is the one her notebook computed."""
    lines = ["def statistics(df):",
             f'{INDENT}"""The values of her whole frame her feature code uses, computed where her',
             f"{INDENT}notebook computes them; training runs it once on the file she reads, the fitted",
             f'{INDENT}model keeps the result, and features() reads it."""',
             f"{INDENT}{flow.raw} = df.copy()", f"{INDENT}{flow.stats_name} = {{}}"]
    for stmt in flow.statistics:
        lines += [f"{INDENT}# {notebook}: {stmt.where}", _block(stmt, INDENT)]
    return [*lines, f"{INDENT}return {flow.stats_name}", "", ""]


def training_only_notes(flow: Flow) -> list[str]:
    """One line per statement left out of the served features, with its cell and reason."""
    return [f"{stmt.where}: {reason}: training only ({stmt.source.splitlines()[0][:60]})"
            for stmt, reason in flow.training_only]


def fitted_in_transform(flow: Flow) -> str:
    """A line naming her first class whose ``transform`` fits something (an encoder fitted
    on the rows it is given gives one record other columns than training), or ''."""
    for stmt in flow.definitions:
        if not isinstance(stmt.node, ast.ClassDef):
            continue
        for method in stmt.node.body:
            if not (isinstance(method, ast.FunctionDef) and method.name == "transform"):
                continue
            for sub in ast.walk(method):
                if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                        and sub.func.attr in ("fit", "fit_transform")):
                    call = ast.unparse(sub.func)
                    return (f"{stmt.where}: her {stmt.node.name} fits inside transform (line "
                            f"{sub.lineno}: {call}), so one record gets other columns than "
                            "training; fit it in fit, only apply it in transform, then adopt")
    return ""
