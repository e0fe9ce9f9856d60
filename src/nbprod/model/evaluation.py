"""Model evaluation: metrics on held-out data, per model kind.

- binary (:func:`compute_metrics`): ROC AUC, PR AUC, F1, log loss, Brier score, calibration
  error and the confusion matrix at a threshold;
- multiclass (:func:`multiclass_metrics`): accuracy, macro-F1, log loss, the recall of each
  class (and the lowest) and the confusion matrix;
- regression (:func:`regression_metrics`): RMSE, MAE, R² and the spread of the residuals
  (their mean, standard deviation and quantiles);
- the same metrics of the constant model on the same rows (:func:`baseline_metrics`: the
  prior, the majority class, the mean), under ``baseline``: what the gate compares with.

:func:`evaluate` runs the one of the model's kind on the test rows (:func:`score`) and keeps the
predictions frame (:mod:`nbprod.model.predictions`); its plots are in
:mod:`nbprod.model.evaluation_plots`. Which way each metric is better: :mod:`nbprod.model.metrics`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split

from ..data.model_kinds import BINARY, MULTICLASS, REGRESSION, check_model_kind
from .predictions import predictions_frame

#: the score permutation importance measures the drop of, per kind
IMPORTANCE_SCORING = {BINARY: "roc_auc", MULTICLASS: "accuracy", REGRESSION: "r2"}
#: the residual quantiles regression_metrics reports
RESIDUAL_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

if TYPE_CHECKING:
    from ..data.columns import ColumnTable

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


def multiclass_metrics(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, log loss, per-class recall and the confusion matrix of a
    multiclass model; ``y_true`` holds class indices, ``proba`` one column per class."""
    y_true = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype="float64")
    labels = list(range(len(classes)))
    pred = proba.argmax(axis=1)
    recall = recall_score(y_true, pred, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, pred)),
        "macro_f1": float(f1_score(y_true, pred, labels=labels, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y_true, proba, labels=labels)),
        "min_recall": float(recall.min()),
        "recall": {c: float(r) for c, r in zip(classes, recall, strict=True)},
        "confusion_matrix": {"classes": list(classes),
                             "counts": confusion_matrix(y_true, pred, labels=labels).tolist()},
        "class_shares": {c: float(np.mean(y_true == i)) for i, c in enumerate(classes)},
        "n": int(len(y_true)),
    }


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """RMSE, MAE, R² and the residuals' spread (``actual - predicted``) of a regression."""
    y_true = np.asarray(y_true, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    residual = y_true - predicted
    return {
        "rmse": float(root_mean_squared_error(y_true, predicted)),
        "mae": float(mean_absolute_error(y_true, predicted)),
        "r2": float(r2_score(y_true, predicted)),
        "residual_std": float(residual.std(ddof=0)),
        "residual_mean": float(residual.mean()),
        "residual_quantiles": {f"q{round(q * 100):02d}": float(np.quantile(residual, q))
                               for q in RESIDUAL_QUANTILES},
        "target_mean": float(y_true.mean()),
        "target_std": float(y_true.std(ddof=0)),
        "n": int(len(y_true)),
    }


def feature_importance(
    model, X: pd.DataFrame, y: pd.Series, seed: int, repeats: int = 5, max_rows: int = 20_000,
    kind: str = BINARY,
) -> pd.Series:
    """Permutation importance of each input column, largest first: the drop in ROC AUC
    (binary), accuracy (multiclass) or R² (regression, :data:`IMPORTANCE_SCORING`).

    It scores the model ``repeats`` times per column, so on a large test set it runs on
    a seeded sample of ``max_rows`` rows (kept stratified by the label of a classifier):
    the estimate is as good, and its cost stops growing with the data.
    """
    check_model_kind(kind)
    if len(X) > max_rows:
        stratify = None if kind == REGRESSION else y
        sample, _ = train_test_split(X.index, train_size=max_rows, random_state=seed,
                                     stratify=stratify)
        X, y = X.loc[sample], y.loc[sample]
        log.info("permutation importance on a sample of %d of the test rows", max_rows)
    result = permutation_importance(
        model, X, y, scoring=_importance_score(kind), n_repeats=repeats, random_state=seed,
        n_jobs=1,
    )
    return pd.Series(result.importances_mean, index=X.columns, name="importance").sort_values(
        ascending=False
    )




def _importance_score(kind: str) -> Any:
    """The score of :data:`IMPORTANCE_SCORING` from the model's own predictions, so any model
    with ``predict_proba``/``predict`` is scored alike (an ONNX graph too)."""
    def score(model: Any, X: pd.DataFrame, y: pd.Series) -> float:
        if kind == BINARY:
            return float(roc_auc_score(y, model.predict_proba(X)[:, 1]))
        if kind == MULTICLASS:
            return float(accuracy_score(y, np.argmax(model.predict_proba(X), axis=1)))
        return float(r2_score(y, model.predict(X)))
    return score


def training_score(model, X: pd.DataFrame, y: pd.Series, kind: str) -> str:
    """One line: the model's headline score on the rows it was fitted on (optimistic)."""
    if check_model_kind(kind) == BINARY:
        value, name = roc_auc_score(y, model.predict_proba(X)[:, 1]), "ROC AUC"
    elif kind == MULTICLASS:
        value, name = accuracy_score(y, model.predict(X)), "accuracy"
    else:
        value, name = root_mean_squared_error(y, model.predict(X)), "RMSE"
    return f"{name} on the training rows (optimistic): {value:.4f}"


@dataclass(frozen=True)
class Evaluation:
    """A model's held-out metrics and its predictions frame (``row``, target, predictions)."""

    kind: str
    metrics: dict[str, Any]
    predictions: pd.DataFrame
    classes: list[str]
    target: str

    def scores(self) -> pd.DataFrame:
        """The scalar metrics as a one-column table."""
        scalars = {k: v for k, v in self.metrics.items() if not isinstance(v, dict)}
        return pd.Series(scalars).round(4).to_frame("value")

    def detail(self) -> pd.DataFrame:
        """The confusion matrix of a classifier, labelled; a regression's residual quantiles."""
        if self.kind == REGRESSION:
            return pd.Series(self.metrics["residual_quantiles"]).round(4).to_frame("residual")
        cm = self.metrics["confusion_matrix"]
        if self.kind == MULTICLASS:
            return pd.DataFrame(cm["counts"], index=[f"actual: {c}" for c in cm["classes"]],
                                columns=[f"predicted: {c}" for c in cm["classes"]])
        negative, positive = self.classes
        threshold = self.metrics["threshold"]
        return pd.DataFrame(
            [[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]],
            index=[f"actual: {negative}", f"actual: {positive}"],
            columns=[f"predicted: {negative} (p < {threshold})",
                     f"predicted: {positive} (p >= {threshold})"],
        )

    def write(self, metrics: str | Path, predictions: str | Path) -> None:
        """The metrics as JSON and the predictions frame as Parquet."""
        Path(metrics).write_text(json.dumps(self.metrics, indent=2) + "\n")
        self.predictions.to_parquet(predictions, index=False)

    def plot(self, importance: pd.Series):
        """The evaluation figure of the model's kind (:mod:`nbprod.model.evaluation_plots`)."""
        from .evaluation_plots import plot_for_kind

        return plot_for_kind(self.kind, self.predictions, self.target, self.classes, importance,
                             self.metrics.get("threshold", 0.5))


def baseline_metrics(kind: str, y_true: np.ndarray, classes: list[str],
                     threshold: float = 0.5) -> dict[str, float]:
    """The scalar metrics of the constant model on the same rows: the prior of each class
    for a classifier (so the majority class when it must pick one), the mean for a
    regression. What a model must beat to be worth serving (the gate's baseline)."""
    y_true = np.asarray(y_true)
    n = len(y_true)
    if kind == BINARY:
        full = compute_metrics(y_true, np.full(n, float(np.mean(y_true))), threshold)
    elif kind == MULTICLASS:
        shares = np.bincount(y_true.astype(int), minlength=len(classes)) / n
        full = multiclass_metrics(y_true, np.tile(shares, (n, 1)), classes)
    else:
        full = regression_metrics(y_true, np.full(n, float(np.mean(y_true))))
    return {k: v for k, v in full.items()
            if isinstance(v, float) and k not in ("threshold", "positive_rate", "target_mean",
                                                  "target_std")}


def evaluate(model, test: pd.DataFrame, table: ColumnTable, threshold: float = 0.5) -> Evaluation:
    """The held-out metrics of ``model`` on ``test`` and its predictions frame, by the kind
    of ``table`` (``threshold`` applies to a binary model)."""
    from ..data.dataset import features, target

    X, y = features(test, table), target(test, table)
    frame = predictions_frame(model, X, y, table.kind, table.classes)
    metrics = score(table.kind, y.to_numpy(), frame, table.classes, threshold)
    return Evaluation(table.kind, metrics, frame, table.classes, table.target)


def score(kind: str, y_true: np.ndarray, predicted: pd.DataFrame, classes: list[str],
          threshold: float = 0.5) -> dict[str, Any]:
    """The metrics of ``kind`` (and the baseline's) of the prediction columns ``predicted``
    (:func:`nbprod.model.predictions.predict`) against the labels ``y_true``."""
    if kind == BINARY:
        metrics = compute_metrics(y_true, predicted["probability"].to_numpy(), threshold)
    elif kind == MULTICLASS:
        proba = predicted[[f"probability:{c}" for c in classes]].to_numpy()
        metrics = multiclass_metrics(y_true, proba, classes)
    else:
        metrics = regression_metrics(y_true, predicted["prediction"].to_numpy())
    metrics["baseline"] = baseline_metrics(kind, y_true, classes, threshold)
    return metrics
