"""Run the rules over notebooks: which notebooks, with which pipeline tasks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import ConfigError
from .context import NotebookContext, Pipeline, read_notebook
from .findings import ERROR, Finding, ignored_rules
from .pipeline import find_pipeline, load_pipeline
from .registry import Rule, load_plugins, select_rules

log = logging.getLogger(__name__)


def notebooks_in(paths: Iterable[str | Path]) -> list[Path]:
    """The notebooks named by ``paths``; folders are searched for ``*.ipynb``."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts))
        elif path.exists():
            out.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    return out


def check(
    paths: Sequence[str | Path] | None = None,
    *,
    pipeline: str | Path | Pipeline | None = None,
    root: str | Path | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Check notebooks against the contract; return every finding, sorted.

    ``paths`` defaults to the notebooks of the pipeline's tasks. ``pipeline`` is a
    ``pipeline.yaml`` (found from ``root`` like Ploomber does when not given) or an
    already loaded :class:`Pipeline`. A notebook that is not a task of the pipeline
    is checked by the rules that need no pipeline. ``root`` (default: the working
    directory) is where displayed paths are relative to.
    """
    root = Path(root or Path.cwd())
    load_plugins()
    rules = select_rules(select, ignore)
    if isinstance(pipeline, Pipeline):
        spec = pipeline
    else:
        located = Path(pipeline) if pipeline else find_pipeline(root)
        spec = load_pipeline(located) if located else None
    if paths is None:
        if spec is None:
            raise ConfigError(f"no pipeline.yaml found from {root}; pass notebook paths to check")
        notebooks = sorted({t.source for t in spec.tasks.values()})
    else:
        notebooks = notebooks_in(paths)
    findings: list[Finding] = []
    for path in notebooks:
        ctx = read_notebook(path, root)
        if spec is not None:
            ctx.pipeline = spec
            ctx.tasks = spec.tasks_for(path)
        findings.extend(check_notebook(ctx, rules))
    return findings


def check_notebook(ctx: NotebookContext, rules: Sequence[Rule]) -> list[Finding]:
    """The findings of ``rules`` on one notebook, minus those silenced by comments."""
    out = []
    for r in rules:
        if r.needs_notebook and ctx.nb is None:
            continue
        for hit in r.function(ctx):
            if _silenced(ctx, r.id, hit.cell, hit.line):
                continue
            out.append(Finding(ctx.display, hit.cell, hit.line, r.id, r.name, r.severity,
                               hit.message, hit.hint))
    return sorted(out, key=lambda f: (f.path, f.cell or 0, f.line or 0, f.rule))


def _silenced(ctx: NotebookContext, rule_id: str, cell: int | None, line: int | None) -> bool:
    if ctx.nb is not None:
        ignored = ctx.metadata.get("nbprod", {}).get("ignore", [])
        if rule_id in ignored:
            return True
    if ctx.nb is None or cell is None or line is None:
        return False
    lines = ctx.cell(cell).source.splitlines()
    if not 0 < line <= len(lines):
        return False
    ids = ignored_rules(lines[line - 1])
    return ids is not None and ("*" in ids or rule_id in ids)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
