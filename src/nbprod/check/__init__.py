"""``nbprod check``: the notebook contract, checked before any kernel starts.

A registry of rules (NB001-NB009, one function each, see :mod:`.rules`) runs over
each notebook read with nbformat, with the parameters, products and dependencies
Ploomber resolves for its task. Findings are ``path:cell:line RULE message`` plus a
hint. The same check runs as the pipeline's ``on_render`` hook (:mod:`nbprod.hooks`).
"""

from __future__ import annotations

from . import rules as _rules  # noqa: F401 - registers NB001-NB009
from .context import NotebookContext, Pipeline, TaskContract
from .findings import ERROR, WARNING, Finding, Hit
from .fix import Fixed, strip_notebook
from .pipeline import find_pipeline, load_pipeline, pipeline_from_dag
from .registry import RULES, Rule, rule, unregister
from .runner import check, check_notebook, errors, notebooks_in

__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "Finding",
    "Fixed",
    "Hit",
    "NotebookContext",
    "Pipeline",
    "Rule",
    "TaskContract",
    "check",
    "check_notebook",
    "errors",
    "find_pipeline",
    "load_pipeline",
    "notebooks_in",
    "pipeline_from_dag",
    "rule",
    "strip_notebook",
    "unregister",
]
