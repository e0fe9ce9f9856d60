"""Input drift: how far recent data has moved from the training reference.

Both statistics compare the share of rows in the same bins: the training
reference's decile bins for numeric features (the outer two open-ended, so every value
has a bin), the declared categories for categorical features (values seen in neither go
to an extra ``other`` bin) and the two values of a 0/1 flag (which has no ``other``:
validation admits nothing else). A datetime feature is binned as the number of its days
since 1970 (:data:`MEASURED`: the reference says ``of: days``, and ``format`` when its
text is not ISO), a text feature as its
length in characters (``of: length``).

- Population stability index (PSI), the industry's usual drift score:
  ``sum((a - e) * ln(a / e))``; under 0.1 stable, 0.1-0.2 moderate, over 0.2 a shift.
  Empty bins are smoothed with a small epsilon.
- Jensen-Shannon distance (base 2), bounded in [0, 1] and defined for empty bins, so it
  stays meaningful on the small windows a live service sees, where PSI's smoothing
  dominates.

A text feature is also scored on its words, hashed into buckets so that no word is kept
(:mod:`nbprod.data.token_drift`): ``unseen_tokens``, the share of live words in buckets no
training word fell in, and ``token_overlap`` of the two bucket distributions; it drifted
when its length PSI or its unseen share passes the threshold.

:class:`DriftDetector` follows scikit-learn's conventions: ``__init__`` stores the
settings, ``fit`` learns from the reference and returns ``self``, learned state ends in ``_``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from ..errors import ConfigError
from .token_drift import KEY as TOKENS
from .token_drift import bucket_counts, token_scores

OTHER = "other"


def psi(expected: np.ndarray, actual: np.ndarray, eps: float = 1e-4) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype="float64"), eps, None)
    a = np.clip(np.asarray(actual, dtype="float64"), eps, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(expected: np.ndarray, actual: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two share vectors."""
    e, a = np.asarray(expected, dtype="float64"), np.asarray(actual, dtype="float64")
    if e.sum() == 0 or a.sum() == 0:
        return float("nan")
    return float(jensenshannon(e, a, base=2))


def reference_features(reference_statistics: Mapping[str, Any]) -> dict[str, Any]:
    """The per-feature entries of a model's reference statistics (keys starting with ``_``
    hold other facts, such as the row count)."""
    return {k: v for k, v in reference_statistics.items() if not k.startswith("_")}


def is_flag(ref: Mapping[str, Any]) -> bool:
    """A 0/1 feature: its reference's categories are exactly ``0`` and ``1``."""
    return ref["type"] == "categorical" and sorted(ref["frequencies"]) == ["0", "1"]


def has_other_bin(ref: Mapping[str, Any]) -> bool:
    """Whether values outside the reference's categories get an ``other`` bin."""
    return ref["type"] == "categorical" and not is_flag(ref)


def bin_labels(ref: dict[str, Any]) -> list[str]:
    """Human-readable names of a reference's bins.

    Numeric: the outer bins are open-ended (values below the training minimum count in the
    first, above the maximum in the last), so they read ``< a`` and ``>= b``. Categorical:
    the categories, plus ``other`` unless the feature is a 0/1 flag.
    """
    if ref["type"] == "numeric":
        edges = ref["bin_edges"]
        if len(edges) <= 2:
            return ["all values"]
        inner = [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(1, len(edges) - 2)]
        return [f"< {edges[1]:.4g}", *inner, f">= {edges[-2]:.4g}"]
    return [*ref["frequencies"], *([OTHER] if has_other_bin(ref) else [])]


def reference_shares(ref: dict[str, Any]) -> np.ndarray:
    """The training share of each bin of ``ref`` (0 for a category's ``other`` bin)."""
    if ref["type"] == "numeric":
        return np.asarray(ref["frequencies"], dtype="float64")
    extra = [0.0] if has_other_bin(ref) else []
    return np.asarray([*ref["frequencies"].values(), *extra], dtype="float64")


#: the kinds whose drift is that of a number measured on each value: kind -> the measure
MEASURED = {"datetime": "days", "text": "length"}


