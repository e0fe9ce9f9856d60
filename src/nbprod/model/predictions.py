"""A model's predictions as the columns of its kind (:func:`nbprod.data.model_kinds.prediction_columns`).

The evaluate step's predictions frame and batch scoring both build their columns here, so
the held-out predictions and the scored files agree:

- binary: ``probability`` (of the positive class);
- multiclass: ``label`` (the class with the highest probability, the first on a tie) and
  ``probability:<class>`` per class, in the order of ``classes``;
- regression: ``prediction``.

A classifier's label is its class index (:func:`nbprod.data.dataset.target`), so the columns of
``predict_proba`` follow ``classes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.model_kinds import BINARY, MULTICLASS, check_model_kind, prediction_columns
from ..errors import ConfigError


def predict(model: Any, X: pd.DataFrame, kind: str, classes: list[str] | None = None) -> pd.DataFrame:
    """The prediction columns of ``kind`` for the rows of ``X`` (index kept)."""
    check_model_kind(kind)
    if kind == BINARY:
        return pd.DataFrame({"probability": model.predict_proba(X)[:, 1]}, index=X.index)
    if kind == MULTICLASS:
        proba = model.predict_proba(X)
        if not classes or proba.shape[1] != len(classes):
            raise ConfigError(f"the model gives {proba.shape[1]} class probabilities for the "
                              f"{len(classes or [])} classes {classes}")
        names = prediction_columns(kind, classes)
        frame = pd.DataFrame(proba.astype("float64"), index=X.index, columns=names[1:])
        frame.insert(0, "label", np.asarray(classes, dtype=object)[proba.argmax(axis=1)])
        return frame
    return pd.DataFrame({"prediction": np.asarray(model.predict(X), dtype="float64")}, index=X.index)


def predictions_frame(
    model: Any, X: pd.DataFrame, y: pd.Series, kind: str, classes: list[str] | None = None
) -> pd.DataFrame:
    """The evaluate step's frame: ``row``, the target, then the prediction columns.

    The target is the label as the model learned it (0/1 for binary, the value for a
    regression) except for a multiclass model, whose target column holds the class name.
    """
    actual = y.to_numpy()
    if kind == MULTICLASS:
        actual = np.asarray(classes, dtype=object)[actual.astype(int)]
    head = pd.DataFrame({"row": X.index, str(y.name): actual})
    body = predict(model, X, kind, classes).reset_index(drop=True)
    return pd.concat([head, body], axis=1)
