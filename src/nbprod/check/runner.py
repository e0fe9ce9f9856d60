"""Run the rules over notebooks: which notebooks, with which pipeline tasks."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .context import NotebookContext, Pipeline
from .findings import ERROR, Finding, ignored_rules
from .pipeline import find_pipeline, load_pipeline
from .reader import NOTEBOOK_SUFFIXES, read_notebook
from .rules_table import Rule, load_plugins, select_rules

log = logging.getLogger(__name__)

#: What marks a text file found in a folder as a notebook (a percent cell or jupytext's header).
_TEXT_NOTEBOOK = re.compile(r"^(?:#|#')\s*%%|^#\s*jupyter:\s*$", re.MULTILINE)
_SKIPPED_FOLDERS = {".ipynb_checkpoints", ".git", ".venv", "venv", "node_modules", "__pycache__"}


def notebooks_in(paths: Iterable[str | Path]) -> list[Path]:
    """The notebooks named by ``paths``. Folders are searched for ``*.ipynb`` and for
    text notebooks (``.py``, ``.R``, ``.Rmd`` with a ``# %%`` cell or a jupytext header);
    a file named explicitly is checked whatever its suffix."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix in NOTEBOOK_SUFFIXES and p.is_file()
                     and not _SKIPPED_FOLDERS.intersection(p.relative_to(path).parts))
            out.extend(sorted(p for p in found if p.suffix in (".ipynb", ".Rmd")
                              or looks_like_text_notebook(p)))
        elif path.exists():
            out.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    return out


def looks_like_text_notebook(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(_TEXT_NOTEBOOK.search(head))


@dataclass(frozen=True)
class Report:
    """What one check found, and on which notebooks (displayed paths)."""

    findings: list[Finding]
    notebooks: list[str]


def check(
    paths: Sequence[str | Path] | None = None,
    *,
    pipeline: str | Path | Pipeline | None = None,
    root: str | Path | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Check notebooks against the contract; return every finding, sorted (see :func:`run`)."""
    return run(paths, pipeline=pipeline, root=root, select=select, ignore=ignore).findings


def run(
    paths: Sequence[str | Path] | None = None,
    *,
    pipeline: str | Path | Pipeline | None = None,
    root: str | Path | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> Report:
    """Check notebooks against the contract: every finding, sorted, and the notebooks checked.

    ``paths`` defaults to the notebooks of the pipeline's tasks. ``pipeline`` is a
    ``pipeline.yaml`` (found from ``root`` like Ploomber does when not given) or an
    already loaded :class:`Pipeline`. A notebook that is not a task of the pipeline
    is checked by the rules that need no pipeline. ``root`` (default: the working
    directory) is where displayed paths are relative to.
    """
    root = Path(root or Path.cwd())
    load_plugins()
    rules = select_rules(select, ignore)
    spec: Pipeline | None
    if isinstance(pipeline, Pipeline):
        spec = pipeline
    else:
        located = Path(pipeline) if pipeline else find_pipeline(root)
        spec = load_pipeline(located) if located else None
    if paths is None:
        if spec is None:
            raise ConfigError(f"no pipeline.yaml found from {root}; pass notebook paths to check")
        notebooks = spec.notebooks
    else:
        notebooks = notebooks_in(paths)
    findings: list[Finding] = []
    checked = []
    for path in notebooks:
        ctx = read_notebook(path, root)
        if spec is not None:
            ctx.pipeline = spec
            ctx.tasks = spec.tasks_for(path)
        findings.extend(check_notebook(ctx, rules))
        checked.append(ctx.display)
    return Report(findings, checked)


def check_notebook(ctx: NotebookContext, rules: Sequence[Rule]) -> list[Finding]:
    """The findings of ``rules`` on one notebook, minus those silenced by comments."""
    out = []
    for r in rules:
        if r.needs_notebook and ctx.nb is None:
            continue
        if r.python_only and ctx.nb is not None and not ctx.is_python:
            continue
        try:
            hits = list(r.function(ctx))
        except Exception as exc:  # a bug in a rule must name the rule and the notebook
            log.debug("rule %s failed on %s", r.id, ctx.display, exc_info=True)
            raise ConfigError(f"{ctx.display}: rule {r.id} failed ({type(exc).__name__}: {exc}); "
                              "this is a bug, run with --debug for the traceback") from exc
        for hit in hits:
            if _silenced(ctx, r.id, hit.cell, hit.line):
                continue
            out.append(Finding(ctx.display, hit.cell, hit.line, r.id, r.name, r.severity,
                               hit.message, hit.hint, ctx.file_line(hit.cell, hit.line)))
    return sorted(out, key=lambda f: (f.path, f.cell or 0, f.line or 0, f.rule))


def _silenced(ctx: NotebookContext, rule_id: str, cell: int | None, line: int | None) -> bool:
    if ctx.nb is not None:
        ignored = (ctx.metadata.get("nbprod") or {}).get("ignore", [])
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
