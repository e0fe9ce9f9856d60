"""Admission by expected waiting time: take a request only if it will be answered in time.

A fixed number of request slots says nothing about time: 256 slots on one model thread held
far more work than it finished within a client's timeout, so under twice that load most
clients timed out instead of being refused. :class:`Admission` estimates how long a new
request would take, from what the worker is doing now:

    expected time = (requests in progress + 1) x time per place

where the *time per place* is measured on the answers themselves: the worker's busy clock
(seconds with at least one request in progress) is read at each answer, and the time per
place is a high quantile (``QUANTILE``, the 99th percentile) over the last ``WINDOW``
answers of the busy time that ``n`` consecutive answers took, divided by ``n``, where ``n``
is the queue a request meets now (those in progress, plus one, at most ``MAX_SPAN``). With
one request at a time that is the high quantile of the time ``n`` requests take one after
another; with adaptive batching many answers come out of one model call, and the time per
place falls accordingly; a request admitted to an idle worker just before a crowd does not
pass for one that took a whole batch's time alone. A quantile, not a mean: with a mean, a
request admitted near the bound is late about every other time, since the model's time per
request varies from one request to the next, and more on a shared machine. The answers are
timed as the guard sees them (waiting for the model thread, the model call, the JSON
encoding, the event loop's other work), so nothing needs to be modelled.

A request whose expected time passes ``max_wait`` is refused at once, with ``Retry-After``
saying when the queue ahead of it will have drained; every admitted one is expected within
``max_wait``. An idle worker always takes a request (that is how an estimate inflated by a
stall comes down again). Until a first sample exists, and always, at most
``max_concurrency`` requests are in progress.

An estimate is only an estimate: the model's time varies, the machine is shared, a stall
comes without warning. So the bound is also a deadline: an admitted request whose answer has not
started within ``max_wait`` is refused then, by the guard (:mod:`nbprod.serving.guard`), like one
refused at admission (429 with ``Retry-After``). Every admitted request is answered
within the bound, by its answer or by a refusal; the estimate keeps those late refusals rare.
A late refusal is not an answer: :meth:`Admission.done` leaves it out of the busy clock's
samples, which would otherwise price a place at the time a refusal took.

Pure bookkeeping (no I/O, no threads): the guard calls :meth:`Admission.admit` and
:meth:`Admission.done` from its event loop; ``clock`` is injectable for tests.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """The answer to one request: admitted (at ``at``, behind ``ahead`` others), or refused
    with the seconds to wait."""

    admitted: bool
    expected: float
    retry_after: int = 0
    ahead: int = 0
    at: float = 0.0


class Admission:
    """Requests in progress, the measured time per place, and the admission rule."""

    #: The quantile of the spans taken as the time per place.
    QUANTILE = 0.99
    #: How many recent answers the spans are taken from.
    WINDOW = 128
    #: The longest span, in answers (a longer queue is extrapolated from it).
    MAX_SPAN = 32
    #: The estimates are recomputed after this many answers.
    EVERY = 4

    def __init__(self, max_wait: float, max_concurrency: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.max_concurrency = max_concurrency
        self.clock = clock
        self.in_flight = 0
        self._first: float | None = None  # the first answer's time per place
        self._busy = 0.0  # busy seconds before the current busy period
        self._busy_since: float | None = None  # when the current busy period began
        self._marks: deque[float] = deque(maxlen=self.WINDOW + 1)  # busy clock at each answer
        self._per_place: dict[int, float] = {}  # span -> time per place, since the last refresh
        self._fresh = 0  # answers since the cache was emptied

    @property
    def service_time(self) -> float | None:
        """Seconds per place for the queue a request meets now (None before any answer)."""
        if len(self._marks) < 2:
            return self._first
        span = max(1, min(self.in_flight + 1, self.MAX_SPAN, len(self._marks) - 1))
        if span not in self._per_place:
            marks = self._marks
            self._per_place[span] = quantile(
                [(marks[i + span] - marks[i]) / span for i in range(len(marks) - span)],
                self.QUANTILE)
        return self._per_place[span]

    def expected(self) -> float:
        """Seconds a request admitted now is expected to take (0 before any answer)."""
        return (self.in_flight + 1) * (self.service_time or 0.0)

    def admit(self) -> Verdict:
        """Admit one request (count it in progress) or refuse it."""
        expected = self.expected()
        busy = self.in_flight > 0  # an idle worker takes a request whatever the estimate
        if self.in_flight >= self.max_concurrency or (busy and expected > self.max_wait):
            return Verdict(False, expected, max(1, math.ceil(expected - self.max_wait)))
        now = self.clock()
        verdict = Verdict(True, expected, ahead=self.in_flight, at=now)
        if not busy:
            self._busy_since = now
        self.in_flight += 1
        return verdict

    def done(self, verdict: Verdict, answered: bool = True) -> None:
        """The request admitted with ``verdict`` finished: answered (or failed), or, with
        ``answered=False``, given up at its deadline (not a sample of the time per place)."""
        now = self.clock()
        since = self._busy_since if self._busy_since is not None else now
        if answered:
            self._marks.append(self._busy + now - since)
        self.in_flight -= 1
        if self.in_flight == 0:
            self._busy += now - since
            self._busy_since = None
        if self._first is None and answered:
            self._first = (now - verdict.at) / (verdict.ahead + 1)
        self._fresh += 1
        if self._fresh >= self.EVERY:
            self._per_place.clear()
            self._fresh = 0


def quantile(values, q: float) -> float:
    """The ``q`` quantile of ``values`` (the smallest value with a share ``q`` at or below it)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
