"""Live performance of a served model: the true labels sent to ``POST /feedback`` and the
scores of the labelled predictions, per model kind (:data:`SCORES`):

- binary: accuracy, ROC AUC and calibration gap;
- multiclass: accuracy and macro-F1 (the mean of the per-class F1 over the classes seen in
  the labels or the predictions);
- regression: RMSE and MAE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model

from ..data.model_kinds import BINARY, MULTICLASS
from ..data.schema import FeatureSchema
from ..errors import FeedbackError

#: The live scores of each model kind, as :func:`live_scores` returns them.
SCORES = {
    BINARY: ("accuracy", "roc_auc", "calibration_gap"),
    MULTICLASS: ("accuracy", "macro_f1"),
    "regression": ("rmse", "mae"),
}


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


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 over the classes seen in ``truth`` or ``predicted``; NaN when there are none."""
    if not len(truth):
        return float("nan")
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error; NaN when there are no rows."""
    return float(np.sqrt(np.mean((predicted - truth) ** 2))) if len(truth) else float("nan")


def mae(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error; NaN when there are no rows."""
    return float(np.mean(np.abs(predicted - truth))) if len(truth) else float("nan")


def kind_scores(kind: str, labelled: Sequence[tuple[Any, Any, Any]]) -> dict[str, float]:
    """The live scores of ``kind`` over ``(score, predicted, truth)`` rows, plus ``labelled``.

    ``score`` is the positive-class probability (binary; unused otherwise), ``predicted``
    and ``truth`` the classes (0/1 for binary) or the values (regression).
    """
    if kind == BINARY:
        return live_scores(labelled)
    if not labelled:
        return {**dict.fromkeys(SCORES[kind], float("nan")), "labelled": 0}
    _, predicted, truth = zip(*labelled, strict=True)
    if kind == MULTICLASS:
        p, t = np.asarray(predicted, dtype=object), np.asarray(truth, dtype=object)
        return {"accuracy": accuracy(t, p), "macro_f1": macro_f1(t.astype(str), p.astype(str)),
                "labelled": len(t)}
    p, t = np.asarray(predicted, dtype="float64"), np.asarray(truth, dtype="float64")
    return {"rmse": rmse(t, p), "mae": mae(t, p), "labelled": len(t)}


def check_labels(kind: str, classes: Sequence[str], labels: Sequence[tuple[str, Any]]) -> None:
    """Refuse labels that are not of ``kind``, naming their request ids (:class:`FeedbackError`).

    binary: 0 or 1; multiclass: one of ``classes``; regression: a finite number.
    """
    if kind == BINARY:
        bad = [f"{rid!r}: {truth!r}" for rid, truth in labels
               if truth not in (0, 1) or isinstance(truth, bool)]
        what = "0 or 1"
    elif kind == MULTICLASS:
        bad = [f"{rid!r}: {truth!r}" for rid, truth in labels if truth not in classes]
        what = f"one of the classes {list(classes)}"
    else:
        bad = [f"{rid!r}: {truth!r}" for rid, truth in labels
               if isinstance(truth, bool) or not isinstance(truth, int | float)
               or not math.isfinite(truth)]
        what = "a finite number"
    if bad:
        raise FeedbackError(f"labels must be {what}, got {', '.join(bad)}")


def feedback_label_model(schema: FeatureSchema) -> type[BaseModel]:
    """One item of ``POST /feedback``'s ``labels`` for a model of ``schema``'s kind:
    ``{"request_id": ..., target: label}``, the label a JSON integer 0 or 1 (binary), one of
    the class names (multiclass) or a finite JSON number (regression). A label of the wrong
    type is a 400 naming its place in the list."""
    if schema.model_kind == BINARY:
        return label_model(schema.target)
    if schema.model_kind == MULTICLASS:
        kind: Any = Literal[tuple(schema.classes)]
        info = Field(description=f"the true class: one of {schema.classes}")
    else:
        kind = float
        info = Field(description=f"the true {schema.target}: a finite number", strict=True,
                     allow_inf_nan=False)
    return create_model(  # type: ignore[call-overload]
        f"{schema.target.title()}Label", __config__=ConfigDict(extra="forbid",
                                                               allow_inf_nan=False),
        request_id=(str, Field(min_length=1, description="request_id of an earlier prediction")),
        **{schema.target: (kind, info)},
    )


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
