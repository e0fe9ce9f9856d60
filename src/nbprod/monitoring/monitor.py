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
  (:class:`nbprod.monitoring.prediction_log.PredictionLog`, in a folder outside the model store and the
  bento; the features under ``inputs``, so ``nbprod drift FOLDER`` reads it); lines a full
  disk refuses are counted (``nbprod_prediction_log_lost_lines_total``), never printed;
- slides a window of the last ``window`` rows over the new rows
  (:class:`nbprod.monitoring.window_drift.WindowDrift`: per-feature bin counts, updated incrementally) and, every ``update_every`` rows, sets the
  per-feature PSI and Jensen-Shannon distance against the training reference (the
  statistics of :mod:`nbprod.data.drift`), and a text feature's share of unseen words and
  word overlap (:mod:`nbprod.data.token_drift`), as Prometheus gauges.

Waking the thread on a timer rather than on every prediction matters: handing the
interpreter lock to a woken thread after each request cost more than the work itself
(BENCHMARKS.md, "Monitoring cost"). If the thread falls behind (a stalled disk), a request
that finds more than ``Monitor.BACKLOG`` model calls waiting logs them itself: requests slow
down rather than log lines being dropped or memory growing without bound.

Settings come from the environment (:meth:`nbprod.monitoring.config.MonitorConfig.from_env`),
the Prometheus metrics from :mod:`nbprod.monitoring.instruments`, the live scores and the feedback
label from :mod:`nbprod.monitoring.live_scores`.
With several workers each worker has its own window and memory; ``/feedback`` still matches a
prediction another worker answered, through the shared log folder
(:mod:`nbprod.monitoring.sibling_predictions`).
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
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from ..data.drift import PREDICTION, reference_features
from ..data.model_kinds import BINARY, MULTICLASS, check_model_kind
from ..errors import FeedbackError
from .config import MonitorConfig
from .instruments import instruments
from .live_scores import SCORES, check_labels, kind_scores
from .prediction_log import PredictionLog, model_log_dir
from .sibling_predictions import SiblingPredictions
from .window_drift import WindowDrift

