"""``nbprod check``: the notebook contract, checked before any kernel starts.

A registry of rules (NB001-NB010, one function each, see :mod:`.rules` and
:mod:`.code_rules`) runs over each notebook (``.ipynb`` read with nbformat, percent
``.py`` and other text notebooks with jupytext, :mod:`.reader`), with the parameters,
products and dependencies Ploomber resolves for its task (:mod:`.pipeline`). Findings are ``path:cell:line RULE message`` plus a
hint. The same check runs as the pipeline's ``on_render`` hook (:mod:`nbprod.pipeline.hooks`).

May import: the registry (the injected cell's tag, :mod:`nbprod.registry.lineage`), the model
and data stages and the floor (errors, settings, compat).
"""

from __future__ import annotations

from . import code_rules as _code_rules  # noqa: F401 - registers NB006-NB010
from . import rules as _rules  # noqa: F401 - registers NB001-NB005
from .context import NotebookContext, Pipeline, TaskContract
from .findings import ERROR, WARNING, Finding, Hit
from .fix import Fixed, fix_findings, strip_notebook
from .pipeline import attach_origins, cli_overrides, find_pipeline, load_pipeline, pipeline_from_dag
from .reader import read_notebook
from .rules_table import RULES, Rule, rule, unregister
from .runner import Report, check, check_notebook, errors, notebooks_in, run

__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "attach_origins",
    "cli_overrides",
    "Finding",
    "Fixed",
    "Hit",
    "NotebookContext",
    "Pipeline",
    "Report",
    "Rule",
    "TaskContract",
    "check",
    "check_notebook",
    "errors",
    "find_pipeline",
    "fix_findings",
    "load_pipeline",
    "notebooks_in",
    "pipeline_from_dag",
    "read_notebook",
    "rule",
    "run",
    "strip_notebook",
    "unregister",
]
