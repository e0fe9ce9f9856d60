"""nbprod.serving.admission with a hand-driven clock: the measured time per place and the rule."""

from __future__ import annotations

from nbprod.serving.admission import Admission


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def serve(admission: Admission, clock: Clock, n: int, each: float) -> None:
    """``n`` requests one after another, ``each`` seconds apiece."""
    for _ in range(n):
        verdict = admission.admit()
        assert verdict.admitted
        clock.now += each
        admission.done(verdict)


def test_admits_everything_up_to_the_cap_before_it_has_measured():
    admission = Admission(max_wait=1.0, max_concurrency=3, clock=Clock())
    assert [admission.admit().admitted for _ in range(4)] == [True, True, True, False]


def test_the_time_per_place_is_a_request_s_time_over_its_place_in_the_queue():
    clock = Clock()
    admission = Admission(max_wait=1.0, max_concurrency=1000, clock=clock)
    serve(admission, clock, 16, 0.01)
    assert abs(admission.service_time - 0.01) < 1e-12
    # four at a time, all four answered 0.04 s after admission: places 1 to 4
    for _ in range(32):
        verdicts = [admission.admit() for _ in range(4)]
        assert [v.ahead for v in verdicts] == [0, 1, 2, 3]
        clock.now += 0.04
        for verdict in verdicts:
            admission.done(verdict)
    assert abs(admission.service_time - 0.04) < 1e-12  # the first place's: the highest


def test_the_estimate_is_a_high_quantile_not_the_mean():
    """One request in ten takes ten times as long (0.1 s against 0.01 s). A mean (0.019 s a
    place) would admit requests that the slow ones make late; the high quantile of the time
    a queue of that length took does not: every request it admits, served one after another
    as the pattern goes on, is answered within the bound."""
    clock = Clock()
    admission = Admission(max_wait=1.0, max_concurrency=1000, clock=clock)

    def each(i: int) -> float:
        return 0.1 if i % 10 == 0 else 0.01

    for i in range(120):
        serve(admission, clock, 1, each(i))
    admitted = 0
    while admission.admit().admitted:
        admitted += 1
    finished = [sum(each(120 + k) for k in range(n + 1)) for n in range(admitted)]
    assert max(finished) <= 1.0, (admitted, max(finished))
    mean = sum(each(i) for i in range(120)) / 120
    by_mean = int(1.0 / mean)  # what a mean would have admitted
    assert sum(each(120 + k) for k in range(by_mean)) > 1.0, by_mean
    assert admitted > 1.0 / 0.1  # and more than if every request were a slow one


def test_requests_sharing_a_batch_share_its_time():
    """Adaptive batching: 32 requests answered by one 0.3 s model call. A queue of 64 is two
    such calls (about 0.6 s), not 64 x 0.3 s: the crowd is admitted under a 5 s bound, and
    the estimate for it stays near the truth."""
    clock = Clock()
    admission = Admission(max_wait=5.0, max_concurrency=256, clock=clock)
    for _ in range(8):  # eight batches of 32, each answered together after 0.3 s
        verdicts = [admission.admit() for _ in range(32)]
        assert all(v.admitted for v in verdicts)
        clock.now += 0.3
        for verdict in verdicts:
            admission.done(verdict)
    crowd = [admission.admit() for _ in range(64)]
    assert all(v.admitted for v in crowd)
    assert 0.6 <= admission.expected() <= 2 * 0.6, admission.expected()


def test_refuses_past_the_expected_wait_with_retry_after():
    clock = Clock()
    admission = Admission(max_wait=0.55, max_concurrency=1000, clock=clock)
    serve(admission, clock, 16, 0.1)  # 0.1 s per request: 5 fit in 0.55 s
    verdicts = [admission.admit() for _ in range(8)]
    assert [v.admitted for v in verdicts] == [True] * 5 + [False] * 3
    assert all(v.expected <= 0.55 for v in verdicts[:5])
    assert verdicts[-1].retry_after == 1  # (5 + 1) x 0.1 - 0.55, rounded up
    clock.now += 0.1
    admission.done(verdicts[0])
    assert admission.admit().admitted  # one left: room for one


def test_an_idle_worker_takes_a_request_so_an_inflated_estimate_comes_down():
    clock = Clock()
    admission = Admission(max_wait=0.5, max_concurrency=1000, clock=clock)
    serve(admission, clock, 1, 5.0)  # one very slow request: 5 s per request
    assert admission.service_time == 5.0
    taken = admission.admit()
    assert taken.admitted  # idle: taken
    assert not admission.admit().admitted  # busy and 2 x 5 s > 0.5 s
    clock.now += 0.01
    admission.done(taken)
    serve(admission, clock, Admission.WINDOW, 0.01)  # a window later the slow one is gone
    assert admission.service_time < 0.02


def test_a_request_given_up_at_its_deadline_is_no_sample_of_the_time_per_place():
    """A late refusal takes no service time of its own: counted as an answer, every one
    would make the queue look faster (here twice: two answers in each 0.1 s)."""
    clock = Clock()
    admission = Admission(max_wait=1.0, max_concurrency=1000, clock=clock)
    for _ in range(40):  # each request answered in 0.1 s, one behind it given up meanwhile
        served, behind = admission.admit(), admission.admit()
        assert (served.ahead, behind.ahead) == (0, 1)
        admission.done(behind, answered=False)  # in the guard: at its deadline
        clock.now += 0.1
        admission.done(served)
    queue = [admission.admit() for _ in range(3)]  # a request now meets a queue of four
    assert len(queue) == admission.in_flight == 3
    assert abs(admission.service_time - 0.1) < 1e-9

