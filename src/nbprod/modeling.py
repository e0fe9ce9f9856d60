"""The model factory: preprocessing driven by the column kinds, plus a named estimator.

Categorical columns are one-hot encoded over their declared categories, numbers scaled,
0/1 flags passed as they are. A column declared nullable gets an imputer first (the most
frequent value for categories and flags, the median for numbers, with a missing-value
indicator), so blanks the declaration allows never reach the estimator.
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .errors import ConfigError
from .schema import Feature, FeatureSchema

#: estimator name (the ``estimator`` pipeline parameter) -> (class, defaults)
ESTIMATORS: dict[str, tuple[type, dict[str, Any]]] = {
    "logistic_regression": (LogisticRegression, {"max_iter": 1000}),
    "gradient_boosting": (HistGradientBoostingClassifier, {}),
}


def make_estimator(name: str, params: dict[str, Any], seed: int) -> Any:
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


def preprocessor(schema: FeatureSchema) -> ColumnTransformer:
    """One transformer per feature group (kind x nullable), in schema order."""
    groups: list[tuple[str, Any, list[str]]] = []
    for kind in ("categorical", "binary", "integer", "number"):
        for nullable in (False, True):
            feats = [f for f in schema.features if f.kind == kind and f.nullable == nullable]
            if feats:
                name = f"{kind}{'_nullable' if nullable else ''}"
                groups.append((name, _transformer(kind, nullable, feats), [f.name for f in feats]))
    return ColumnTransformer(groups, verbose_feature_names_out=False)


def _transformer(kind: str, nullable: bool, feats: list[Feature]) -> Any:
    if kind == "categorical":
        encode = OneHotEncoder(categories=[list(f.categories or []) for f in feats],
                               handle_unknown="error")
        return make_pipeline(SimpleImputer(strategy="most_frequent"), encode) if nullable else encode
    if kind == "binary":
        return SimpleImputer(strategy="most_frequent") if nullable else "passthrough"
    if nullable:
        return make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    return StandardScaler()


def build_model(
    schema: FeatureSchema, estimator: str, params: dict[str, Any], seed: int
) -> Pipeline:
    """The preprocessing of :func:`preprocessor` followed by the named estimator."""
    return Pipeline([("preprocess", preprocessor(schema)),
                     ("estimator", make_estimator(estimator, params, seed))])