def measure(of: str | None, values: Sequence[Any] | pd.Series,
            fmt: str | None = None) -> np.ndarray:
    """The numbers drift bins for ``values``: the values themselves (``of`` None), the
    days since 1970 of dates written in ``fmt`` (``days``; None: ISO) or the length of
    texts (``length``); NaN where there is none."""
    if of == "length":
        return np.array([len(v) if isinstance(v, str) else np.nan for v in values],
                        dtype="float64")
    if of == "days":
        from .dates import days

        return days(values, fmt)
    if of is not None:
        raise ConfigError(f"drift reference: unknown measure {of!r}")
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy("float64")


def quantile_edges(values: np.ndarray, bins: int = 10) -> list[float]:
    """Bin edges at the quantiles of ``values`` (equal ones merged): the numeric bins of a
    reference."""
    return [float(e) for e in np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))]


def binner(ref: Mapping[str, Any]) -> Callable[[Sequence[Any]], np.ndarray]:
    """The function mapping values to the index of their bin in ``ref`` (-1: not counted).

    The one binning of drift: the training reference, ``nbprod drift`` and the service's
    live window all count values through it. Numbers: the outer bins are open-ended, an
    inner edge starts its bin; a value that is not a number is not counted. Categories:
    compared as text, unknown ones in ``other``. A 0/1 flag also reads ``1.0`` and ``True``
    as 1, and does not count a value other than 0 or 1. Missing values are not counted.
    """
    if ref["type"] == "numeric":
        inner = np.asarray(ref["bin_edges"][1:-1], dtype="float64")
        of, fmt = ref.get("of"), ref.get("format")

        def numeric(values: Sequence[Any]) -> np.ndarray:
            if of is not None:  # a date's days since 1970, a text's length
                x = measure(of, values, fmt)
                return np.where(np.isnan(x), -1, np.searchsorted(inner, x, side="right"))
            try:
                x = np.array([np.nan if v is None else v for v in values], dtype="float64")
            except (TypeError, ValueError):  # text among the numbers: read what parses
                x = pd.to_numeric(pd.Series(list(values), dtype=object),
                                  errors="coerce").to_numpy("float64")
            return np.where(np.isnan(x), -1, np.searchsorted(inner, x, side="right"))

        return numeric
    index = {str(c): i for i, c in enumerate(ref["frequencies"])}
    if is_flag(ref):
        index.update({alias: index[k] for k in ("0", "1")
                      for alias in (f"{float(k)}", str(bool(int(k))))})
    other = len(index) if has_other_bin(ref) else -1

    def categorical(values: Sequence[Any]) -> np.ndarray:
        return np.array([-1 if _missing(v) else index.get(str(v), other) for v in values],
                        dtype=np.int64)

    return categorical


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def bin_counts(values: Sequence[Any], ref: Mapping[str, Any]) -> np.ndarray:
    """How many of ``values`` fall in each bin of ``ref`` (see :func:`binner`)."""
    bins = binner(ref)(values)
    return np.bincount(bins[bins >= 0], minlength=bin_number(ref)).astype("float64")


def bin_number(ref: Mapping[str, Any]) -> int:
    """How many bins ``ref`` has."""
    if ref["type"] == "numeric":
        return max(len(ref["bin_edges"]) - 1, 1)
    return len(ref["frequencies"]) + int(has_other_bin(ref))


def current_shares(values: pd.Series, ref: dict[str, Any]) -> np.ndarray:
    """Share of ``values`` in each bin of ``ref`` (values not counted are left out)."""
    counts = bin_counts(list(values), ref)
    return counts / max(counts.sum(), 1)


