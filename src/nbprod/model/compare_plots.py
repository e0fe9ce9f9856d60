"""Figures of several model versions at once, for the comparison page.

- :func:`overlaid_curves`: each version's held-out evaluation curves on the same axes, by
  model kind: ROC, precision-recall and calibration (binary: of the positive class;
  multiclass: one row per class, one vs rest); predicted against actual in bins of the
  prediction and the residuals' quantiles (regression); drawn from the aggregates each
  version keeps (:mod:`nbprod.model.curves`), never from rows;
- :func:`metrics_over_time`: every version's metrics in the order they were created, the
  periods each was in production shaded, the compared versions ringed.

Each takes plain mappings and values (no store), and returns a matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ..data.model_kinds import BINARY, MULTICLASS

#: the most classes drawn one row each; the rest are named in the figure's title
MAX_CLASSES = 6


def _one_vs_rest(axes, label: str, curves: Mapping[str, Any] | None) -> None:
    if not curves:
        return
    roc, pr, cal = curves["roc"], curves["pr"], curves["calibration"]
    # ROC: straight between kept points (rows between two may be in any order); PR: steps
    axes[0].plot(roc["fpr"], roc["tpr"], label=f"{label} (AUC {curves['roc_auc']:.3f})")
    axes[1].step(pr["recall"], pr["precision"], where="post",
                 label=f"{label} (AP {curves['average_precision']:.3f})")
    axes[2].plot(cal["mean_predicted"], cal["observed"], marker="o", label=label)


def _frame_axes(row, title: str) -> None:
    roc, pr, cal = row
    roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC{title}")
    pr.set(xlabel="recall", ylabel="precision", title=f"Precision-recall{title}")
    cal.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    cal.set(xlabel="mean predicted probability", ylabel="observed rate",
            title=f"Calibration{title}")
    for ax, where in zip(row, ("lower right", "lower left", "upper left"), strict=True):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc=where, fontsize="small")


def _regression(axes, runs: Mapping[str, Mapping[str, Any]]) -> None:
    binned, spread = axes
    low, high = np.inf, -np.inf
    boxes, names = [], []
    for label, curves in runs.items():
        bins = curves.get("bins") or {}
        if bins.get("rows"):
            binned.plot(bins["mean_actual"], bins["mean_predicted"], marker="o", label=label)
            low = min(low, *bins["mean_actual"], *bins["mean_predicted"])
            high = max(high, *bins["mean_actual"], *bins["mean_predicted"])
        q = curves.get("residual_quantiles") or {}
        if q:
            boxes.append({"label": label, "med": q["0.5"], "q1": q["0.25"], "q3": q["0.75"],
                          "whislo": q["0.05"], "whishi": q["0.95"], "fliers": []})
            names.append(label)
    if np.isfinite(low):
        binned.plot([low, high], [low, high], ls="--", color="grey", lw=1)
    binned.set(xlabel="mean actual", ylabel="mean predicted",
               title="Predicted against actual (bins of the prediction)")
    if boxes:
        spread.bxp(boxes, orientation="horizontal", showfliers=False)
        spread.axvline(0, ls="--", color="grey", lw=1)
    spread.set(xlabel="residual (actual - predicted): 5, 25, 50, 75, 95th percentiles",
               title="Residuals")
    if binned.get_legend_handles_labels()[0]:
        binned.legend(loc="upper left", fontsize="small")


def overlaid_curves(kind: str, runs: Mapping[str, Mapping[str, Any]], classes: Sequence[str] = ()):
    """One figure overlaying each version's curves; ``runs`` maps a label (the version) to
    its curves kept in the store (:func:`nbprod.model.curves.curve_summary`)."""
    import matplotlib.pyplot as plt

    if kind == BINARY:
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), squeeze=False)
        for label, curves in runs.items():
            _one_vs_rest(axes[0], label, curves.get("classes", {}).get("1"))
        _frame_axes(axes[0], "")
    elif kind == MULTICLASS:
        shown = list(classes)[:MAX_CLASSES]
        fig, axes = plt.subplots(len(shown), 3, figsize=(14, 4.2 * len(shown)), squeeze=False)
        for row, name in zip(axes, shown, strict=True):
            for label, curves in runs.items():
                _one_vs_rest(row, label, curves.get("classes", {}).get(str(name)))
            _frame_axes(row, f": class {name} (one vs rest)")
        if len(classes) > MAX_CLASSES:
            fig.suptitle(f"first {MAX_CLASSES} of {len(classes)} classes")
    else:
        fig, axes = plt.subplots(1, 2, figsize=(12, 5), squeeze=False)
        _regression(axes[0], runs)
    fig.tight_layout()
    return fig


def metrics_over_time(points: Sequence[Any], periods: Sequence[tuple[str, datetime, Any]],
                      metrics: Sequence[str], marked: Sequence[str] = ()):
    """One panel per metric: each version's value at its creation time (``points``: objects
    with ``tag``, ``created``, ``metrics``), production periods shaded and labelled with the
    version (``until`` None: to the newest version), the ``marked`` versions ringed."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    metrics = list(metrics) or ["(no metric)"]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(12, 2.6 * len(metrics) + 0.6),
                             squeeze=False, sharex=True)
    times = [p.created for p in points]
    end = max(times) if times else None
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        for _tag, start, until in periods:
            stop = until or end
            if stop is None:
                continue
            ax.axvspan(start, max(stop, start), color="#2e7d32", alpha=0.12, lw=0)
        have = [(p.created, p.metrics[metric], p.tag) for p in points if metric in p.metrics]
        if have:
            ax.plot([h[0] for h in have], [h[1] for h in have], marker="o", color="#1f5fa8")
            for when, value, tag in have:
                if tag in marked:
                    ax.plot([when], [value], marker="o", ms=13, mfc="none", mec="#d62728", mew=2)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    top = axes[0, 0]
    for tag, start, _until in periods:
        top.annotate(tag.partition(":")[2][:8], (start, 1.0), xycoords=("data", "axes fraction"),
                     fontsize="x-small", color="#2e7d32", va="bottom", rotation=0)
    locator = mdates.AutoDateLocator()  # ticks and labels that fit the span: seconds to months
    axes[-1, 0].xaxis.set_major_locator(locator)
    axes[-1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    top.set_title("Metrics of every version (shaded: in production; ringed: compared)", pad=14)
    fig.tight_layout()
    return fig
