"""Which of a model's stored metrics a person is shown first, and how they are named.

Models carry whatever metrics their evaluate step wrote; the views (``nbprod summary``,
``nbprod models list``, ``nbprod lineage``) show the scalar ones, the gate's metric first,
then the usual headline metrics of a binary classifier when present, then the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Shown first when present, in this order (after the gate's own metrics).
PREFERRED = ("roc_auc", "pr_auc", "f1", "log_loss", "brier", "calibration_error")
#: Scalars that describe the evaluation rather than score the model.
NOT_SCORES = frozenset({"threshold", "n", "positive_rate"})


def headline(metrics: Mapping[str, Any], gate: Mapping[str, Any] | None = None,
             limit: int | None = None) -> list[str]:
    """The names of the scalar scores in ``metrics``, most telling first."""
    scores = [k for k, v in metrics.items()
              if k not in NOT_SCORES and isinstance(v, int | float) and not isinstance(v, bool)]
    first = []
    if gate:
        first = [gate.get("metric")] + [g.get("metric") for g in gate.get("guards", []) or []
                                         if isinstance(g, Mapping)]
    order = [m for m in (*first, *PREFERRED) if m in scores]
    order += [m for m in scores if m not in order]
    unique = list(dict.fromkeys(order))
    return unique[:limit] if limit else unique


def format_scores(metrics: Mapping[str, Any], names: list[str]) -> str:
    return "  ".join(f"{k}={float(metrics[k]):.4f}" for k in names if k in metrics)
