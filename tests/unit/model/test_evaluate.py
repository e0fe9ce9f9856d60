import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from nbprod.model.evaluation import compute_metrics, expected_calibration_error
from nbprod.model.evaluation_plots import plot_evaluation


def test_metrics_on_a_hand_checked_case():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    m = compute_metrics(y, p, threshold=0.5)
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 pairs ordered right
    assert m["confusion_matrix"] == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}
    assert m["f1"] == pytest.approx(0.5)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.4, 0.9])))
    assert m["n"] == 4 and m["positive_rate"] == 0.5


def test_threshold_moves_the_confusion_matrix():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    assert compute_metrics(y, p, 0.3)["confusion_matrix"] == {"tn": 1, "fp": 1, "fn": 0, "tp": 2}


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.2])
def test_threshold_must_be_a_probability(threshold):
    with pytest.raises(ValueError, match="threshold"):
        compute_metrics(np.array([0, 1]), np.array([0.2, 0.8]), threshold)


def test_calibration_error_is_zero_when_rates_match_and_positive_otherwise():
    y = np.array([0, 1] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.9)) == pytest.approx(0.4)


def test_plot_has_the_four_panels():
    y = np.array([0, 1] * 20)
    p = np.linspace(0.05, 0.95, 40)
    imp = pd.Series({"tenure": 0.2, "contract": 0.1})
    fig = plot_evaluation(y, p, imp, 0.5)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["ROC curve", "Precision-recall curve", "Calibration", "Feature importance (permutation)"]


def test_the_baseline_is_the_constant_model_on_the_same_rows():
    """The prior for a classifier (ROC AUC 0.5, the majority class), the mean for a regression
    (R² 0, RMSE the target's standard deviation): what the gate shows beside the candidate."""
    from nbprod.model.evaluation import baseline_metrics

    y = np.array([0, 0, 0, 1] * 25)
    binary = baseline_metrics("binary", y, ["no", "yes"])
    assert binary["roc_auc"] == 0.5 and binary["f1"] == 0.0
    assert binary["brier"] == pytest.approx(0.25 * 0.75)
    multi = baseline_metrics("multiclass", np.array([0, 1, 2, 2] * 25), ["a", "b", "c"])
    assert multi["accuracy"] == 0.5 and multi["min_recall"] == 0.0
    values = np.arange(100.0)
    regression = baseline_metrics("regression", values, [])
    assert regression["r2"] == 0.0 and regression["rmse"] == pytest.approx(values.std())
    assert all(isinstance(v, float) for v in (*binary.values(), *regression.values()))
