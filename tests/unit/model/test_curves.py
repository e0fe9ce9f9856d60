"""The evaluation curves kept with a version are aggregates: few points, bins of several
rows, no row index, label or prediction of a single row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import auc, roc_auc_score

from nbprod.model.curves import MAX_POINTS, MIN_ROWS, curve_summary

RNG = np.random.default_rng(3)


def binary_frame(n):
    y = RNG.integers(0, 2, n)
    return pd.DataFrame({"row": range(n), "y": y,
                         "probability": np.clip(0.4 * y + 0.3 + RNG.normal(0, 0.2, n), 0, 1)})


@pytest.mark.parametrize("n", [12, 300, 5000])
def test_a_binary_curve_has_few_points_and_bins_of_several_rows(n):
    frame = binary_frame(n)
    curves = curve_summary(frame, "binary", "y")["classes"]["1"]
    roc, cal = curves["roc"], curves["calibration"]
    assert len(roc["fpr"]) <= MAX_POINTS and len(curves["pr"]["recall"]) <= MAX_POINTS
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    # consecutive points at least MIN_ROWS rows apart
    positives, negatives = curves["positives"], n - curves["positives"]
    counts = np.round(np.array(roc["tpr"]) * positives + np.array(roc["fpr"]) * negatives)
    assert (np.diff(counts) >= MIN_ROWS - 0.5).all()
    assert min(cal["rows"]) >= MIN_ROWS and sum(cal["rows"]) == n
    assert curves["roc_auc"] == pytest.approx(roc_auc_score(frame["y"], frame["probability"]), abs=1e-4)
    if n >= 300:  # the kept points still trace the curve
        assert auc(roc["fpr"], roc["tpr"]) == pytest.approx(curves["roc_auc"], abs=0.02)
    text = json.dumps(curves)
    assert "threshold" not in text and '"row"' not in text


def test_multiclass_keeps_one_vs_rest_curves_per_class():
    classes = ["a", "b", "c"]
    proba = RNG.dirichlet(np.ones(3), 400)
    frame = pd.DataFrame(proba, columns=[f"probability:{c}" for c in classes]).assign(
        y=RNG.choice(classes, 400))
    summary = curve_summary(frame, "multiclass", "y", classes)
    assert sorted(summary["classes"]) == classes
    assert all(min(c["calibration"]["rows"]) >= MIN_ROWS for c in summary["classes"].values())


def test_regression_keeps_bins_of_the_prediction_and_residual_quantiles():
    actual = RNG.normal(size=203)
    frame = pd.DataFrame({"y": actual, "prediction": actual + RNG.normal(0, 0.3, 203)})
    summary = curve_summary(frame, "regression", "y")
    bins = summary["bins"]
    assert len(bins["rows"]) == 10 and min(bins["rows"]) >= MIN_ROWS and sum(bins["rows"]) == 203
    assert bins["mean_predicted"] == sorted(bins["mean_predicted"])
    assert summary["residual_quantiles"]["0.5"] == pytest.approx(0, abs=0.1)
    tiny = curve_summary(frame.head(7), "regression", "y")
    assert tiny["bins"]["rows"] == [7] and tiny["residual_quantiles"] == {}
