"""Batching for the single-record route: concurrent ``/predict`` requests share a model call.

BentoML batches only an API whose input is itself a batch (``/predict_batch``, a list), so
``/predict`` made one model call per request: under load its queue grew by a whole model call
per client, admission (:mod:`nbprod.serving.admission`) refused most of them, and the answered share
fell to a fraction of what the same model gave through ``/predict_batch`` (BENCHMARKS.md).
:class:`Batcher` gives ``/predict`` the rule :func:`nbprod.compat.bentoml.greedy_batching`
gives BentoML's batcher: a batch leaves as soon as the model is free, with every record that
arrived meanwhile (at most ``max_size``). With one client that is one record per call, as
before: nothing waits for a batch to fill.

The model call runs on one thread of its own, off the event loop. A batch that raises is
tried again record by record, so a record that fails fails alone. A request given up while
it waited (its deadline, a client gone) is left out of the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class Batcher:
    """``await batcher(record)``: the answer of ``predict([... record ...])`` for it."""

    def __init__(self, predict: Callable[[list[Any]], list[Any]], max_size: int) -> None:
        self.predict = predict
        self.max_size = max_size
        self._waiting: list[tuple[Any, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None  # held: the loop keeps only weak references
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="nbprod-batcher")

    async def __call__(self, record: Any) -> Any:
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._waiting.append((record, answer))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        """Model calls one after another while records wait, each with all that wait."""
        try:
            while self._waiting:
                batch = [(r, a) for r, a in self._waiting[:self.max_size] if not a.done()]
                del self._waiting[:self.max_size]
                if batch:
                    await self._call(batch)
        finally:
            self._drainer = None
            for _, answer in self._waiting:  # stopped (the worker shutting down): none hangs
                _settle(answer, error=RuntimeError("the model's batcher stopped"))
            self._waiting.clear()

    async def _call(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            answers = await loop.run_in_executor(self._thread, self.predict,
                                                 [r for r, _ in batch])
        except Exception as exc:  # noqa: BLE001 - each record's own error, below
            if len(batch) == 1:
                _settle(batch[0][1], error=exc)
                return
            for one in batch:  # the one that fails fails alone
                await self._call([one])
            return
        for (_, answer), value in zip(batch, answers, strict=True):
            _settle(answer, value)

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


def _settle(answer: asyncio.Future, value: Any = None, error: BaseException | None = None) -> None:
    if answer.done():  # given up while the model ran
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(value)
