"""Her notebook split into pipeline tasks, and the variables that flow between them.

Where to split, first that applies:

1. her tags, as Kale's: a cell tagged ``step:NAME`` starts the task ``NAME`` (the cells
   after it belong to it until the next ``step:``), ``prev:NAME`` makes ``NAME`` an upstream
   task even when no variable flows, ``skip`` leaves a cell out;
2. her markdown headings: a task starts where the heading above the cells changes;
3. else one task, ``notebook``.

A variable used by a task before it assigns it, and assigned (or changed in place) by an
earlier task, is a product of the last earlier task that wrote it: frames and series as
Parquet, arrays as ``.npy`` (no pickle), models in the safe model format, plain values as
JSON. Imports and her own definitions are not passed: every task imports them.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from .names import identifier
from .notebook_source import Cell
from .notebook_statements import written as _written

__all__ = ["SUFFIX", "Section", "split"]

#: how each kind of value is stored between tasks
SUFFIX = {"frame": ".parquet", "series": ".series.parquet", "array": ".npy",
          "model": ".skops", "json": ".json"}
#: task names of nbprod's own that her tasks may not take
RESERVED = frozenset({"ingest", "train", "evaluate", "register", "score", "features"})


@dataclass
class Section:
    """One task of hers: its cells, what it needs from earlier tasks and what it passes on."""

    name: str
    cells: list[Cell]
    #: variable -> the task it comes from
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    prev: list[str] = field(default_factory=list)

    @property
    def upstream(self) -> list[str]:
        return sorted({*self.inputs.values(), *self.prev})


def _task_name(text: str, taken: set[str]) -> str:
    base = identifier(text)[:40].strip("_") or "step"
    name = f"{base}_nb" if base in RESERVED else base
    n = 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _groups(cells: list[Cell]) -> list[tuple[str, list[Cell], list[str]]]:
    kept = [c for c in cells if "skip" not in c.tags]
    steps = [next((t[5:] for t in c.tags if t.startswith("step:")), None) for c in kept]
    groups: list[tuple[str, list[Cell], list[str]]] = []
    if any(steps):
        for cell, step in zip(kept, steps, strict=True):
            prev = [t[5:] for t in cell.tags if t.startswith("prev:")]
            if step or not groups:
                groups.append((step or "start", [], []))
            groups[-1][1].append(cell)
            groups[-1][2].extend(prev)
        return groups
    headings = [c.heading[0] if c.heading else "" for c in kept]
    if len(set(headings)) > 1:
        for cell, heading in zip(kept, headings, strict=True):
            if not groups or heading != groups[-1][0]:
                groups.append((heading or "start", [], []))
            groups[-1][1].append(cell)
        return groups
    return [("notebook", kept, [])]


def _reads_and_writes(cell: Cell) -> tuple[list[str], set[str]]:
    """Names the cell reads before it writes them, in order, and every name it writes."""
    reads: list[str] = []
    writes: set[str] = set()
    for node in cell.tree().body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef,
                             ast.AsyncFunctionDef)):
            continue
        loads = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                 and isinstance(n.ctx, ast.Load)]
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            loads.append(node.target.id)
        reads += [n for n in loads if n not in writes and n not in reads]
        writes |= _written(node) | {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                                    and isinstance(n.ctx, ast.Store)}
    return reads, writes


def _bound(cells: list[Cell]) -> set[str]:
    """Names of imports and of her definitions: every task has them."""
    out: set[str] = set()
    for cell in cells:
        for node in cell.tree().body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                out.add(node.name)
    return out


def split(cells: list[Cell], final_needs: list[str]) -> list[Section]:
    """Her tasks in order; ``final_needs`` are the names the last task must have (her model,
    her split) for nbprod to keep her run."""
    taken: set[str] = set()
    groups = _groups(cells)
    sections = [Section(_task_name(name, taken), group) for name, group, _ in groups]
    names = {g[0]: s.name for g, s in zip(groups, sections, strict=True)}
    for (_, _, prev), section in zip(groups, sections, strict=True):
        section.prev = [names[p] for p in prev if p in names and names[p] != section.name]
    shared = _bound(cells) | set(dir(builtins))
    last_writer: dict[str, str] = {}
    for i, section in enumerate(sections):
        wrote: set[str] = set()
        for cell in section.cells:
            reads, writes = _reads_and_writes(cell)
            for name in reads:
                if name not in wrote and name not in shared and name in last_writer:
                    section.inputs.setdefault(name, last_writer[name])
            wrote |= writes
        if i == len(sections) - 1:
            for name in final_needs:
                if name not in wrote and name in last_writer:
                    section.inputs.setdefault(name, last_writer[name])
        for name in wrote:
            last_writer[name] = section.name
    by_name = {s.name: s for s in sections}
    for section in sections:
        for name, source in section.inputs.items():
            if name not in by_name[source].outputs:
                by_name[source].outputs.append(name)
    return sections
