"""The event-loop path for single rows: a lone ``/predict`` scored without the thread hop.

BentoML 1.4 runs every synchronous API in its worker thread (``anyio.to_thread.run_sync``
under a ``CapacityLimiter`` of ``threads``) and wakes the event loop with the answer
(``call_soon_threadsafe`` through the loop's self-pipe). At one client that hop took 10% of
the worker's samples (BENCHMARKS.md, "Where the one-client time goes").

With ``$NBPROD_INLINE_SINGLE=1`` (:func:`inline_single_rows`), a function marked with
:func:`inlinable` (the service's ``/predict``) is called directly on the event loop when the
worker's model is idle: no call in (or waiting for) BentoML's model thread, and no other
request admitted by the guard (:data:`nbprod.guard.ADMISSION`: the request itself is the only
one in progress, so nothing is queued in the batcher either). Otherwise it takes BentoML's
path unchanged. Everything before and after the call (parsing, validation, the answer, the
prediction log, errors) is BentoML's and the service's own code either way. Without the guard
(no admission in the request's context) nothing is inlined.

The cost: the model call blocks the event loop for its duration, so a health check or a
request that arrives meanwhile is read only after it.

This patches ``ServiceAppFactory._to_thread``, a private method of BentoML 1.4.40
(``_bentoml_impl.server.app``); nothing here imports BentoML at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .guard import ADMISSION

#: Set to 1 (or true, on) to score a lone /predict on the event loop.
INLINE_ENV = "NBPROD_INLINE_SINGLE"
#: The attribute that marks a function as one the event loop may call itself.
MARK = "_nbprod_inline"

F = TypeVar("F", bound=Callable[..., Any])


def inlinable(func: F) -> F:
    """Mark ``func`` (a synchronous API function) as one to call on the event loop when idle.

    BentoML wraps an API function with :func:`functools.wraps`, which copies the mark."""
    setattr(func, MARK, True)
    return func


def idle(limiter: Any) -> bool:
    """Whether the model is free: nothing in or waiting for BentoML's model thread
    (``limiter``, None before its first use) and no other request in progress at the guard."""
    admission = ADMISSION.get()
    if admission is None or admission.in_flight > 1:
        return False
    if limiter is None:
        return True
    return limiter.borrowed_tokens == 0 and limiter.statistics().tasks_waiting == 0


def inline_single_rows() -> None:
    """Call marked functions on the event loop when the model is idle (idempotent)."""
    from _bentoml_impl.server.app import ServiceAppFactory  # type: ignore[import-untyped]

    from .compat import written_for

    written_for("bentoml", "1.4.40", "nbprod.inline.inline_single_rows")
    if getattr(ServiceAppFactory._to_thread, MARK, False):
        return
    to_thread = ServiceAppFactory._to_thread

    async def _to_thread(self: Any, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if getattr(func, MARK, False) and idle(self._limiter):
            return func(*args, **kwargs)
        return await to_thread(self, func, *args, **kwargs)

    setattr(_to_thread, MARK, True)
    ServiceAppFactory._to_thread = _to_thread
