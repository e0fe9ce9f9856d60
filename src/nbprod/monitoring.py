"""In-service monitoring: the prediction log, live drift and live accuracy of a served model.

A :class:`Monitor` lives in each service worker. After every model call the service hands
it the rows and the predictions (:meth:`Monitor.record`). On the request path it only

- gives each prediction a request id (returned to the client, who sends it back with the
  true label later): a keyed BLAKE2b hash of a counter, unique and unguessable, and cheaper
  than ``uuid4``, whose ``os.urandom`` call hands the interpreter lock to other threads;
- observes each probability in a Prometheus histogram;
- remembers the prediction by request id (a bounded ``OrderedDict`` of the last ``memory``
  predictions: the oldest are forgotten first), so :meth:`Monitor.feedback` can match
  delayed true labels and export the rolling accuracy, ROC AUC and calibration gap of the
  last ``feedback_window`` labelled predictions;
- appends the model call to a list (a ``deque``: no lock taken, no thread woken).

One background thread, every ``Monitor.INTERVAL`` seconds (0.2), takes what was recorded and

- appends one JSON line per prediction to this worker's own size-rotated log
  (:class:`nbprod.prediction_log.PredictionLog`, in a folder outside the model store and the
  bento; the features under ``inputs``, so ``nbprod drift FOLDER`` reads it); lines a full
  disk refuses are counted (``nbprod_prediction_log_lost_lines_total``), never printed;
- slides a window of the last ``window`` rows over the new rows (:class:`WindowDrift`:
  per-feature bin counts, updated incrementally) and, every ``update_every`` rows, sets the
  per-feature PSI and Jensen-Shannon distance against the training reference (the
  statistics of :mod:`nbprod.drift`) as Prometheus gauges.

Waking the thread on a timer rather than on every prediction matters: handing the
interpreter lock to a woken thread after each request cost more than the work itself
(BENCHMARKS.md, "Monitoring cost"). If the thread falls behind (a stalled disk), a request
that finds more than ``Monitor.BACKLOG`` model calls waiting logs them itself: requests slow
down rather than log lines being dropped or memory growing without bound.

Settings come from the environment (:meth:`MonitorConfig.from_env`). The Prometheus
instruments are created once per process, on first use, because BentoML sets the
multiprocess directory of ``prometheus_client`` in each worker after importing the service.
With several workers each worker has its own window and memory; ``/feedback`` still matches a
prediction another worker answered, through the shared log folder
(:mod:`nbprod.sibling_predictions`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model

from .drift import has_other_bin, is_flag, reference_features, reference_shares
from .errors import ConfigError, FeedbackError
from .prediction_log import PredictionLog, check_log_dir, default_log_dir
from .settings import positive
from .sibling_predictions import SiblingPredictions

log = logging.getLogger(__name__)

PROBABILITY_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 10)) + (1.0,)


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitor keeps and where it writes (see :meth:`from_env` for the variables)."""

    enabled: bool = True
    #: None: no prediction log; the default is :func:`nbprod.prediction_log.default_log_dir`
    log_dir: Path | None = field(default_factory=default_log_dir)
    log_max_bytes: int = 50_000_000
    log_backups: int = 10
    window: int = 1000
    update_every: int = 100
    memory: int = 100_000
    feedback_window: int = 1000
    threshold: float = 0.2
    min_rows: int = 50

    ENV = {
        "enabled": "NBPROD_MONITORING",
        "log_dir": "NBPROD_PREDICTION_LOG_DIR",
        "log_max_bytes": "NBPROD_PREDICTION_LOG_MAX_BYTES",
        "log_backups": "NBPROD_PREDICTION_LOG_BACKUPS",
        "window": "NBPROD_DRIFT_WINDOW",
        "update_every": "NBPROD_DRIFT_UPDATE_EVERY",
        "memory": "NBPROD_FEEDBACK_MEMORY",
        "feedback_window": "NBPROD_FEEDBACK_WINDOW",
        "threshold": "NBPROD_DRIFT_THRESHOLD",
        "min_rows": "NBPROD_DRIFT_MIN_ROWS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MonitorConfig:
        """Settings from ``NBPROD_*`` variables; unset ones keep their defaults.

        ``NBPROD_MONITORING=0`` switches the monitor off; ``NBPROD_PREDICTION_LOG_DIR=""``
        keeps monitoring but writes no log. The log folder is checked
        (:func:`nbprod.prediction_log.check_log_dir`: absolute, outside the BentoML home and
        any bento), so a bad one stops the server with one line before it serves.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, var in cls.ENV.items():
            if var not in environ:
                continue
            raw = environ[var].strip()
            if name == "enabled":
                if raw.lower() not in ("0", "1", "false", "true", "off", "on"):
                    raise ConfigError(f"${var}={raw!r}: use 1/true/on or 0/false/off")
                values[name] = raw.lower() in ("1", "true", "on")
            elif name == "log_dir":
                values[name] = Path(raw) if raw else None
            else:
                values[name] = positive(var, raw, type(getattr(cls, name)))
        config = cls(**values)
        if config.enabled and config.log_dir is not None:
            store = environ.get("BENTOML_HOME", "").strip()
            check_log_dir(config.log_dir, Path(store).expanduser() if store else None)
        return config


# --- statistics: small pure functions ------------------------------------------------


def accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Share of predicted labels (0/1) equal to the true ones; NaN when there are none."""
    return float(np.mean(truth == predicted)) if len(truth) else float("nan")


def roc_auc(truth: np.ndarray, probability: np.ndarray) -> float:
    """ROC AUC of the probabilities; NaN until both classes have been labelled."""
    if len(np.unique(truth)) < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, probability))


