"""Admission by expected waiting time: take a request only if it will be answered in time.

A fixed number of request slots says nothing about time: 256 slots on one model thread held
far more work than it finished within a client's timeout, so under twice that load most
clients timed out instead of being refused. :class:`Admission` estimates how long a new
request would take, from what the worker is doing now:

    expected time = (requests in progress + 1) x time per place

where the *time per place* is measured on the requests themselves: each admitted request
records how many were in progress ahead of it, and when it is done, its time from admission
to answer divided by its place in the queue (ahead + 1) is one sample. The estimate is a
high quantile (``QUANTILE``, the 99th percentile) of the last ``WINDOW`` samples, not their
mean: with a mean, a request admitted near the bound is late about every other time, since
the model's time per request varies from one request to the next, and more on a shared
machine. The samples are whole answers as the guard sees them (waiting for the model thread,
the model call, the JSON encoding, the event loop's other work), so nothing needs to be
modelled; with adaptive batching many requests share a model call and the time per place
falls accordingly.

A request whose expected time passes ``max_wait`` is refused at once, with ``Retry-After``
saying when the queue ahead of it will have drained; every admitted one is expected within
``max_wait``. An idle worker always takes a request (that is how an estimate inflated by a
stall comes down again). Until a first sample exists, and always, at most
``max_concurrency`` requests are in progress.

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

    #: The quantile of the samples taken as the time per place.
    QUANTILE = 0.99
    #: How many recent samples it is taken from.
    WINDOW = 128
    #: The estimate is recomputed after this many samples.
    EVERY = 4

    def __init__(self, max_wait: float, max_concurrency: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.max_concurrency = max_concurrency
        self.clock = clock
        self.in_flight = 0
        self.service_time: float | None = None  # seconds per place in the queue
        self._samples: deque[float] = deque(maxlen=self.WINDOW)
        self._fresh = 0  # samples since the estimate was computed

    def expected(self) -> float:
        """Seconds a request admitted now is expected to take (0 before any sample)."""
        return (self.in_flight + 1) * (self.service_time or 0.0)

    def admit(self) -> Verdict:
        """Admit one request (count it in progress) or refuse it."""
        expected = self.expected()
        busy = self.in_flight > 0  # an idle worker takes a request whatever the estimate
        if self.in_flight >= self.max_concurrency or (busy and expected > self.max_wait):
            return Verdict(False, expected, max(1, math.ceil(expected - self.max_wait)))
        verdict = Verdict(True, expected, ahead=self.in_flight, at=self.clock())
        self.in_flight += 1
        return verdict

    def done(self, verdict: Verdict) -> None:
        """The request admitted with ``verdict`` finished (answered, timed out or failed)."""
        self.in_flight -= 1
        self._samples.append((self.clock() - verdict.at) / (verdict.ahead + 1))
        self._fresh += 1
        if self.service_time is None or self._fresh >= self.EVERY:
            self.service_time = quantile(self._samples, self.QUANTILE)
            self._fresh = 0


def quantile(values, q: float) -> float:
    """The ``q`` quantile of ``values`` (the smallest value with a share ``q`` at or below it)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
