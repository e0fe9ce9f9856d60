"""The model factory: preprocessing driven by the column kinds, plus a named estimator.

Categorical columns are one-hot encoded over their declared categories, numbers scaled,
0/1 flags passed as they are, dates and timestamps as their year, month and day of the week
(:mod:`nbprod.model.dates`), scaled, free text as the TF-IDF of its words and word pairs
hashed into a fixed number of columns (:func:`text_vectorizer`: the model keeps no word). A column declared nullable gets an imputer first (the most
frequent value for categories and flags, the median for numbers, with a missing-value
indicator), so blanks the declaration allows never reach the estimator. The estimator is a
classifier or a regressor by the model kind of the schema (``FeatureSchema.model_kind``).
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..data.model_kinds import BINARY, is_classifier
from ..data.schema import Feature, FeatureSchema
from ..errors import ConfigError
from .dates import date_parts
from .trust import LIBRARIES

#: classifier name (the ``estimator`` pipeline parameter) -> (class, defaults)
ESTIMATORS: dict[str, tuple[type, dict[str, Any]]] = {
    "logistic_regression": (LogisticRegression, {"max_iter": 1000}),
    "gradient_boosting": (HistGradientBoostingClassifier, {}),
}
#: regressor name -> (class, defaults)
REGRESSORS: dict[str, tuple[type, dict[str, Any]]] = {
    "ridge": (Ridge, {}),
    "gradient_boosting": (HistGradientBoostingRegressor, {}),
}
#: the estimator a new project starts with, and its hyper-parameters, per kind
DEFAULTS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "classifier": ("logistic_regression", {"logistic_regression": {"C": 1.0},
                                           "gradient_boosting": {"learning_rate": 0.05}}),
    "regressor": ("ridge", {"ridge": {"alpha": 1.0}, "gradient_boosting": {"learning_rate": 0.05}}),
}


def estimators(kind: str = BINARY) -> dict[str, tuple[type, dict[str, Any]]]:
    """The estimators a model of ``kind`` can use: classifiers, or regressors."""
    return ESTIMATORS if is_classifier(kind) else REGRESSORS


def default_estimator(kind: str = BINARY) -> tuple[str, dict[str, dict[str, Any]]]:
    """The estimator name and the hyper-parameters per estimator a new project starts with."""
    return DEFAULTS["classifier" if is_classifier(kind) else "regressor"]


def make_estimator(name: str, params: dict[str, Any], seed: int, kind: str = BINARY) -> Any:
    """The estimator called ``name`` for a model of ``kind`` with ``params`` (unknown names
    and keys are errors).

    ``name`` is one of nbprod's named estimators, or ``module:attribute`` naming any class
    or factory with the scikit-learn API: ``xgboost:XGBClassifier``, or a function of her
    own package (``mypackage.models:forest``) called with ``params``. ``random_state`` is
    ``seed`` unless ``params`` says otherwise.
    """
    if ":" in name:
        return _from_reference(name, params, seed, kind)
    table = estimators(kind)
    if name not in table:
        what = "classifier" if is_classifier(kind) else "regressor"
        raise ConfigError(f"estimator {name!r} is unknown for a {kind} model (nbprod's {what}s); "
                          f"choose one of {sorted(table)}, or name any scikit-learn-API class "
                          "or factory as module:attribute (e.g. xgboost:XGBClassifier)")
    cls, defaults = table[name]
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


def _from_reference(name: str, params: dict[str, Any], seed: int, kind: str) -> Any:
    """The estimator a ``module:attribute`` reference builds, checked against ``kind``."""
    import importlib
    import inspect

    from sklearn.base import is_classifier as sklearn_classifier
    from sklearn.base import is_regressor

    module, _, attribute = name.partition(":")
    try:
        factory = importlib.import_module(module)
        for part in attribute.split("."):
            factory = getattr(factory, part)
    except ModuleNotFoundError as exc:
        extra = (" (pip install 'nbprod[models]' brings XGBoost, LightGBM and CatBoost)"
                 if (exc.name or "").split(".")[0] in LIBRARIES else "")
        raise ConfigError(f"estimator {name!r}: module {exc.name!r} is not installed; install "
                          f"it{extra}") from None
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"estimator {name!r}: cannot import it ({exc}); name a class or a "
                          "function as module:attribute, e.g. xgboost:XGBClassifier") from None
    if not callable(factory):
        raise ConfigError(f"estimator {name!r} is not a class or a function")
    try:
        accepted = dict(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        accepted = {}
    kwargs = dict(params)
    if "random_state" in accepted or any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        kwargs.setdefault("random_state", seed)
    try:
        estimator = factory(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"estimator {name!r} cannot be called with the hyper-parameters "
                          f"{sorted(kwargs)}: {exc}") from None
    if not callable(getattr(estimator, "fit", None)) or not callable(
            getattr(estimator, "predict", None)):
        raise ConfigError(f"estimator {name!r} gave a {type(estimator).__name__}, which has no "
                          "fit and predict (the scikit-learn API)")
    wrong = is_regressor(estimator) if is_classifier(kind) else sklearn_classifier(estimator)
    if wrong:
        raise ConfigError(f"estimator {name!r} is a {'regressor' if is_classifier(kind) else 'classifier'}, "
                          f"but the model is {kind}")
    return estimator


#: the columns the default model hashes each text column's words and word pairs into, and
#: as many for its character n-grams
TEXT_BUCKETS = 2**12
#: the same for a tree model, which takes them dense and splits on each (slower per column)
TREE_BUCKETS = 2**8

#: Where tree ensembles live: a tree splits a number at a threshold, so scaling it changes
#: nothing but the float32 rounding the compiled graph's comparisons would then disagree on.
TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


def is_tree_model(estimator: Any) -> bool:
    """Whether ``estimator`` is a tree model (its numbers need no scaling)."""
    return type(estimator).__module__.startswith(TREE_MODULES)


def preprocessor(schema: FeatureSchema, scale: bool = True) -> ColumnTransformer:
    """One transformer per feature group (kind x nullable), in schema order; numbers scaled
    unless ``scale`` is false (a tree model)."""
    groups: list[tuple[str, Any, Any]] = []
    for kind in ("categorical", "binary", "integer", "number", "datetime"):
        for nullable in (False, True):
            feats = [f for f in schema.features if f.kind == kind and f.nullable == nullable]
            if feats:
                name = f"{kind}{'_nullable' if nullable else ''}"
                groups.append((name, _transformer(kind, nullable, feats, scale),
                               [f.name for f in feats]))
    # each text column on its own: the vectoriser takes one column of strings
    groups += [(f"text_{f.name}", text_vectorizer(TEXT_BUCKETS if scale else TREE_BUCKETS),
                f.name)
               for f in schema.features if f.kind == "text"]
    # a tree model (no scaling) takes dense input only
    return ColumnTransformer(groups, verbose_feature_names_out=False,
                             sparse_threshold=0.3 if scale else 0.0)


def text_vectorizer(buckets: int = TEXT_BUCKETS) -> Pipeline:
    """TF-IDF of a text column's words and word pairs, and of its character 2- to 4-grams
    inside words (which still match a word misspelt, inflected or never seen in training),
    each kind hashed into ``buckets`` columns of its own (sublinear term frequencies, accents
    stripped). Unlike a vocabulary (``TfidfVectorizer``'s ``vocabulary_`` and
    ``stop_words_``), the fitted steps keep no word of the training texts, only one weight
    per column, so her customers' words do not reach the model store or a bento."""
    hashing = {"n_features": buckets, "alternate_sign": False, "norm": None,
               "strip_accents": "unicode"}
    return make_pipeline(
        FeatureUnion([("words", HashingVectorizer(ngram_range=(1, 2), **hashing)),
                      ("characters", HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                                                       **hashing))]),
        TfidfTransformer(sublinear_tf=True))


