"""A model of the project's own: her transformer class and function on the raw columns.

``env.yaml`` names it with ``estimator: churn.models:own_forest`` and ``preprocess: false``:
the pipeline takes the feature columns as they are (text as strings, numbers as numbers),
whether trained or served. nbprod trusts this package's classes and functions because
``trust.yaml`` lists it under ``packages:``, and packs it into the bento as a wheel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder


def charge_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``charge_ratio``: what a customer paid in all, over ``tenure`` months
    of the monthly charge (a new customer's blank total counts as one month)."""
    out = frame.copy()
    total = out["total_charges"].fillna(out["monthly_charges"])
    months = out["tenure"].clip(lower=1) * out["monthly_charges"].clip(lower=0.01)
    out["charge_ratio"] = (total / months).astype("float64")
    return out


class TenureBands(BaseEstimator, TransformerMixin):
    """Adds ``tenure_band``, the quantile band of ``tenure`` learnt at fit, as text."""

    def __init__(self, bands: int = 4) -> None:
        self.bands = bands

    def fit(self, frame: pd.DataFrame, y: object = None) -> TenureBands:
        quantiles = np.linspace(0, 1, self.bands + 1)[1:-1]
        self.edges_ = sorted(set(np.quantile(frame["tenure"], quantiles).tolist()))
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        band = np.searchsorted(self.edges_, out["tenure"].to_numpy(), side="right")
        out["tenure_band"] = [f"band {b}" for b in band]
        return out


def own_forest(n_estimators: int = 100, random_state: int = 0) -> object:
    """Her pipeline: the ratio, the bands, one-hot text, imputed numbers, a random forest."""
    encode = ColumnTransformer([
        ("text", OneHotEncoder(handle_unknown="ignore"),
         make_column_selector(dtype_include=["object", "string"])),
        ("numbers", SimpleImputer(strategy="median"),
         make_column_selector(dtype_include="number")),
    ])
    return make_pipeline(FunctionTransformer(charge_ratio), TenureBands(), encode,
                         RandomForestClassifier(n_estimators=n_estimators,
                                                random_state=random_state))


def searched_forest(random_state: int = 0) -> object:
    """A search over the forest's depth (3-fold, ROC AUC); its best estimator is served."""
    from sklearn.model_selection import GridSearchCV

    return GridSearchCV(RandomForestClassifier(n_estimators=50, random_state=random_state),
                        {"max_depth": [4, 8]}, cv=3, scoring="roc_auc")
