"""The evaluation figure of each model kind, one matplotlib figure of four panels.

- binary: ROC curve, precision-recall curve, calibration, feature importance;
- multiclass: the confusion matrix (rows normalised), one-vs-rest ROC and precision-recall
  curves per class, feature importance;
- regression: predicted against actual, residuals against predicted, the residuals'
  histogram, feature importance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from ..data.model_kinds import BINARY, MULTICLASS

#: the axis label of the importance panel, by the score permutation importance drops
_DROP = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "r2": "R²"}


def plot_for_kind(kind: str, predictions: pd.DataFrame, target: str, classes: list[str],
                  importance: pd.Series, threshold: float = 0.5):
    """The figure of a model of ``kind`` (the panels listed above), from its predictions frame
    (:func:`nbprod.model.predictions.predictions_frame`, with the ``target`` column)."""
    y = predictions[target].to_numpy()
    if kind == BINARY:
        return plot_evaluation(y, predictions["probability"].to_numpy(), importance, threshold)
    if kind == MULTICLASS:
        proba = predictions[[f"probability:{c}" for c in classes]].to_numpy()
        return plot_multiclass(y, proba, classes, importance)
    return plot_regression(y, predictions["prediction"].to_numpy(), importance)


def _importance(ax, importance: pd.Series, score: str) -> None:
    top = importance.head(12)[::-1]
    ax.barh(top.index, top.values)
    ax.set(xlabel=f"drop in {score} when permuted", title="Feature importance (permutation)")


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

    _importance(axes[1, 1], importance, _DROP["roc_auc"])
    fig.tight_layout()
    return fig


def plot_multiclass(actual: np.ndarray, proba: np.ndarray, classes: list[str],
                    importance: pd.Series):
    """Confusion matrix, one-vs-rest ROC and PR curves per class, feature importance.
    ``actual`` holds the class names."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    actual = np.asarray(actual).astype(str)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    counts = confusion_matrix(actual, predicted, labels=classes)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    ax = axes[0, 0]
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes,
           yticklabels=classes, xlabel="predicted", ylabel="actual",
           title="Confusion matrix (share of each actual class)")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                    color="white" if shares[i, j] > 0.5 else "black")
    for i, name in enumerate(classes):
        is_class = actual == name
        if is_class.all() or not is_class.any():
            continue
        fpr, tpr, _ = roc_curve(is_class, proba[:, i])
        axes[0, 1].plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(is_class, proba[:, i]):.3f})")
        precision, recall, _ = precision_recall_curve(is_class, proba[:, i])
        axes[1, 0].plot(recall, precision,
                        label=f"{name} (AP {average_precision_score(is_class, proba[:, i]):.3f})")
    axes[0, 1].plot([0, 1], [0, 1], ls="--", color="grey")
    axes[0, 1].set(xlabel="false positive rate", ylabel="true positive rate",
                   title="ROC curve per class (one vs rest)")
    axes[0, 1].legend(loc="lower right")
    axes[1, 0].set(xlabel="recall", ylabel="precision",
                   title="Precision-recall per class (one vs rest)")
    axes[1, 0].legend(loc="lower left")
    _importance(axes[1, 1], importance, _DROP["accuracy"])
    fig.tight_layout()
    return fig


def plot_regression(actual: np.ndarray, predicted: np.ndarray, importance: pd.Series):
    """Predicted against actual, residuals against predicted, residual histogram, importance."""
    import matplotlib.pyplot as plt

    actual = np.asarray(actual, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    residual = actual - predicted
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    ax = axes[0, 0]
    ax.scatter(actual, predicted, s=8, alpha=0.5)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    ax.plot([low, high], [low, high], ls="--", color="grey", label="predicted = actual")
    ax.set(xlabel="actual", ylabel="predicted", title="Predicted against actual")
    ax.legend(loc="upper left")
    ax = axes[0, 1]
    ax.scatter(predicted, residual, s=8, alpha=0.5)
    ax.axhline(0.0, ls="--", color="grey")
    ax.set(xlabel="predicted", ylabel="residual (actual - predicted)", title="Residuals")
    ax = axes[1, 0]
    ax.hist(residual, bins=30)
    ax.axvline(0.0, ls="--", color="grey")
    ax.set(xlabel="residual", ylabel="rows",
           title=f"Residual spread (std {residual.std(ddof=0):.3g})")
    _importance(axes[1, 1], importance, _DROP["r2"])
    fig.tight_layout()
    return fig
