"""A model's evaluation curves as aggregates that hold no row (kept with each version).

:func:`curve_summary` turns the evaluate step's held-out predictions frame
(:func:`nbprod.model.predictions.predictions_frame`) into small JSON the comparison page
draws from (:func:`nbprod.model.compare_plots.overlaid_curves`), by kind:

- binary: the ROC and precision-recall curves of the positive class and its calibration
  bins; multiclass: the same per class, one vs rest;
- regression: the predicted-against-actual summary in quantile bins of the prediction,
  and the residuals' quantiles.

No row index, label or prediction of a single row is kept: a curve's consecutive points are
at least :data:`MIN_ROWS` rows apart (at most :data:`MAX_POINTS` points, no threshold), and
every bin holds at least :data:`MIN_ROWS` rows (smaller ones are merged into a neighbour).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data.model_kinds import BINARY, MULTICLASS

#: the fewest rows between two kept curve points and in one bin
MIN_ROWS = 5
#: the most points kept of one curve
MAX_POINTS = 200
#: the calibration bins and the predicted-against-actual bins asked for (before merging)
BINS = 10
#: the residual quantiles kept for a regression
RESIDUAL_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: decimals kept of every value
DECIMALS = 4


def _round(values: Any) -> list[float]:
    return [round(float(v), DECIMALS) for v in values]


def _merged_bins(ids: np.ndarray, bins: int) -> list[np.ndarray]:
    """Row masks of bins ``0..bins-1`` (``ids``: each row's bin), a bin smaller than
    :data:`MIN_ROWS` merged into the next one (the last one into the one before it)."""
    groups: list[np.ndarray] = []
    pending = np.zeros(len(ids), dtype=bool)
    for b in range(bins):
        pending = pending | (ids == b)
        if pending.sum() >= MIN_ROWS:
            groups.append(pending)
            pending = np.zeros(len(ids), dtype=bool)
    if pending.any() and groups:
        groups[-1] = groups[-1] | pending
    return groups


def _quantile_ids(values: np.ndarray, bins: int) -> np.ndarray:
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def _kept(counts: np.ndarray, n: int) -> np.ndarray:
    """Indices of the curve points to keep (``counts``: rows at or above each point's
    threshold, increasing, from 0 to ``n``): the first and last, and between them points at
    least ``max(MIN_ROWS, n / MAX_POINTS)`` rows apart and as far from the last."""
    step = max(MIN_ROWS, int(np.ceil(n / (MAX_POINTS - 1))))
    kept, last = [0], counts[0]
    for i in range(1, len(counts) - 1):
        if counts[i] - last >= step and n - counts[i] >= step:
            kept.append(i)
            last = counts[i]
    kept.append(len(counts) - 1)
    return np.asarray(kept)


def one_vs_rest(is_class: np.ndarray, proba: np.ndarray, bins: int = BINS) -> dict[str, Any] | None:
    """ROC and precision-recall points, AUC, average precision and calibration bins of one
    class against the rest; None when the held-out rows hold only that class or none of it."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    is_class = np.asarray(is_class, dtype=bool)
    proba = np.asarray(proba, dtype="float64")
    positives = int(is_class.sum())
    if positives in (0, len(is_class)):
        return None
    order = np.argsort(-proba, kind="mergesort")
    scores, hits = proba[order], is_class[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores) != 0), len(scores) - 1]
    tp = np.r_[0, np.cumsum(hits)[last_of_tie]]
    counts = np.r_[0, last_of_tie + 1]
    fp = counts - tp
    keep = _kept(counts, len(proba))
    tp, fp = tp[keep], fp[keep]
    negatives = len(proba) - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 1.0)
    calibration: dict[str, list[Any]] = {"mean_predicted": [], "observed": [], "rows": []}
    for mask in _merged_bins(np.minimum((proba * bins).astype(int), bins - 1), bins):
        calibration["mean_predicted"].append(round(float(proba[mask].mean()), DECIMALS))
        calibration["observed"].append(round(float(is_class[mask].mean()), DECIMALS))
        calibration["rows"].append(int(mask.sum()))
    return {
        "roc": {"fpr": _round(fp / negatives), "tpr": _round(tp / positives)},
        "pr": {"recall": _round(tp[1:] / positives), "precision": _round(precision[1:])},
        "roc_auc": round(float(roc_auc_score(is_class, proba)), DECIMALS),
        "average_precision": round(float(average_precision_score(is_class, proba)), DECIMALS),
        "calibration": calibration,
        "rows": int(len(proba)),
        "positives": positives,
    }


def regression_summary(actual: np.ndarray, predicted: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """Predicted against actual in quantile bins of the prediction (mean predicted, mean
    actual, rows; each bin at least :data:`MIN_ROWS` rows), and the residuals' quantiles
    (none below ``2 * MIN_ROWS`` rows)."""
    actual = np.asarray(actual, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    binned: dict[str, list[Any]] = {"mean_predicted": [], "mean_actual": [], "rows": []}
    if len(predicted):
        for mask in _merged_bins(_quantile_ids(predicted, bins), bins):
            binned["mean_predicted"].append(round(float(predicted[mask].mean()), DECIMALS))
            binned["mean_actual"].append(round(float(actual[mask].mean()), DECIMALS))
            binned["rows"].append(int(mask.sum()))
    residuals = actual - predicted
    quantiles = ({str(q): round(float(np.quantile(residuals, q)), DECIMALS)
                  for q in RESIDUAL_QUANTILES} if len(residuals) >= 2 * MIN_ROWS else {})
    return {"bins": binned, "residual_quantiles": quantiles, "rows": int(len(predicted))}


def curve_summary(frame: pd.DataFrame, kind: str, target: str,
                  classes: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON-ready curves of a held-out predictions frame (its ``target`` column and the
    prediction columns of ``kind``); see the module's docstring."""
    if kind == BINARY:
        curves = one_vs_rest(frame[target].to_numpy().astype(int) == 1,
                             frame["probability"].to_numpy())
        return {"kind": kind, "classes": {"1": curves} if curves else {}}
    if kind == MULTICLASS:
        actual = frame[target].astype(str).to_numpy()
        per_class = {str(c): one_vs_rest(actual == str(c), frame[f"probability:{c}"].to_numpy())
                     for c in classes}
        return {"kind": kind, "classes": {c: v for c, v in per_class.items() if v is not None}}
    return {"kind": kind, **regression_summary(frame[target].to_numpy(), frame["prediction"].to_numpy())}
