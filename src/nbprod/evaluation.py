"""Model evaluation: metrics on held-out data and the plots a person looks at."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import train_test_split

log = logging.getLogger(__name__)


def compute_metrics(
    y_true: np.ndarray, proba: np.ndarray, threshold: float, calibration_bins: int = 10
) -> dict[str, Any]:
    """ROC AUC, PR AUC, F1, log loss, Brier score, calibration error and the confusion matrix."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype="float64")
    pred = (proba >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y_true, pred, labels=[0, 1]).ravel()
    return {
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "pr_auc": float(average_precision_score(y_true, proba)),
        "f1": float(f1_score(y_true, pred, zero_division=0)),
        "log_loss": float(log_loss(y_true, proba, labels=[0, 1])),
        "brier": float(brier_score_loss(y_true, proba)),
        "calibration_error": expected_calibration_error(y_true, proba, calibration_bins),
        "threshold": float(threshold),
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "positive_rate": float(y_true.mean()),
        "n": int(len(y_true)),
    }


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean predicted probability| over equal-width bins, weighted by size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(np.mean(y_true[mask]) - np.mean(proba[mask]))
    return float(total / len(proba))


def feature_importance(
    model, X: pd.DataFrame, y: pd.Series, seed: int, repeats: int = 5, max_rows: int = 20_000
) -> pd.Series:
    """Permutation importance (drop in ROC AUC) of each input column, largest first.

    It scores the model ``repeats`` times per column, so on a large test set it runs on
    a seeded sample of ``max_rows`` rows (kept stratified by the label): the estimate
    is as good, and its cost stops growing with the data.
    """
    if len(X) > max_rows:
        sample, _ = train_test_split(X.index, train_size=max_rows, random_state=seed, stratify=y)
        X, y = X.loc[sample], y.loc[sample]
        log.info("permutation importance on a sample of %d of the test rows", max_rows)
    result = permutation_importance(
        model, X, y, scoring="roc_auc", n_repeats=repeats, random_state=seed, n_jobs=1
    )
    return pd.Series(result.importances_mean, index=X.columns, name="importance").sort_values(
        ascending=False
    )


def plot_evaluation(y_true: np.ndarray, proba: np.ndarray, importance: pd.Series, threshold: float):
    """One figure: ROC curve, precision-recall curve, calibration curve, feature importance."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    fpr, tpr, _ = roc_curve(y_true, proba)
    ax = axes[0, 0]
    ax.plot(fpr, tpr, label=f"ROC AUC {roc_auc_score(y_true, proba):.3f}")
    ax.plot([0, 1], [0, 1], ls="--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")

    precision, recall, _ = precision_recall_curve(y_true, proba)
    ax = axes[0, 1]
    ax.plot(recall, precision, label=f"PR AUC {average_precision_score(y_true, proba):.3f}")
    ax.axhline(np.mean(y_true), ls="--", color="grey", label="positive rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve")
    ax.legend(loc="upper right")

    observed, predicted = calibration_curve(y_true, proba, n_bins=10, strategy="quantile")
    ax = axes[1, 0]
    ax.plot(predicted, observed, marker="o", label="model")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfectly calibrated")
    ax.axvline(threshold, ls=":", color="red", label=f"threshold {threshold}")
    ax.set(xlabel="mean predicted probability", ylabel="observed positive rate", title="Calibration")
    ax.legend(loc="upper left")

    ax = axes[1, 1]
    top = importance.head(12)[::-1]
    ax.barh(top.index, top.values)
    ax.set(xlabel="drop in ROC AUC when permuted", title="Feature importance (permutation)")
    fig.tight_layout()
    return fig
