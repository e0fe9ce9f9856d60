"""Admission by expected waiting time: take a request only if it will be answered in time.

A fixed number of request slots says nothing about time: 256 slots on one model thread held
far more work than it finished within a client's timeout, so under twice that load most
clients timed out instead of being refused (issue 15, item 5). :class:`Admission` estimates
how long a new request would take, from what the worker is doing now:

    expected time = (requests in progress + 1) x service time per request

where the *service time* is measured, not configured: the time the worker was busy (at least
one request in progress) divided by the requests it finished in that time, per sample of
``SAMPLE_COMPLETIONS`` completions, smoothed over recent samples (an exponentially weighted
mean). With adaptive batching many requests share a
model call, and the measured service time per request falls accordingly. A request whose
expected time passes ``max_wait`` is refused at once, with ``Retry-After`` saying when the
queue ahead of it will have drained; every admitted one is expected within ``max_wait``.
An idle worker always takes a request. Until a first sample exists, and always, at most
``max_concurrency`` requests are in progress.

Pure bookkeeping (no I/O, no threads): the guard calls :meth:`Admission.admit` and
:meth:`Admission.done` from its event loop; ``clock`` is injectable for tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """The answer to one request: admitted, or refused with the seconds to wait."""

    admitted: bool
    expected: float
    retry_after: int = 0


class Admission:
    """Requests in progress, the measured service time, and the admission rule."""

    #: Weight of a new sample in the service-time mean.
    ALPHA = 0.5
    #: A sample closes after this many completions or this many busy seconds.
    SAMPLE_COMPLETIONS = 16
    SAMPLE_SECONDS = 0.25

    def __init__(self, max_wait: float, max_concurrency: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.max_concurrency = max_concurrency
        self.clock = clock
        self.in_flight = 0
        self.service_time: float | None = None
        self._busy = 0.0  # busy seconds in the open sample
        self._done = 0  # completions in the open sample
        self._since = clock()  # start of the current busy stretch (when in_flight > 0)

    def expected(self) -> float:
        """Seconds a request admitted now is expected to take (0 before any sample)."""
        return (self.in_flight + 1) * (self.service_time or 0.0)

    def admit(self) -> Verdict:
        """Admit one request (count it in progress) or refuse it."""
        expected = self.expected()
        busy = self.in_flight > 0  # an idle worker takes a request whatever the estimate:
        # that is how an estimate inflated by one slow request comes down again
        if self.in_flight >= self.max_concurrency or (busy and expected > self.max_wait):
            return Verdict(False, expected, max(1, math.ceil(expected - self.max_wait)))
        self._account()
        self.in_flight += 1
        return Verdict(True, expected)

    def done(self) -> None:
        """One admitted request finished (answered, timed out or failed)."""
        self._account()
        self.in_flight -= 1
        self._done += 1
        if self._done >= self.SAMPLE_COMPLETIONS or self._busy >= self.SAMPLE_SECONDS:
            sample = self._busy / self._done
            previous = self.service_time
            # smoothed both ways: following each slower sample at once made one stalled
            # sample (the process not scheduled for a moment) refuse a whole burst
            self.service_time = sample if previous is None else (
                self.ALPHA * sample + (1 - self.ALPHA) * previous)
            self._busy, self._done = 0.0, 0

    def _account(self) -> None:
        """Add the busy time since the last event to the open sample."""
        now = self.clock()
        if self.in_flight > 0:
            self._busy += now - self._since
        self._since = now
