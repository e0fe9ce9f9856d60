"""nbprod.batcher: concurrent records share a model call, a failing record fails alone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from nbprod.batcher import Batcher


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


def test_one_record_alone_is_one_call_and_records_arriving_meanwhile_share_the_next():
    model = Model()

    async def run():
        batcher = Batcher(model, max_size=100)
        first = asyncio.ensure_future(batcher(1))
        await asyncio.sleep(0.05)  # the first call is running, held
        rest = [asyncio.ensure_future(batcher(i)) for i in range(2, 7)]
        await asyncio.sleep(0.05)
        model.hold.set()
        return await first, await asyncio.gather(*rest)

    first, rest = asyncio.run(run())
    assert (first, rest) == (2, [4, 6, 8, 10, 12])
    assert model.calls == [[1], [2, 3, 4, 5, 6]]


def test_a_batch_holds_at_most_max_size_records():
    model = Model()

    async def run():
        batcher = Batcher(model, max_size=2)
        first = asyncio.ensure_future(batcher(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(batcher(i)) for i in range(1, 6)]
        await asyncio.sleep(0.05)
        model.hold.set()
        return [await first, *await asyncio.gather(*rest)]

    assert asyncio.run(run()) == [0, 2, 4, 6, 8, 10]
    assert model.calls == [[0], [1, 2], [3, 4], [5]]


def test_a_record_that_fails_fails_alone_and_a_given_up_one_is_left_out():
    model = Model(bad=3)

    async def run():
        batcher = Batcher(model, max_size=100)
        first = asyncio.ensure_future(batcher(1))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(batcher(99))
        rest = [asyncio.ensure_future(batcher(i)) for i in (2, 3, 4)]
        await asyncio.sleep(0.05)
        gone.cancel()  # its client's deadline passed while it waited
        model.hold.set()
        return await first, await asyncio.gather(*rest, return_exceptions=True)

    first, (two, three, four) = asyncio.run(run())
    assert (first, two, four) == (2, 4, 8)
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

    async def run():
        batcher = Batcher(model, max_size=100)
        first = asyncio.ensure_future(batcher(1))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(batcher(2))
        await asyncio.sleep(0.05)
        batcher.close()  # the worker shuts down
        model.hold.set()
        return await first, await asyncio.wait_for(asyncio.gather(waiting, return_exceptions=True), 5)

    first, (waiting,) = asyncio.run(run())
    assert first == 2
    assert isinstance(waiting, RuntimeError), waiting