def _transformer(kind: str, nullable: bool, feats: list[Feature], scale: bool = True) -> Any:
    if kind == "datetime":  # year, month, day of the week: numbers, imputed and scaled
        steps: list[Any] = [FunctionTransformer(date_parts)]
        steps += [SimpleImputer(strategy="median", add_indicator=True)] if nullable else []
        return make_pipeline(*steps, *([StandardScaler()] if scale else []))
    if kind == "categorical":
        encode = OneHotEncoder(categories=[list(f.categories or []) for f in feats],
                               handle_unknown="error")
        return make_pipeline(SimpleImputer(strategy="most_frequent"), encode) if nullable else encode
    if kind == "binary":
        return SimpleImputer(strategy="most_frequent") if nullable else "passthrough"
    if nullable:
        impute = SimpleImputer(strategy="median", add_indicator=True)
        return make_pipeline(impute, StandardScaler()) if scale else impute
    return StandardScaler() if scale else "passthrough"


def build_model(
    schema: FeatureSchema, estimator: str, params: dict[str, Any], seed: int,
    preprocess: bool = True,
) -> Any:
    """The preprocessing of :func:`preprocessor` followed by the estimator ``estimator``
    names (:func:`make_estimator`: a classifier or a regressor, by ``schema.model_kind``).

    With ``preprocess`` false, the estimator alone: it takes the feature columns as they
    are (:func:`nbprod.data.frames.model_frame`'s dtypes), for a pipeline of her own.
    """
    model = make_estimator(estimator, params, seed, schema.model_kind)
    if not preprocess:
        return model
    return Pipeline([("preprocess", preprocessor(schema, scale=not is_tree_model(model))),
                     ("estimator", model)])
