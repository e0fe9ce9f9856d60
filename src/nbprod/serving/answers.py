"""The service's answer for one row, per model kind: its pydantic type and its values.

- binary: the probability of the positive class, the label at the model's threshold and
  the threshold (:class:`Prediction`);
- multiclass: the predicted class (``label``) and the probability of each class, named by
  class, in the order of the schema's ``classes``;
- regression: the predicted value (``prediction``) and, when the model gives one, a
  prediction interval (``interval``): models whose ``predict`` takes ``return_std``
  (``GaussianProcessRegressor``, ``BayesianRidge``, ``ARDRegression``) get the central
  interval of level :data:`INTERVAL_LEVEL` of a normal with that mean and deviation;
  other models answer ``"interval": null``.

:func:`answer_model` builds the type from the stored schema, so the OpenAPI page
documents the answer of the model served; :func:`answers` fills it from the model's output.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from ..data.model_kinds import BINARY, MULTICLASS
from ..data.schema import FeatureSchema
from ..errors import ConfigError

#: The level of a regression model's prediction interval.
INTERVAL_LEVEL = 0.9

_VERSION = Field(description="tag of the model that answered (name:version)")
_REQUEST_ID = Field(default=None,
                    description="id of this prediction, to send its true label to /feedback")


class Prediction(BaseModel):
    """The model's answer for one row (binary classifier)."""

    probability: float = Field(description="probability of the positive class")
    label: str = Field(description="the predicted class at the model's threshold")
    threshold: float = Field(description="probability at or above which the label is positive")
    model_version: str = _VERSION
    request_id: str | None = _REQUEST_ID


class Interval(BaseModel):
    """A central prediction interval of the predicted value."""

    lower: float
    upper: float
    level: float = Field(description="the share of outcomes expected inside the interval")


def answer_model(schema: FeatureSchema) -> type[BaseModel]:
    """The pydantic type of the service's answer for a model of ``schema``'s kind.

    One type per kind, classes and target in a process: the service declares it and the
    predictor fills it, and BentoML checks each answer is an instance of the declared type.
    """
    return _answer_model(schema.model_kind, tuple(schema.classes), schema.target)


@cache
def _answer_model(kind: str, classes: tuple[str, ...], target: str) -> type[BaseModel]:
    if kind == BINARY:
        return Prediction
    if kind == MULTICLASS:
        probabilities = create_model(  # type: ignore[call-overload]
            "ClassProbabilities", __config__=ConfigDict(extra="forbid"),
            **{c: (float, Field(description=f"probability of class {c!r}"))
               for c in classes},
        )
        return create_model(
            "Prediction", __doc__="The model's answer for one row (multiclass classifier).",
            label=(Literal[classes],  # type: ignore[arg-type]
                   Field(description="the most probable class")),
            probabilities=(probabilities, Field(description="probability of each class")),
            model_version=(str, _VERSION), request_id=(str | None, _REQUEST_ID),
        )
    return create_model(
        "Prediction", __doc__="The model's answer for one row (regression).",
        prediction=(float, Field(description=f"the predicted {target}")),
        interval=(Interval | None, Field(
            default=None, description=f"central {INTERVAL_LEVEL:.0%} prediction interval, "
                                      "null when the model gives none")),
        model_version=(str, _VERSION), request_id=(str | None, _REQUEST_ID),
    )


def gives_interval(model: Any) -> bool:
    """Whether ``model`` (or a pipeline's last step) predicts with ``return_std``."""
    final = getattr(model, "_final_estimator", model)
    try:
        return "return_std" in inspect.signature(final.predict).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def class_columns(model: Any, classes: list[str]) -> np.ndarray:
    """Where each of ``classes`` sits in ``model.predict_proba``'s columns.

    A model fitted on the class names has them in ``classes_``; one fitted by the pipeline
    on the class indices (0 .. k-1, in the order of ``classes``: ``nbprod.data.dataset``) has the
    indices there. A class the model does not know is a :class:`ConfigError` naming both.
    """
    fitted = [str(c) for c in getattr(model, "classes_", classes)]
    if fitted == [str(i) for i in range(len(classes))] and fitted != list(classes):
        return np.arange(len(classes))
    order = {c: i for i, c in enumerate(fitted)}
    missing = [c for c in classes if c not in order]
    if missing:
        raise ConfigError(f"the model's classes {fitted} do not include {missing} of the "
                          f"feature schema's classes {classes}")
    return np.asarray([order[c] for c in classes])


def multiclass_answers(answer: type[BaseModel], classes: list[str], proba: np.ndarray,
                       version: str) -> list[BaseModel]:
    """One answer per row of ``proba`` (columns in the order of ``classes``)."""
    probabilities = answer.model_fields["probabilities"].annotation
    best = proba.argmax(axis=1)
    return [answer.model_construct(
        label=classes[k], model_version=version,
        probabilities=probabilities.model_construct(  # type: ignore[union-attr]
            **dict(zip(classes, row, strict=True))))
        for k, row in zip(best.tolist(), proba.tolist(), strict=True)]


def regression_answers(answer: type[BaseModel], values: np.ndarray, std: np.ndarray | None,
                       version: str) -> list[BaseModel]:
    """One answer per predicted value, with its interval when ``std`` is given."""
    if std is None:
        return [answer.model_construct(prediction=v, interval=None, model_version=version)
                for v in values.tolist()]
    from scipy.stats import norm

    half = norm.ppf(0.5 + INTERVAL_LEVEL / 2) * std
    return [answer.model_construct(
        prediction=v, model_version=version,
        interval=Interval.model_construct(lower=v - h, upper=v + h, level=INTERVAL_LEVEL))
        for v, h in zip(values.tolist(), half.tolist(), strict=True)]


def outcome(kind: str, answer: BaseModel) -> Any:
    """What a prediction's drift and live scores follow: the probability (binary), the
    class (multiclass) or the value (regression)."""
    if kind == BINARY:
        return answer.probability  # type: ignore[attr-defined]
    if kind == MULTICLASS:
        return answer.label  # type: ignore[attr-defined]
    return answer.prediction  # type: ignore[attr-defined]