def calibration_gap(truth: np.ndarray, probability: np.ndarray) -> float:
    """Mean predicted probability minus the observed positive rate (> 0: over-predicts)."""
    return float(np.mean(probability) - np.mean(truth)) if len(truth) else float("nan")


def live_scores(labelled: Sequence[tuple[float, int, int]]) -> dict[str, float]:
    """Accuracy, ROC AUC and calibration gap of ``(probability, predicted, truth)`` rows."""
    if not labelled:
        nan = float("nan")
        return {"accuracy": nan, "roc_auc": nan, "calibration_gap": nan, "labelled": 0}
    proba, predicted, truth = (np.asarray(c) for c in zip(*labelled, strict=True))
    return {
        "accuracy": accuracy(truth, predicted),
        "roc_auc": roc_auc(truth, proba),
        "calibration_gap": calibration_gap(truth, proba),
        "labelled": len(truth),
    }


def label_model(target: str) -> type[BaseModel]:
    """One item of ``POST /feedback``'s ``labels``: ``{"request_id": ..., target: 0 or 1}``.

    Labels must be JSON integers (``"1"`` or ``true`` are refused with the field's path); a
    value other than 0 or 1 is refused by :meth:`Monitor.feedback`, naming its request id.
    """
    return create_model(  # type: ignore[call-overload]
        f"{target.title()}Label", __config__=ConfigDict(extra="forbid"),
        request_id=(str, Field(min_length=1, description="request_id of an earlier prediction")),
        **{target: (StrictInt, Field(description="the true label: 1 positive, 0 negative"))},
    )


