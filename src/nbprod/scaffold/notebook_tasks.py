"""Her tasks' notebooks: for each task of :func:`nbprod.scaffold.notebook_split.split`, a
``parameters`` cell (its upstream, its products, her literals that are parameters), the
values it takes from earlier tasks, her imports and definitions (from her package), her
cells as she wrote them, and the values it passes on. The last task ends by keeping her run
(:func:`nbprod.pipeline.adoption.keep_her_run`).

Her ``def`` and ``class`` statements are replaced by an import from ``<pkg>.notebook``,
where adoption copied them, so a model holding her class is stored by an importable name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NbprodError
from .notebook_params import Parameter, with_parameters
from .notebook_source import Cell
from .notebook_split import SUFFIX, Section

__all__ = ["HER_PRODUCTS", "TaskSpec", "her_tasks", "notebook_json"]

#: what the last task keeps for nbprod's train task, and the files
HER_PRODUCTS = {"her_model": "her_model.skops", "heldout": "heldout.parquet",
                "training_rows": "training_rows.parquet", "model_input": "model_input.parquet",
                "raw_rows": "raw_rows.parquet"}
#: the prefix of a passed variable's product key (never one of nbprod's own keys)
VALUE = "value_"


@dataclass(frozen=True)
class TaskSpec:
    """One task of hers: its notebook and its ``pipeline.yaml`` entry's parts."""

    name: str
    notebook: str
    products: dict[str, str]
    params: list[str]


def notebook_json(cells: list[dict[str, Any]]) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        new_markdown_cell(c["source"]) if c["kind"] == "markdown"
        else new_code_cell(c["source"], metadata={"tags": c["tags"]} if c.get("tags") else {})
        for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nbformat.writes(nb) + "\n"


def _without_definitions(source: str, package: str) -> str:
    """Her cell with each top-level ``def``/``class`` replaced by its import."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            lines[start:node.end_lineno] = [f"from {package}.notebook import {node.name}"]
    return "\n".join(lines)


def _her_files_marked(source: str) -> str:
    """Her cell with each line that names a file of hers by a relative path (her models and
    outputs: ``df.to_csv('../Data/out.csv')``) marked as hers for the notebook check's
    hard-coded path rule (NB006): her task writes them where her notebook does."""
    from ..check.code_rules import joined_parts, string_literals
    from ..check.patterns import is_absolute_path, is_data_path

    tree = ast.parse(source)
    joined = joined_parts(tree)
    lines = source.splitlines()
    marked = sorted({n.lineno for n in string_literals(tree)
                     if n.lineno == n.end_lineno and id(n) not in joined
                     and is_data_path(str(n.value)) and not is_absolute_path(str(n.value))})
    for number in marked:
        lines[number - 1] += "  # nbprod: ignore[NB006] a file of hers"
    return "\n".join(lines)


def _imports(cells: list[Cell]) -> str:
    out = []
    for cell in cells:
        for node in cell.tree().body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.append(ast.get_source_segment(cell.source, node) or "")
    if any(isinstance(n, ast.Name) and n.id == "display" for c in cells for n in ast.walk(c.tree())):
        out.append("from IPython.display import display")  # what Jupyter gives her cells
    return "\n".join(dict.fromkeys(out))


def her_tasks(sections: list[Section], kinds: dict[str, str], cells: list[Cell],
              markdown: dict[int, str], swaps: dict[int, list[tuple[ast.Constant, str]]],
              parameters: dict[str, list[Parameter]], keep: str, package: str,
              title: str) -> list[TaskSpec]:
    """The notebooks of her tasks. ``markdown``: her markdown cells by number; ``swaps``:
    per cell, her literals to replace by parameter names; ``parameters``: per task, the
    parameter lines of its ``parameters`` cell; ``keep``: the last task's closing code."""
    out = []
    imports = _imports(cells)
    start = 1
    for i, section in enumerate(sections):
        last = i == len(sections) - 1
        products = {f"{VALUE}{v}": f"{section.name}/{v}{SUFFIX[kinds[v]]}"
                    for v in section.outputs}
        if last:
            products.update({k: f"{section.name}/{f}" for k, f in HER_PRODUCTS.items()})
        product = {"nb": f"../products/reports/{section.name}.ipynb",
                   **{k: f"../products/notebook/{p}" for k, p in products.items()}}
        upstream = section.upstream or None
        params = [p.name for p in parameters.get(section.name, [])]
        head = [f"upstream = {upstream!r}", f"product = {product!r}",
                *(f"{p.name} = {p.value!r}  # cell {p.cell}"
                  for p in parameters.get(section.name, []))]
        body: list[dict[str, Any]] = [
            {"kind": "markdown", "source": f"# {section.name}\n\n{title}"},
            {"kind": "code", "source": "\n".join(head), "tags": ["parameters"]}]
        if section.inputs:
            body.append({"kind": "code", "source": "from nbprod.pipeline.adoption import "
                         "load_value\n\n" + "\n".join(
                             f"{v} = load_value(upstream[{t!r}][{VALUE + v!r}])"
                             for v, t in section.inputs.items())})
        if i and imports:
            body.append({"kind": "code", "source": imports})
        numbers = [c.number for c in section.cells]
        end = max([*numbers, *markdown]) if i == len(sections) - 1 else max(numbers)
        for number in range(start, end + 1):
            if number in markdown:
                body.append({"kind": "markdown", "source": markdown[number]})
            cell = next((c for c in section.cells if c.number == number), None)
            if cell is not None and cell.source.strip():
                source = with_parameters(cell.source, swaps.get(number, []))
                body.append({"kind": "code", "source": _her_files_marked(_without_definitions(
                    source, package)).rstrip("\n")})
        start = end + 1
        if section.outputs:
            body.append({"kind": "code", "source": "from nbprod.pipeline.adoption import "
                         "save_value\n\n" + "\n".join(
                             f"save_value({v}, product[{VALUE + v!r}])"
                             for v in section.outputs)})
        if last:
            body.append({"kind": "code", "source": keep})
        out.append(TaskSpec(section.name, notebook_json(body), products, params))
    return out


def check_kinds(sections: list[Section], kinds: dict[str, str]) -> str:
    """'' when every passed value can travel between tasks, else why not (one line)."""
    for section in sections:
        for name in section.outputs:
            if kinds.get(name, "other") not in SUFFIX:
                return (f"{name} (from task {section.name}) cannot pass between tasks without "
                        "pickle; her cells are kept as one task")
    return ""


def markdown_cells(notebook: Path) -> dict[int, str]:
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    return {n: c.source for n, c in enumerate(nb.cells, 1) if c.cell_type == "markdown"}


def read_expression(node: ast.stmt, literal: ast.Constant, parameter: str) -> str:
    """Her read call with her data path replaced by the parameter's name."""
    value = node.value if isinstance(node, ast.Assign) else None
    if value is None:
        raise NbprodError("read the data with an assignment (df = pd.read_csv(...)), then adopt")

    class Swap(ast.NodeTransformer):
        def visit_Constant(self, found: ast.Constant) -> ast.AST:
            return ast.Name(parameter, ast.Load()) if found.value == literal.value else found

    return ast.unparse(Swap().visit(ast.parse(ast.unparse(value), mode="eval")).body)
