"""The Prometheus metrics of the in-service monitor, created once per process.

They are created on first use, in the worker, because BentoML sets the multiprocess
directory of ``prometheus_client`` in each worker after importing the service.
"""

from __future__ import annotations

from functools import cache
from typing import Any

PROBABILITY_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 10)) + (1.0,)


@cache
def instruments() -> dict[str, Any]:
    """The Prometheus metrics of the monitor (created on first call, in the worker)."""
    from prometheus_client import Counter, Gauge, Histogram

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ("model_version",)) -> Any:
        # one value per series across worker processes: the latest one set
        return Gauge(name, doc, labels, multiprocess_mode="mostrecent")

    return {
        "psi": gauge("nbprod_drift_psi",
                     "Population stability index of the recent window against the training "
                     "reference", ("feature", "model_version")),
        "js": gauge("nbprod_drift_js_distance",
                    "Jensen-Shannon distance (base 2) of the recent window against the "
                    "training reference", ("feature", "model_version")),
        "unseen_tokens": gauge("nbprod_drift_unseen_tokens",
                               "Share of the recent window's words (of a text feature) in "
                               "hashed buckets no training word fell in",
                               ("feature", "model_version")),
        "token_overlap": gauge("nbprod_drift_token_overlap",
                               "Overlap (1: the same) of the recent window's hashed word "
                               "distribution with the training one, for a text feature",
                               ("feature", "model_version")),
        "window_rows": gauge("nbprod_drift_window_rows",
                             "Rows in the window the drift gauges were computed on"),
        "updates": Counter("nbprod_drift_updates",
                           "Times the drift gauges were recomputed", ("model_version",)),
        "drifted": gauge("nbprod_drift_features_drifted",
                         "Features whose PSI passes the drift threshold"),
        "threshold": gauge("nbprod_drift_threshold", "PSI over which a feature drifted"),
        "probability": Histogram("nbprod_prediction_probability",
                                 "Predicted probabilities of the positive class",
                                 ("model_version",), buckets=PROBABILITY_BUCKETS),
        "accuracy": gauge("nbprod_live_accuracy",
                          "Accuracy of the labelled recent predictions (POST /feedback)"),
        "roc_auc": gauge("nbprod_live_roc_auc",
                         "ROC AUC of the labelled recent predictions (POST /feedback)"),
        "calibration_gap": gauge("nbprod_live_calibration_gap",
                                 "Mean predicted probability minus observed positive rate "
                                 "of the labelled recent predictions"),
        "log_lost": Counter("nbprod_prediction_log_lost_lines",
                            "Prediction log lines that could not be written (a full disk, "
                            "a vanished folder)", ("model_version",)),
        "macro_f1": gauge("nbprod_live_macro_f1",
                          "Macro-F1 of the labelled recent predictions of a multiclass model"),
        "rmse": gauge("nbprod_live_rmse",
                      "Root mean squared error of the labelled recent predictions (regression)"),
        "mae": gauge("nbprod_live_mae",
                     "Mean absolute error of the labelled recent predictions (regression)"),
        "prediction_psi": gauge("nbprod_prediction_drift_psi",
                                "Population stability index of the recent predictions against "
                                "the evaluation's"),
        "prediction_js": gauge("nbprod_prediction_drift_js_distance",
                               "Jensen-Shannon distance (base 2) of the recent predictions "
                               "against the evaluation's"),
        "labelled": gauge("nbprod_live_labelled_rows",
                          "Labelled predictions the live accuracy gauges cover"),
    }