log = logging.getLogger(__name__)


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
        kind: str = BINARY,
        classes: Sequence[str] = (),
        prediction_reference: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config or MonitorConfig()
        self.model_version = model_version
        self.positive_label = positive_label
        self.kind, self.classes = check_model_kind(kind), list(classes)
        # the served predictions against the evaluation's (nbprod.data.drift.prediction_reference)
        self.prediction_window: WindowDrift | None = None
        if prediction_reference:
            reference = {"type": "numeric", **prediction_reference}  # stored before "type"
            self.prediction_window = WindowDrift({PREDICTION: reference},
                                                 self.config.window, self.config.threshold,
                                                 self.config.min_rows)
        self.window: WindowDrift | None = None
        if reference_features(reference_statistics):
            self.window = WindowDrift(reference_statistics, self.config.window,
                                      self.config.threshold, self.config.min_rows)
        else:
            log.warning("model %s has no reference_statistics: no drift gauges", model_version)
        self._pending: list[dict[str, Any]] = []  # rows not yet in the drift gauges
        self._pending_outcomes: list[Any] = []  # and their predictions
        # request id -> (probability, predicted 0/1, labelled) for a binary model, (0.0, class,
        # labelled) or (value, value, labelled) for the others: tuples of atomic values, which
        # the garbage collector stops tracking, so a full memory adds nothing to its scans
        self.memory: OrderedDict[str, tuple[Any, Any, bool]] = OrderedDict()
        self.labelled: deque[tuple[Any, Any, Any]] = deque(maxlen=self.config.feedback_window)
        self._lock = threading.Lock()
        self._key, self._counter = os.urandom(32), itertools.count()
        self.log: PredictionLog | None = None
        metrics = instruments()
        if self.config.log_dir is not None:
            lost = metrics["log_lost"].labels(model_version)
            folder = model_log_dir(self.config.log_dir, model_version)
            self.log = PredictionLog(folder, self.config.log_max_bytes,
                                     self.config.log_backups, on_lost=lost.inc)
            log.info("prediction log of worker %d: %s", worker, self.log.path)
        #: the other workers' predictions and the shared ledger of labels (several workers)
        self.siblings = (SiblingPredictions(self.log.path.parent, self.log.path)
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

    def record(self, rows: Sequence[BaseModel | Mapping[str, Any]], scores: Sequence[Any],
               labels: Sequence[Any] | None = None) -> list[str]:
        """Log and remember one model call; returns a new request id per row.

        By model kind, ``scores`` are the positive-class probabilities (binary), each row's
        class probabilities in the order of ``classes`` (multiclass) or the predicted values
        (regression); ``labels`` the predicted classes (none for regression).
        ``rows`` must not change afterwards: the monitor's thread reads them later.
        """
        ids = self.request_ids(len(rows))
        kind = self.kind
        if labels is None:
            labels = [None] * len(rows)
        if kind == BINARY:
            for p in scores:
                self._histogram.observe(p)
        positive = self.positive_label
        with self._lock:
            memory = self.memory
            for rid, p, label in zip(ids, scores, labels, strict=True):
                if kind == BINARY:
                    memory[rid] = (p, int(label == positive), False)
                elif kind == MULTICLASS:
                    memory[rid] = (0.0, label, False)
                else:
                    memory[rid] = (p, p, False)
            while len(memory) > self.config.memory:
                memory.popitem(last=False)
        self._calls.append((rows, ids, scores, labels, time.time()))
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
        outcomes: list[Any] = []
        for call_rows, ids, scores, labels, timestamp in calls:
            plain = [dict(r.__dict__) if isinstance(r, BaseModel) else dict(r) for r in call_rows]
            rows.extend(plain)
            outcomes.extend(labels if self.kind == MULTICLASS else scores)
            if self.log is not None:
                when = datetime.fromtimestamp(timestamp, UTC).isoformat()
                lines.extend(
                    json.dumps({"request_id": rid, "timestamp": when,
                                "model_version": self.model_version, "inputs": row,
                                **self._logged(p, label)})
                    for rid, row, p, label in zip(ids, plain, scores, labels, strict=True)
                )
        if lines:
            self.log.write(lines)  # type: ignore[union-attr]
        if self.window is None and self.prediction_window is None:
            return
        self._pending.extend(rows)
        self._pending_outcomes.extend(outcomes)
        if len(self._pending) >= self.config.update_every:
            # taken first: a failure loses only these
            due, self._pending = self._pending, []
            due_outcomes, self._pending_outcomes = self._pending_outcomes, []
            if self.window is not None:
                self._update_drift(due)
            if self.prediction_window is not None:
                self._update_prediction_drift(due_outcomes)

    def _logged(self, score: Any, label: Any) -> dict[str, Any]:
        """A prediction as its log line holds it (the fields of the service's answer)."""
        if self.kind == BINARY:
            return {"probability": score, "label": label}
        if self.kind == MULTICLASS:
            return {"label": label, "probabilities": dict(zip(self.classes, score, strict=True))}
        return {"prediction": score}

    def _update_prediction_drift(self, outcomes: list[Any]) -> None:
        """Slide the prediction window over ``outcomes``, set its gauges."""
        assert self.prediction_window is not None
        self.prediction_window.add([{PREDICTION: x} for x in outcomes])
        psi, js, _ = self.prediction_window.statistics()
        metrics = instruments()
        metrics["prediction_psi"].labels(self.model_version).set(psi[0])
        metrics["prediction_js"].labels(self.model_version).set(js[0])

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
        unseen, overlap = self.window.token_statistics()
        for k, feature in enumerate(self.window.features):
            if feature in self.window.tokens:
                metrics["unseen_tokens"].labels(feature, self.model_version).set(unseen[k])
                metrics["token_overlap"].labels(feature, self.model_version).set(overlap[k])
        drifted = self.window.drifted(psi, rows_per_feature, unseen)
        metrics["drifted"].labels(self.model_version).set(int(drifted.sum()))
        metrics["window_rows"].labels(self.model_version).set(len(self.window))
        metrics["updates"].labels(self.model_version).inc()

    def feedback(self, labels: Sequence[tuple[str, Any]]) -> dict[str, float]:
        """Match true labels to earlier request ids; update the live performance gauges.

        The labels of the model's kind (:func:`nbprod.monitoring.live_scores.check_labels`: 0/1, a
        class, a finite number). All or nothing: unknown (or forgotten) ids, ids labelled
        before or twice in ``labels``, and labels of the wrong kind raise
        :class:`FeedbackError` naming them, and nothing is recorded.
        """
        check_labels(self.kind, self.classes, labels)
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
                score, predicted, _ = self.memory[rid]
                self.memory[rid] = (score, predicted, True)
                self.labelled.append((score, predicted,
                                      int(truth) if self.kind == BINARY else truth))
            scores = kind_scores(self.kind, list(self.labelled))
        metrics = instruments()
        for name in (*SCORES[self.kind], "labelled"):
            metrics[name].labels(self.model_version).set(scores[name])
        return {"accepted": len(labels), **scores}

    def _adopt(self, ids: Sequence[str]) -> None:
        """Remember the predictions of ``ids`` that another worker of this model answered
        (its log file). A prediction of another model (another project, or the version
        before a promotion, sharing the folder) is refused: its label is not this model's."""
        if self.siblings is None:
            return
        with self._lock:
            missing = [rid for rid in ids if rid not in self.memory]
        found = self.siblings.find(missing) if missing else {}
        others = {rid: str(r.get("model_version")) for rid, r in found.items()
                  if r.get("model_version") != self.model_version}
        if others:
            raise FeedbackError(
                f"request id(s) {sorted(others)} were answered by {sorted(set(others.values()))}"
                f", not by {self.model_version}: their labels belong to that model; no label "
                "was recorded")
        try:
            adopted = {rid: self._remembered(record) for rid, record in found.items()}
        except (KeyError, TypeError, ValueError):
            raise FeedbackError(f"the logged prediction(s) of {sorted(found)} cannot be read; "
                                "no label was recorded") from None
        with self._lock:
            for rid, remembered in adopted.items():
                self.memory.setdefault(rid, remembered)

    def _remembered(self, record: Mapping[str, Any]) -> tuple:
        """A logged prediction as the feedback memory holds it (as :meth:`record` does)."""
        if self.kind == BINARY:
            return (record["probability"], int(record["label"] == self.positive_label), False)
        if self.kind == MULTICLASS:
            return (0.0, record["label"], False)
        return (record["prediction"], record["prediction"], False)

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
