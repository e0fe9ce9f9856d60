"""A notebook's own model served on raw records: her feature function, the training columns,
her model, as one scikit-learn ``Pipeline``, and the check that it answers as her notebook did.

``nbprod new --notebook`` writes her feature code as ``features(df)`` in her package; the
served model is::

    Pipeline([("raw", RawColumns(headers)),            # API names -> her raw headers
              ("features", FunctionTransformer(features)),
              ("align", ColumnAligner()),               # her training columns, dummies filled
              ("model", her_model)])

When her feature code uses statistics of her whole frame (``df['c'].median()``), her package
also has ``statistics(df)`` and ``features(df, stats)``: the ``features`` step is then
:class:`FittedFeatures`, which runs ``statistics`` once on the file she read and keeps the
values (plain numbers, text, or a mapping for a statistic per column) for every record.

:func:`parity` compares that pipeline's answers on her held-out raw rows with her model's own
predictions on her ``X_test``; the first differing row and column is the error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ..errors import ParityError

__all__ = ["ColumnAligner", "FittedFeatures", "RawColumns", "answers", "parity",
           "served_pipeline"]

#: relative tolerance of the parity check
RTOL = 1e-6


class RawColumns(TransformerMixin, BaseEstimator):
    """Records named as the API names them -> her raw frame: her headers, in her file's order,
    a raw column the record does not carry added as blank (her code may drop it)."""

    def __init__(self, headers: Mapping[str, str] | None = None,
                 raw_order: Sequence[str] = ()) -> None:
        self.headers = headers
        self.raw_order = raw_order

    def fit(self, X: Any, y: Any = None) -> RawColumns:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(X).rename(columns=dict(self.headers or {}))
        missing = [c for c in self.raw_order if c not in frame.columns]
        if missing:
            frame = frame.assign(**{c: np.nan for c in missing})
        order = [c for c in self.raw_order if c in frame.columns]
        return frame[order + [c for c in frame.columns if c not in order]]


def _kept(key: str, value: Any) -> Any:
    """A statistic as the model keeps it: a plain value, or a Series as its index and values."""
    if isinstance(value, pd.Series):
        return {"index": [_kept(key, i) for i in value.index],
                "values": [_kept(key, v) for v in value.to_numpy()]}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"statistic {key!r} is a {type(value).__name__}, not a number, a text or a "
                    "Series of them; compute it in a fitted transformer of her model instead")


def _used(value: Any) -> Any:
    if isinstance(value, dict):
        return pd.Series(value["values"], index=value["index"])
    return value


class FittedFeatures(TransformerMixin, BaseEstimator):
    """Her ``features(df, stats)`` with ``stats`` fitted once: ``statistics(df)`` on the
    frame she read, as her notebook computes them, kept as ``statistics_``."""

    def __init__(self, features: Callable[..., pd.DataFrame] | None = None,
                 statistics: Callable[[pd.DataFrame], dict[str, Any]] | None = None) -> None:
        self.features = features
        self.statistics = statistics

    def fit(self, X: pd.DataFrame, y: Any = None) -> FittedFeatures:
        if self.statistics is None:
            raise ValueError("FittedFeatures needs her statistics function")
        self.statistics_ = {key: _kept(key, value)
                            for key, value in self.statistics(pd.DataFrame(X)).items()}
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if self.features is None:
            raise ValueError("FittedFeatures needs her features function")
        return self.features(X, {key: _used(v) for key, v in self.statistics_.items()})


class ColumnAligner(TransformerMixin, BaseEstimator):
    """Her features -> exactly the columns her model was fitted on, in that order: a dummy a
    record does not produce is 0, a column the model never saw is dropped."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> ColumnAligner:
        self.columns_ = [str(c) for c in X.columns]
        self.dtypes_ = {str(c): str(t) for c, t in X.dtypes.items()}
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = X.rename(columns=str)
        out = frame.reindex(columns=self.columns_)
        for column in self.columns_:
            if column not in frame.columns:
                out[column] = 0
            kind = self.dtypes_.get(column, "")
            if kind in ("bool", "int64", "int32", "int8", "uint8", "float64", "float32"):
                out[column] = out[column].astype(kind)
        return out


def served_pipeline(model: Any, features: Callable[..., pd.DataFrame],
                    X_train: pd.DataFrame, headers: Mapping[str, str] | None = None,
                    raw_order: Sequence[str] = (),
                    statistics: Callable[[pd.DataFrame], dict[str, Any]] | None = None,
                    raw: pd.DataFrame | None = None) -> Pipeline:
    """Her fitted ``model`` behind her ``features`` function and the aligner fitted on her
    training columns; ``headers`` maps the API's names to her raw headers. With her
    ``statistics`` function, the features step is fitted on ``raw``, the frame she read."""
    aligner = ColumnAligner().fit(X_train)
    step: Any = FunctionTransformer(features, validate=False)
    if statistics is not None:
        if raw is None:
            raise ValueError("her statistics(df) is fitted on the frame she read: pass raw")
        step = FittedFeatures(features, statistics).fit(raw)
    steps = [("raw", RawColumns(dict(headers or {}), list(raw_order))),
             ("features", step),
             ("align", aligner), ("model", model)]
    pipeline = Pipeline(steps)
    return pipeline


def answers(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """What a model says about rows: its class probabilities and label, or its value."""
    out = pd.DataFrame(index=X.index)
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X))
        classes = list(getattr(model, "classes_", range(proba.shape[1])))
        for i, cls in enumerate(classes):
            out[f"proba_{cls}"] = proba[:, i]
    out["label"] = np.asarray(model.predict(X))
    return out


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        if np.isnan(a) and np.isnan(b):
            return False
        return not np.isclose(a, b, rtol=RTOL, atol=1e-12)
    return bool(a != b)


def parity(expected: pd.DataFrame, served: pd.DataFrame, where: str = "held-out rows") -> None:
    """Raise :class:`ParityError` naming the first row and column where ``served`` (the
    served pipeline on raw rows) differs from ``expected`` (her model on her ``X_test``)
    beyond :data:`RTOL` relative, or a label that is not equal."""
    if len(expected) != len(served):
        raise ParityError(f"{where}: {len(served)} served answers for {len(expected)} rows")
    mine_columns = {c: expected[c].to_numpy() for c in expected.columns}
    served_columns = {c: served[c].to_numpy() for c in expected.columns}
    for position, index in enumerate(expected.index):
        for column in expected.columns:
            mine, theirs = mine_columns[column][position], served_columns[column][position]
            if _differs(mine, theirs):
                mine, theirs, index = (v.item() if hasattr(v, "item") else v
                                       for v in (mine, theirs, index))
                raise ParityError(
                    f"{where}: row {index!r} (#{position}), {column}: her notebook's model "
                    f"says {mine!r}, the served pipeline {theirs!r}; her feature "
                    "code does not give one record what it gave the whole frame")