class WindowDrift:
    """Per-feature bin counts of a sliding window of rows, kept up to date incrementally.

    The bins are the reference's (training deciles for numbers, declared categories plus
    ``other``), exactly those of :class:`nbprod.drift.DriftDetector`, so :meth:`scores` gives
    the same PSI and Jensen-Shannon distance as ``DriftDetector().fit(reference).score``
    on the window's rows. The window is a ring buffer of bin indices (``size`` x features):
    adding ``k`` rows bins them (vectorised per feature), subtracts the ``k`` rows they
    overwrite and adds theirs, so no update re-reads the whole window. The counts of all
    features sit end to end in one array, so :meth:`statistics` scores every feature in a
    handful of numpy calls.
    """

    def __init__(self, reference: Mapping[str, Any], size: int, threshold: float = 0.2,
                 min_rows: int = 50) -> None:
        self.reference = reference_features(reference)
        if not self.reference:
            raise ConfigError("reference statistics hold no feature")
        self.features = list(self.reference)
        self.threshold, self.min_rows = threshold, min_rows
        expected = [reference_shares(self.reference[f]) for f in self.features]
        self.offsets = np.cumsum([0, *map(len, expected)])[:-1]  # first bin of each feature
        self.segment = np.repeat(np.arange(len(expected)), [len(e) for e in expected])
        self.expected = np.concatenate(expected)
        self.counts = np.zeros(len(self.expected))
        self.bins = np.full((size, len(self.features)), -1, dtype=np.int32)  # flat, -1 missing
        self._pos = self._filled = 0
        self._binners = [self._binner(self.reference[f]) for f in self.features]

    def __len__(self) -> int:
        """Rows in the window."""
        return self._filled

    @staticmethod
    def _binner(ref: Mapping[str, Any]) -> Any:
        """values -> bin indices (-1 for a missing value)."""
        if ref["type"] == "numeric":
            inner = np.asarray(ref["bin_edges"][1:-1], dtype="float64")

            def numeric(values: list[Any]) -> np.ndarray:
                x = np.array([np.nan if v is None else v for v in values], dtype="float64")
                return np.where(np.isnan(x), -1, np.searchsorted(inner, x, side="right"))

            return numeric
        index = {str(c): i for i, c in enumerate(ref["frequencies"])}
        if is_flag(ref):  # 0/1 flags have no "other" bin (nbprod.drift); 1.0 reads as 1
            index.update({alias: index[k] for k in ("0", "1")
                          for alias in (f"{float(k)}", str(bool(int(k))))})
        other = len(index) if has_other_bin(ref) else -1

        def categorical(values: list[Any]) -> np.ndarray:
            return np.array([-1 if v is None else index.get(str(v), other) for v in values])

        return categorical

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Slide the window over ``rows`` (dicts holding every feature)."""
        size = len(self.bins)
        rows = rows[-size:]
        if not rows:
            return
        new = np.column_stack([
            binner([row[f] for row in rows])
            for binner, f in zip(self._binners, self.features, strict=True)
        ])
        new = np.where(new >= 0, new + self.offsets, -1)
        where = (self._pos + np.arange(len(rows))) % size
        old = self.bins[where].ravel()
        self.counts -= np.bincount(old[old >= 0], minlength=len(self.counts))
        self.counts += np.bincount(new[new >= 0], minlength=len(self.counts))
        self.bins[where] = new
        self._pos = (self._pos + len(rows)) % size
        self._filled = min(size, self._filled + len(rows))

    def statistics(self, eps: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(PSI, Jensen-Shannon distance, rows) per feature, as arrays in feature order.

        The formulas of :func:`nbprod.drift.psi` and :func:`nbprod.drift.js_distance`
        (scipy's ``jensenshannon``, base 2), applied to every feature at once; NaN for a
        feature with no value in the window.
        """
        def per_feature(x: np.ndarray) -> np.ndarray:
            return np.add.reduceat(x, self.offsets)

        n = per_feature(self.counts)
        empty = n == 0
        actual = self.counts / np.where(empty, 1, n)[self.segment]
        e = np.clip(self.expected, eps, None)
        a = np.clip(actual, eps, None)
        e, a = e / per_feature(e)[self.segment], a / per_feature(a)[self.segment]
        psi = per_feature((a - e) * np.log(a / e))
        p = self.expected / per_feature(self.expected)[self.segment]
        q = actual
        m = (p + q) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            divergence = per_feature(np.where(p > 0, p * np.log(p / m), 0.0)
                                     + np.where(q > 0, q * np.log(q / m), 0.0))
        js = np.sqrt(np.maximum(divergence, 0.0) / np.log(2) / 2)
        psi[empty], js[empty] = np.nan, np.nan
        return psi, js, n

    def drifted(self, psi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Which features drifted: enough rows and a PSI over the threshold."""
        return (rows >= self.min_rows) & (psi > self.threshold)

    def scores(self) -> pd.DataFrame:
        """One row per feature: psi, js_distance, rows, drifted (as DriftDetector.score)."""
        psi, js, n = self.statistics()
        drifted = self.drifted(psi, n)
        return pd.DataFrame({"feature": self.features, "psi": psi, "js_distance": js,
                             "rows": n.astype(int), "drifted": drifted}).set_index("feature")


# --- Prometheus instruments, once per process ------------------------------------------


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
        "labelled": gauge("nbprod_live_labelled_rows",
                          "Labelled predictions the live accuracy gauges cover"),
    }


# --- the monitor ---------------------------------------------------------------------


class Monitor:
    """Prediction log, drift window and feedback memory of one served model version."""

    #: Seconds between two runs of the monitor's thread.
    INTERVAL = 0.2
    #: Model calls waiting for the thread past which :meth:`record` logs them itself.
    BACKLOG = 10_000

    def __init__(
        self,
        model_version: str,
        reference_statistics: Mapping[str, Any],
        positive_label: str,
        config: MonitorConfig | None = None,
        worker: int = 0,
    ) -> None:
        self.config = config or MonitorConfig()
        self.model_version = model_version
        self.positive_label = positive_label
        self.window: WindowDrift | None = None
        if reference_features(reference_statistics):
            self.window = WindowDrift(reference_statistics, self.config.window,
                                      self.config.threshold, self.config.min_rows)
        else:
            log.warning("model %s has no reference_statistics: no drift gauges", model_version)
        self._pending: list[dict[str, Any]] = []  # rows not yet in the drift gauges
        # request id -> (probability, predicted 0/1, labelled): tuples of atomic values, which
        # the garbage collector stops tracking, so a full memory adds nothing to its scans
        self.memory: OrderedDict[str, tuple[float, int, bool]] = OrderedDict()
        self.labelled: deque[tuple[float, int, int]] = deque(maxlen=self.config.feedback_window)
        self._lock = threading.Lock()
        self._key, self._counter = os.urandom(32), itertools.count()
        self.log: PredictionLog | None = None
        metrics = instruments()
        if self.config.log_dir is not None:
            lost = metrics["log_lost"].labels(model_version)
            self.log = PredictionLog(self.config.log_dir, self.config.log_max_bytes,
                                     self.config.log_backups, on_lost=lost.inc)
            log.info("prediction log of worker %d: %s", worker, self.log.path)
        #: the other workers' predictions and the shared ledger of labels (several workers)
        self.siblings = (SiblingPredictions(self.config.log_dir, self.log.path)
                         if self.log is not None else None)
        self._histogram = metrics["probability"].labels(model_version)
        metrics["threshold"].labels(model_version).set(self.config.threshold)
        self._gauges: list[tuple[Any, Any]] = []  # per feature (psi, js), made on first update
        # model calls not yet logged: appended by request threads (a deque append takes no
        # lock and wakes nobody), taken by the monitor's thread every ``INTERVAL`` seconds
        self._calls: deque[tuple] = deque()
        self._digesting = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nbprod-monitor", daemon=True)
        self._thread.start()

    def request_ids(self, n: int) -> list[str]:
        """``n`` new request ids: 32 hex digits, a keyed hash of a per-monitor counter."""
        key, counter = self._key, self._counter
        return [hashlib.blake2b(next(counter).to_bytes(8, "little"), key=key,
                                digest_size=16).hexdigest() for _ in range(n)]

    def record(self, rows: Sequence[BaseModel | Mapping[str, Any]], probabilities: Sequence[float],
               labels: Sequence[str]) -> list[str]:
        """Log and remember one model call; returns a new request id per row.

        ``rows`` must not change afterwards: the monitor's thread reads them later.
        """
        ids = self.request_ids(len(rows))
        for p in probabilities:
            self._histogram.observe(p)
        positive = self.positive_label
        with self._lock:
            memory = self.memory
            for rid, p, label in zip(ids, probabilities, labels, strict=True):
                memory[rid] = (p, int(label == positive), False)
            while len(memory) > self.config.memory:
                memory.popitem(last=False)
        self._calls.append((rows, ids, probabilities, labels, time.time()))
        if len(self._calls) > self.BACKLOG:  # the thread is behind: this request helps
            self.flush()
        return ids

    def _run(self) -> None:
        """The monitor's thread: every ``INTERVAL`` s, log and bin what was recorded."""
        while not self._stop.wait(self.INTERVAL):
            self.flush()

    def flush(self) -> None:
        """Log every model call recorded so far and slide the drift window over it."""
        with self._digesting:
            calls = []
            while self._calls:
                calls.append(self._calls.popleft())
            if not calls:
                return
            try:
                self._digest(calls)
            except Exception:  # never let a failure go unseen, nor kill the thread
                log.exception("monitoring failed on %d model calls", len(calls))

    def _digest(self, calls: list[tuple]) -> None:
        rows: list[dict[str, Any]] = []
        lines: list[str] = []
        for call_rows, ids, probabilities, labels, timestamp in calls:
            plain = [dict(r.__dict__) if isinstance(r, BaseModel) else dict(r) for r in call_rows]
            rows.extend(plain)
            if self.log is not None:
                when = datetime.fromtimestamp(timestamp, UTC).isoformat()
                lines.extend(
                    json.dumps({"request_id": rid, "timestamp": when,
                                "model_version": self.model_version, "inputs": row,
                                "probability": p, "label": label})
                    for rid, row, p, label in zip(ids, plain, probabilities, labels, strict=True)
                )
        if lines:
            self.log.write(lines)  # type: ignore[union-attr]
        if self.window is None:
            return
        self._pending.extend(rows)
        if len(self._pending) >= self.config.update_every:
            due, self._pending = self._pending, []  # taken first: a failure loses only these
            self._update_drift(due)

    def _update_drift(self, rows: list[dict[str, Any]]) -> None:
        """Slide the window over ``rows``, set the gauges."""
        assert self.window is not None
        self.window.add(rows)
        metrics = instruments()
        if not self._gauges:  # created now: a series appears with its first value
            self._gauges = [(metrics["psi"].labels(f, self.model_version),
                             metrics["js"].labels(f, self.model_version))
                            for f in self.window.features]
        psi, js, rows_per_feature = self.window.statistics()
        for (psi_gauge, js_gauge), psi_value, js_value in zip(self._gauges, psi, js,
                                                              strict=True):
            psi_gauge.set(psi_value)
            js_gauge.set(js_value)
        drifted = self.window.drifted(psi, rows_per_feature)
        metrics["drifted"].labels(self.model_version).set(int(drifted.sum()))
        metrics["window_rows"].labels(self.model_version).set(len(self.window))
        metrics["updates"].labels(self.model_version).inc()

    def feedback(self, labels: Sequence[tuple[str, int]]) -> dict[str, float]:
        """Match true labels (0/1) to earlier request ids; update the live accuracy gauges.

        All or nothing: unknown (or forgotten) ids, ids labelled before or twice in
        ``labels``, and labels other than 0/1 raise :class:`FeedbackError` naming them, and
        nothing is recorded.
        """
        bad = [f"{rid!r}: {truth!r}" for rid, truth in labels if truth not in (0, 1)
               or isinstance(truth, bool)]
        if bad:
            raise FeedbackError(f"labels must be 0 or 1, got {', '.join(bad)}")
        self._adopt([rid for rid, _ in labels])
        with self._lock:
            seen: set[str] = set()
            unknown, duplicate = [], []
            for rid, _ in labels:
                entry = self.memory.get(rid)
                if entry is None:
                    unknown.append(rid)
                elif entry[2] or rid in seen:
                    duplicate.append(rid)
                seen.add(rid)
            problems = []
            if unknown:
                problems.append(
                    f"unknown request id(s) {unknown} (never answered by this server, or older than the "
                    f"last {self.config.memory} predictions)"
                )
            if duplicate:
                problems.append(f"request id(s) labelled already {duplicate}")
            if problems:
                raise FeedbackError("; ".join(problems) + "; no label was recorded")
            again = self.siblings.claim(list(seen)) if self.siblings is not None else []
            if again:
                raise FeedbackError(f"request id(s) labelled already {again}; no label was "
                                    f"recorded")
            for rid, truth in labels:
                proba, predicted, _ = self.memory[rid]
                self.memory[rid] = (proba, predicted, True)
                self.labelled.append((proba, predicted, int(truth)))
            scores = live_scores(list(self.labelled))
        metrics = instruments()
        for name in ("accuracy", "roc_auc", "calibration_gap", "labelled"):
            metrics[name].labels(self.model_version).set(scores[name])
        return {"accepted": len(labels), **scores}

    def _adopt(self, ids: Sequence[str]) -> None:
        """Remember the predictions of ``ids`` that another worker answered (its log file)."""
        if self.siblings is None:
            return
        with self._lock:
            missing = [rid for rid in ids if rid not in self.memory]
        found = self.siblings.find(missing) if missing else {}
        with self._lock:
            for rid, (proba, label) in found.items():
                self.memory.setdefault(rid, (proba, int(label == self.positive_label), False))

    def close(self) -> None:
        """Stop the monitor's thread, log what is left and close the log."""
        self._stop.set()
        self._thread.join()
        self.flush()
        if self.log is not None:
            self.log.close()
        if self.siblings is not None:
            self.siblings.close()


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: None for a value not yet defined."""
    return None if isinstance(value, float) and math.isnan(value) else value
