"""The comparison page's figures for each model kind, drawn from the aggregated curves of
small predictions frames (:func:`nbprod.model.curves.curve_summary`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from nbprod.model.compare_plots import MAX_CLASSES, metrics_over_time, overlaid_curves
from nbprod.model.curves import curve_summary

RNG = np.random.default_rng(7)


def binary(noise):
    y = RNG.integers(0, 2, 200)
    frame = pd.DataFrame({"y": y, "probability": np.clip(0.5 * y + 0.25 + RNG.normal(0, noise, 200), 0, 1)})
    return curve_summary(frame, "binary", "y")


def multiclass(classes):
    actual = RNG.choice(classes, 300)
    proba = RNG.dirichlet(np.ones(len(classes)), 300)
    frame = pd.DataFrame(proba, columns=[f"probability:{c}" for c in classes])
    return curve_summary(frame.assign(y=actual), "multiclass", "y", classes)


def labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_binary_overlays_each_version_on_roc_pr_and_calibration():
    fig = overlaid_curves("binary", {"A v2": binary(0.3), "B v1": binary(0.1)})
    roc, pr, cal = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["ROC", "Precision-recall", "Calibration"]
    assert [t.split(" (")[0] for t in labels(roc)] == ["A v2", "B v1"]
    assert labels(cal) == ["A v2", "B v1"] and "(AP " in labels(pr)[0]
    drawn = [line for line in roc.lines if line.get_label().startswith(("A", "B"))]
    assert len(drawn) == 2 and all(len(line.get_xdata()) > 10 for line in drawn)


@pytest.mark.parametrize("n", [3, MAX_CLASSES + 2])
def test_multiclass_gives_a_row_per_class_one_vs_rest(n):
    classes = [f"c{i}" for i in range(n)]
    fig = overlaid_curves("multiclass", {"A": multiclass(classes), "B": multiclass(classes)},
                          classes)
    shown = min(n, MAX_CLASSES)
    assert len(fig.axes) == 3 * shown
    assert fig.axes[3].get_title() == "ROC: class c1 (one vs rest)"
    assert (fig._suptitle is not None) == (n > MAX_CLASSES)


def test_regression_sets_predicted_against_actual():
    runs = {k: curve_summary(pd.DataFrame({"y": RNG.normal(size=50), "prediction": RNG.normal(size=50)}),
                             "regression", "y") for k in ("A", "B")}
    binned, spread = overlaid_curves("regression", runs).axes
    assert binned.get_title().startswith("Predicted against actual") and labels(binned) == ["A", "B"]
    assert [len(line.get_xdata()) for line in binned.lines[:2]] == [10, 10]  # a point per bin
    assert [t.get_text() for t in spread.get_yticklabels()] == ["A", "B"]  # a box per version
    assert len(binned.collections) == 0  # no cloud of rows


def test_a_version_without_curves_of_a_class_is_left_out_of_its_row():
    classes = ["a", "b", "c"]
    only_a = curve_summary(pd.DataFrame({"y": ["a"] * 20, **{f"probability:{c}": [1 / 3] * 20
                                                            for c in classes}}),
                           "multiclass", "y", classes)
    assert only_a["classes"] == {}  # a class all or none of the rows: no curve
    fig = overlaid_curves("multiclass", {"A": only_a, "B": multiclass(classes)}, classes)
    assert labels(fig.axes[0])[0].startswith("B")


def test_metrics_over_time_shades_the_production_periods_and_rings_the_compared():
    start = datetime(2026, 12, 1, tzinfo=UTC)
    points = [SimpleNamespace(tag=f"m:v{i}", created=start + timedelta(hours=i),
                              metrics={"roc_auc": 0.8 + i / 100}) for i in range(3)]
    periods = [("m:v0", start, start + timedelta(hours=2)), ("m:v2", start + timedelta(hours=2), None)]
    fig = metrics_over_time(points, periods, ["roc_auc"], marked=("m:v1", "m:v2"))
    (ax,) = fig.axes
    assert len(ax.patches) == 2  # one shaded span per production period
    ringed = [line for line in ax.lines if line.get_markersize() == 13]
    assert len(ringed) == 2
    assert ax.get_ylabel() == "roc_auc"
