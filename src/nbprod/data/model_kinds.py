"""What a model predicts: one of two classes, one of several, or a number.

The kind is part of a model's feature schema (``FeatureSchema.model_kind``) and so of its
stored metadata. Every part that depends on it (metrics, gate, service answer, live
performance, drift of the predictions, plots, batch scoring) reads it from there.

The evaluate step's predictions frame (``test_predictions.parquet``) has the columns
``row`` and the target, then, by kind (:func:`prediction_columns`):

- binary: ``probability`` (of the positive class, the last of ``classes``);
- multiclass: ``label`` (the predicted class) and ``probability:<class>`` per class, in the
  order of ``classes``;
- regression: ``prediction``.
"""

from __future__ import annotations

from ..errors import ConfigError

BINARY = "binary"
MULTICLASS = "multiclass"
REGRESSION = "regression"
MODEL_KINDS = (BINARY, MULTICLASS, REGRESSION)


def check_model_kind(kind: str, where: str = "model kind") -> str:
    """``kind`` if it is one of :data:`MODEL_KINDS`, else a :class:`ConfigError` naming it."""
    if kind not in MODEL_KINDS:
        raise ConfigError(f"{where}: {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    return kind


def is_classifier(kind: str) -> bool:
    return check_model_kind(kind) != REGRESSION


def prediction_columns(kind: str, classes: list[str] | None = None) -> list[str]:
    """The prediction columns of the evaluate step's frame for a model of ``kind``."""
    if check_model_kind(kind) == BINARY:
        return ["probability"]
    if kind == MULTICLASS:
        if not classes:
            raise ConfigError("a multiclass model needs its classes")
        return ["label", *(f"probability:{c}" for c in classes)]
    return ["prediction"]
