"""nbprod.serving.batcher: concurrent records share a model call, a failing record fails alone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from nbprod.serving.batcher import Batcher


class Model:
    """Doubles numbers, one call at a time, ``hold`` keeps the first call running; records
    equal to ``bad`` make a call raise."""

    def __init__(self, bad=None) -> None:
        self.calls: list[list] = []
        self.hold = threading.Event()
        self.bad = bad

    def __call__(self, rows: list) -> list:
        self.calls.append(list(rows))
        if len(self.calls) == 1:
            self.hold.wait(5)
        if self.bad in rows:
            raise ValueError(f"bad record {self.bad}")
        return [2 * r for r in rows]


def behind_a_held_call(model: Model, max_size: int, first, rest, meanwhile=None):
    """``first`` sent alone (its model call held), then ``rest`` while it runs; ``meanwhile``
    called with the batcher and the futures of ``rest`` before the call is let go. Returns
    the first answer and the others' (an exception in place of an answer)."""
    async def run():
        batcher = Batcher(model, max_size=max_size)
        one = asyncio.ensure_future(batcher(first))
        await asyncio.sleep(0.05)  # the first call is running, held
        others = [asyncio.ensure_future(batcher(r)) for r in rest]
        await asyncio.sleep(0.05)
        if meanwhile is not None:
            meanwhile(batcher, others)
        model.hold.set()
        return await one, await asyncio.wait_for(asyncio.gather(*others, return_exceptions=True), 5)
    return asyncio.run(run())


def test_one_record_alone_is_one_call_and_records_arriving_meanwhile_share_the_next():
    model = Model()
    first, rest = behind_a_held_call(model, 100, 1, range(2, 7))
    assert (first, rest) == (2, [4, 6, 8, 10, 12])
    assert model.calls == [[1], [2, 3, 4, 5, 6]]


def test_a_batch_holds_at_most_max_size_records():
    model = Model()
    first, rest = behind_a_held_call(model, 2, 0, range(1, 6))
    assert [first, *rest] == [0, 2, 4, 6, 8, 10]
    assert model.calls == [[0], [1, 2], [3, 4], [5]]


def test_a_record_that_fails_fails_alone_and_a_given_up_one_is_left_out():
    model = Model(bad=3)
    # the first of the rest is given up: its client's deadline passed while it waited
    first, (gone, two, three, four) = behind_a_held_call(
        model, 100, 1, (99, 2, 3, 4), lambda _, others: others[0].cancel())
    assert (first, two, four) == (2, 4, 8)
    assert isinstance(gone, asyncio.CancelledError)
    assert isinstance(three, ValueError) and str(three) == "bad record 3"
    assert [2, 3, 4] in model.calls and [3] in model.calls  # together, then one by one
    assert all(99 not in call for call in model.calls)


@pytest.mark.parametrize("n", [1, 50])
def test_every_answer_goes_to_its_own_record(n):
    model = Model()
    model.hold.set()

    async def run():
        batcher = Batcher(model, max_size=8)
        return await asyncio.gather(*(batcher(i) for i in range(n)))

    assert asyncio.run(run()) == [2 * i for i in range(n)]


def test_after_close_a_waiting_record_gets_an_error_not_a_hang():
    model = Model()
    # the worker shuts down while a record waits
    first, (waiting,) = behind_a_held_call(model, 100, 1, [2], lambda b, _: b.close())
    assert first == 2
    assert isinstance(waiting, RuntimeError), waiting
