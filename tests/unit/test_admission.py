"""nbprod.admission with a hand-driven clock: the measured service time and the rule."""

from __future__ import annotations

from nbprod.admission import Admission


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def serve(admission: Admission, clock: Clock, n: int, each: float) -> None:
    """``n`` requests one after another, ``each`` seconds apiece."""
    for _ in range(n):
        assert admission.admit().admitted
        clock.now += each
        admission.done()


def test_admits_everything_up_to_the_cap_before_it_has_measured():
    admission = Admission(max_wait=1.0, max_concurrency=3, clock=Clock())
    assert [admission.admit().admitted for _ in range(4)] == [True, True, True, False]


def test_the_service_time_is_busy_time_per_completion():
    clock = Clock()
    admission = Admission(max_wait=1.0, max_concurrency=1000, clock=clock)
    serve(admission, clock, 16, 0.01)
    assert abs(admission.service_time - 0.01) < 1e-12
    # four at a time, each batch of four done in 0.01 s: 0.0025 s per request
    for _ in range(8):
        for _ in range(4):
            admission.admit()
        clock.now += 0.01
        for _ in range(4):
            admission.done()
    assert admission.service_time < 0.01 * 0.5


def test_refuses_past_the_expected_wait_with_retry_after():
    clock = Clock()
    admission = Admission(max_wait=0.55, max_concurrency=1000, clock=clock)
    serve(admission, clock, 16, 0.1)  # 0.1 s per request: 5 fit in 0.55 s
    verdicts = [admission.admit() for _ in range(8)]
    assert [v.admitted for v in verdicts] == [True] * 5 + [False] * 3
    assert all(v.expected <= 0.55 for v in verdicts[:5])
    assert verdicts[-1].retry_after == 1  # (5 + 1) x 0.1 - 0.55, rounded up
    clock.now += 0.1
    admission.done()
    assert admission.admit().admitted  # one left: room for one


def test_an_idle_worker_takes_a_request_so_an_inflated_estimate_comes_down():
    clock = Clock()
    admission = Admission(max_wait=0.5, max_concurrency=1000, clock=clock)
    serve(admission, clock, 1, 5.0)  # one very slow request: 5 s per request
    assert admission.service_time == 5.0
    assert admission.admit().admitted  # idle: taken
    assert not admission.admit().admitted  # busy and 2 x 5 s > 0.5 s
    clock.now += 0.01
    admission.done()
    serve(admission, clock, 160, 0.01)  # ten samples: the slow one has faded
    assert admission.service_time < 0.02
