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


def notebook_json(cells: list[dict[str, Any]], ignore: tuple[str, ...] = ()) -> str:
    """The task notebook of ``cells``; ``ignore``: `nbprod check` rules it silences."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        new_markdown_cell(c["source"]) if c["kind"] == "markdown"
        else new_code_cell(c["source"], metadata={"tags": c["tags"]} if c.get("tags") else {})
        for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    if ignore:
        nb.metadata["nbprod"] = {"ignore": list(ignore)}
    return nbformat.writes(nb) + "\n"


def names_files(source: str) -> bool:
    """Whether her cell names a file by a literal path (``'best_model.pkl'``): she keeps it,
    relative to where the pipeline runs, so `nbprod check`'s rule against hard-coded paths
    is silenced."""
    from ..check.code_rules import string_literals
    from ..check.patterns import is_data_path

    return any(is_data_path(str(n.value)) for n in string_literals(ast.parse(source)))


def _without_definitions(source: str, package: str) -> str:
    """Her cell with each top-level ``def``/``class`` replaced by its import."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            lines[start:node.end_lineno] = [f"from {package}.notebook import {node.name}"]
    return "\n".join(lines)


def _imports(cells: list[Cell]) -> str:
    out = []
    for cell in cells:
        for node in cell.tree().body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.append(ast.get_source_segment(cell.source, node) or "")
    return "\n".join(dict.fromkeys(out))


def _defined_before(earlier: list[Section], section: Section) -> list[str]:
    """Her ``def``/``class`` names from ``earlier`` tasks that ``section``'s cells use."""
    defined = [node.name for s in earlier for cell in s.cells for node in cell.tree().body
               if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
    used = {n.id for cell in section.cells for n in ast.walk(cell.tree())
            if isinstance(n, ast.Name)}
    return [name for name in dict.fromkeys(defined) if name in used]


def jupyter_imports(cells: list[Cell]) -> str:
    """The import of IPython's ``display`` when her cells call it without importing it, as a
    Jupyter kernel lets her (Ploomber's check of a task refuses an undefined name)."""
    trees = [c.tree() for c in cells]
    used = {n.id for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name)}
    bound = {(a.asname or a.name).split(".")[0] for tree in trees for n in ast.walk(tree)
             if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return "from IPython.display import display" if "display" in used - bound else ""


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
        files = False
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
        if theirs := _defined_before(sections[:i], section):
            body.append({"kind": "code", "source": f"from {package}.notebook import "
                         f"{', '.join(theirs)}"})
        if jupyter_imports(section.cells):
            body.append({"kind": "code", "source": jupyter_imports(section.cells)})
        numbers = [c.number for c in section.cells]
        end = max([*numbers, *markdown]) if i == len(sections) - 1 else max(numbers)
        for number in range(start, end + 1):
            if number in markdown:
                body.append({"kind": "markdown", "source": markdown[number]})
            cell = next((c for c in section.cells if c.number == number), None)
            if cell is not None and cell.source.strip():
                source = with_parameters(cell.source, swaps.get(number, []))
                files = files or names_files(source)
                body.append({"kind": "code", "source": _without_definitions(
                    source, package).rstrip("\n")})
        start = end + 1
        if section.outputs:
            body.append({"kind": "code", "source": "from nbprod.pipeline.adoption import "
                         "save_value\n\n" + "\n".join(
                             f"save_value({v}, product[{VALUE + v!r}])"
                             for v in section.outputs)})
        if last:
            body.append({"kind": "code", "source": keep})
        out.append(TaskSpec(section.name, notebook_json(body, ("NB006",) if files else ()),
                            products, params))
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
