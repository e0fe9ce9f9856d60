"""Live performance of a served model: the true labels sent to ``POST /feedback`` and the
scores of the labelled predictions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model


def accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Share of predicted labels (0/1) equal to the true ones; NaN when there are none."""
    return float(np.mean(truth == predicted)) if len(truth) else float("nan")


def roc_auc(truth: np.ndarray, probability: np.ndarray) -> float:
    """ROC AUC of the probabilities; NaN until both classes have been labelled."""
    if len(np.unique(truth)) < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, probability))


def calibration_gap(truth: np.ndarray, probability: np.ndarray) -> float:
    """Mean predicted probability minus the observed positive rate (> 0: over-predicts)."""
    return float(np.mean(probability) - np.mean(truth)) if len(truth) else float("nan")


def live_scores(labelled: Sequence[tuple[float, int, int]]) -> dict[str, float]:
    """Accuracy, ROC AUC and calibration gap of ``(probability, predicted, truth)`` rows."""
    if not labelled:
        nan = float("nan")
        return {"accuracy": nan, "roc_auc": nan, "calibration_gap": nan, "labelled": 0}
    proba, predicted, truth = (np.asarray(c) for c in zip(*labelled, strict=True))
    return {
        "accuracy": accuracy(truth, predicted),
        "roc_auc": roc_auc(truth, proba),
        "calibration_gap": calibration_gap(truth, proba),
        "labelled": len(truth),
    }


def label_model(target: str) -> type[BaseModel]:
    """One item of ``POST /feedback``'s ``labels``: ``{"request_id": ..., target: 0 or 1}``.

    Labels must be JSON integers (``"1"`` or ``true`` are refused with the field's path); a
    value other than 0 or 1 is refused by :meth:`Monitor.feedback`, naming its request id.
    """
    return create_model(  # type: ignore[call-overload]
        f"{target.title()}Label", __config__=ConfigDict(extra="forbid"),
        request_id=(str, Field(min_length=1, description="request_id of an earlier prediction")),
        **{target: (StrictInt, Field(description="the true label: 1 positive, 0 negative"))},
    )
