"""The model factory: a scikit-learn Pipeline built from the feature schema."""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from nbprod.errors import ConfigError
from nbprod.schema import FeatureSchema

#: estimator name (the ``estimator`` pipeline parameter) -> (class, defaults)
ESTIMATORS: dict[str, tuple[type, dict[str, Any]]] = {
    "logistic_regression": (LogisticRegression, {"max_iter": 1000}),
    "gradient_boosting": (HistGradientBoostingClassifier, {}),
}


def make_estimator(name: str, params: dict[str, Any], seed: int):
    """The estimator called ``name`` with ``params`` (unknown names and keys are errors)."""
    if name not in ESTIMATORS:
        raise ConfigError(f"estimator {name!r} is unknown; choose one of {sorted(ESTIMATORS)}")
    cls, defaults = ESTIMATORS[name]
    allowed = set(cls().get_params())
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ConfigError(
            f"estimator {name!r} has no hyper-parameter(s) {unknown}; "
            f"valid ones: {sorted(allowed)}"
        )
    kwargs = {**defaults, **params}
    if "random_state" in allowed:
        kwargs.setdefault("random_state", seed)
    return cls(**kwargs)


def build_model(
    schema: FeatureSchema, estimator: str, params: dict[str, Any], seed: int
) -> Pipeline:
    """ColumnTransformer (one-hot categoricals, scaled numbers, 0/1 as is) + estimator."""
    categorical = schema.by_kind("categorical")
    numeric = schema.by_kind("integer", "number")
    binary = schema.by_kind("binary")
    categories = [next(f.categories for f in schema.features if f.name == c) for c in categorical]
    pre = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(categories=categories, handle_unknown="error"), categorical),
            ("numeric", StandardScaler(), numeric),
            ("binary", "passthrough", binary),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("preprocess", pre), ("estimator", make_estimator(estimator, params, seed))])