class DriftDetector:
    """Per-feature PSI and Jensen-Shannon distance against a training reference."""

    def __init__(self, threshold: float = 0.2, min_rows: int = 50) -> None:
        self.threshold = threshold
        self.min_rows = min_rows

    def fit(self, reference_statistics: dict[str, Any]) -> DriftDetector:
        """Learn the reference: the ``reference_statistics`` stored with the model."""
        self.reference_ = reference_features(reference_statistics)
        if not self.reference_:
            raise ConfigError("reference statistics hold no feature")
        self.features_ = list(self.reference_)
        return self

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per feature: psi, js_distance, rows, drifted (psi over the threshold; for
        a text feature, or its unseen-token share), unseen_tokens and token_overlap (NaN
        but for a text feature)."""
        if not hasattr(self, "reference_"):
            raise ConfigError("DriftDetector is not fitted; call fit(reference_statistics) first")
        missing = [f for f in self.features_ if f not in frame.columns]
        if missing:
            raise ConfigError(f"data to check has no column(s) {missing}")
        rows = []
        for feature in self.features_:
            ref = self.reference_[feature]
            expected = reference_shares(ref)
            actual = current_shares(frame[feature], ref)
            n = int(frame[feature].notna().sum())
            value = psi(expected, actual) if n else float("nan")
            unseen, overlap = (token_scores(ref[TOKENS], bucket_counts(frame[feature].tolist(),
                                                                       ref[TOKENS]["buckets"]))
                               if TOKENS in ref else (float("nan"), float("nan")))
            rows.append({
                "feature": feature,
                "psi": value,
                "js_distance": js_distance(expected, actual),
                "rows": n,
                "drifted": bool(n >= self.min_rows and (value > self.threshold
                                                        or unseen > self.threshold)),
                "unseen_tokens": unseen,
                "token_overlap": overlap,
            })
        return pd.DataFrame(rows).set_index("feature")


#: Key of the evaluation's prediction distribution in a registered model's metadata.
PREDICTION_REFERENCE = "prediction_reference"
#: The name under which the predictions are binned beside the features.
PREDICTION = "prediction"


def prediction_drift(reference: dict[str, Any], predictions: pd.Series, threshold: float = 0.2,
                     min_rows: int = 50) -> pd.Series:
    """PSI, Jensen-Shannon distance, rows and drifted of served ``predictions`` against the
    evaluation's (:func:`prediction_reference`), as for a feature."""
    ref = {"type": "numeric", **reference}  # references stored before "type" are numeric
    detector = DriftDetector(threshold, min_rows).fit({PREDICTION: ref})
    return detector.score(pd.DataFrame({PREDICTION: predictions})).loc[PREDICTION]


def prediction_reference(predictions: Any, bins: int = 10, kind: str | None = None,
                         classes: Sequence[str] = ()) -> dict[str, Any]:
    """The distribution of the evaluation's predictions, to store in a model's metadata.

    A reference in the form of a feature's (see :func:`binner`), so the served predictions'
    drift is scored as the inputs' is, by kind:

    - binary: the positive-class probabilities in equal-width bins over [0, 1];
    - multiclass: the share of each predicted class (the ``label`` column);
    - regression: the predicted values in bins at their deciles.

    ``predictions`` is the path of the evaluate step's ``test_predictions.parquet`` (the
    kind is read from its columns: ``probability``, ``label``, ``prediction``), or the
    values themselves with ``kind`` (binary when not given). JSON-ready::

        metadata["prediction_reference"] = prediction_reference(upstream["evaluate"]["predictions"])
    """
    if isinstance(predictions, str | Path):
        columns = pd.read_parquet(predictions).columns
        kind = ("binary" if "probability" in columns else
                "multiclass" if "label" in columns else "regression")
        column = {"binary": "probability", "multiclass": "label", "regression": "prediction"}
        if column[kind] not in columns:
            raise ConfigError(f"{predictions}: no probability, label or prediction column")
        if kind == "multiclass" and not classes:
            classes = [c.partition(":")[2] for c in columns if c.startswith("probability:")]
        predictions = pd.read_parquet(predictions, columns=[column[kind]])[column[kind]]
    kind = kind or "binary"
    if kind == "multiclass":
        labels = pd.Series(predictions).dropna().astype(str)
        if len(labels) == 0:
            raise ConfigError("prediction_reference needs at least one prediction")
        shares = labels.value_counts(normalize=True)
        names = list(classes) or sorted(shares.index)
        return {"type": "categorical", "frequencies": {c: float(shares.get(c, 0.0)) for c in names},
                "rows": int(len(labels))}
    p = pd.to_numeric(pd.Series(predictions), errors="coerce").dropna().to_numpy("float64")
    if len(p) == 0:
        raise ConfigError("prediction_reference needs at least one prediction")
    if kind == "regression":
        edges = quantile_edges(p, bins)
    else:
        if (p < 0).any() or (p > 1).any():
            raise ConfigError("prediction_reference: probabilities must lie in [0, 1]")
        edges = [float(e) for e in np.linspace(0.0, 1.0, bins + 1)]
    counts = bin_counts(p, {"type": "numeric", "bin_edges": edges})
    return {"type": "numeric", "bin_edges": edges,
            "frequencies": [float(c) / len(p) for c in counts], "rows": int(len(p))}
