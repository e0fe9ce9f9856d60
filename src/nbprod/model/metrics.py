"""The metrics a model can have, which way each is better, and which a person sees first.

:data:`DIRECTIONS` is the one table of directions: the gate and its guards
(:mod:`nbprod.registry.gate`) and ``nbprod models list`` read it. Models carry whatever metrics their
evaluate step wrote (:mod:`nbprod.model.evaluation`, by model kind); the views (``nbprod summary``,
``nbprod models list``, ``nbprod lineage``) show the scalar ones, the gate's metric first,
then the usual headline metrics of the model's kind when present, then the rest.
``nbprod models list`` shows one set of columns for every version (:func:`table_columns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..data.model_kinds import BINARY, MULTICLASS, REGRESSION

#: metric -> True when a higher value is better, False when a lower one is
DIRECTIONS: dict[str, bool] = {
    # binary
    "roc_auc": True, "pr_auc": True, "f1": True, "brier": False, "calibration_error": False,
    # binary and multiclass
    "log_loss": False,
    # multiclass
    "accuracy": True, "macro_f1": True, "min_recall": True,
    # regression
    "rmse": False, "mae": False, "r2": True, "residual_std": False,
}

#: the headline metrics of each kind, in the order they are shown
BY_KIND: dict[str, tuple[str, ...]] = {
    BINARY: ("roc_auc", "pr_auc", "f1", "log_loss", "brier", "calibration_error"),
    MULTICLASS: ("accuracy", "macro_f1", "log_loss", "min_recall"),
    REGRESSION: ("rmse", "mae", "r2", "residual_std"),
}
#: Shown first when present, in this order (after the gate's own metrics).
PREFERRED = tuple(dict.fromkeys(m for names in BY_KIND.values() for m in names))
#: Scalars that describe the evaluation rather than score the model.
NOT_SCORES = frozenset({"threshold", "n", "positive_rate", "residual_mean", "target_mean",
                        "target_std"})


def higher_is_better(metric: str) -> bool | None:
    """The direction of ``metric`` from :data:`DIRECTIONS` (None for a metric it lacks)."""
    return DIRECTIONS.get(metric)


def arrow(metric: str) -> str:
    """``↑`` (higher is better), ``↓`` (lower is better) or nothing for an unknown metric."""
    direction = higher_is_better(metric)
    return "" if direction is None else ("↑" if direction else "↓")


def headline(metrics: Mapping[str, Any], gate: Mapping[str, Any] | None = None,
             limit: int | None = None) -> list[str]:
    """The names of the scalar scores in ``metrics``, most telling first."""
    scores = [k for k, v in metrics.items()
              if k not in NOT_SCORES and isinstance(v, int | float) and not isinstance(v, bool)]
    first: list[Any] = []
    if gate:
        guards = gate.get("guards") or {}
        first = [gate.get("metric"), *(guards if isinstance(guards, Mapping) else [])]
    order = [m for m in (*first, *PREFERRED) if m in scores]
    order += [m for m in scores if m not in order]
    unique = list(dict.fromkeys(order))
    return unique[:limit] if limit else unique


def format_scores(metrics: Mapping[str, Any], names: list[str]) -> str:
    return "  ".join(f"{k}={float(metrics[k]):.4f}" for k in names if k in metrics)


def table_columns(metadata: Sequence[Mapping[str, Any]]) -> list[str]:
    """The metric columns of a table of versions, from their metadata (oldest first): the
    gate's metric and guards recorded with the newest version that has a gate, else every
    float metric any version records, in the order first seen."""
    for meta in reversed(metadata):
        gate = meta.get("gate")
        if isinstance(gate, Mapping) and gate.get("metric"):
            return [str(gate["metric"]), *map(str, gate.get("guards") or {})]
    names: dict[str, None] = {}
    for meta in metadata:
        for key, value in meta.get("metrics", {}).items():
            if isinstance(value, float):
                names.setdefault(key)
    return list(names)
