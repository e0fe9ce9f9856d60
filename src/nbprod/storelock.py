"""One lock per model name in the model store, saying who holds it.

Registering, promoting and rolling back a model change several ``model.yaml`` files;
they hold the lock of the model's name (a ``flock`` on
``$BENTOML_HOME/nbprod-locks/NAME.lock``), so two ``ploomber build`` runs, or a build
and an ``nbprod promote``, change the store one after the other. The holder writes
its process id and what it is doing into the lock file; a process that has to wait
logs, at WARNING, what it waits for. The kernel releases a ``flock`` when its holder
dies, so a killed build never leaves the lock taken.

The lock is re-entrant within a process: a registration that promotes takes it once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_DIR = "nbprod-locks"
_held: dict[str, int] = {}
_guard = threading.RLock()


def lock_path(name: str) -> Path:
    from .registry import bentoml_home

    return Path(bentoml_home()) / LOCK_DIR / f"{name}.lock"


@contextmanager
def model_lock(name: str, purpose: str) -> Iterator[None]:
    """Hold the lock of model ``name`` for ``purpose`` (shown to whoever waits for it)."""
    with _guard:  # threads of one process share the flock: serialise them here
        if _held.get(name):
            _held[name] += 1
            try:
                yield
            finally:
                _held[name] -= 1
            return
        path = lock_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf8") as fh:
            _acquire(fh, name, purpose)
            _held[name] = 1
            try:
                fh.seek(0)
                fh.truncate()
                fh.write(f"pid {os.getpid()}: {purpose}\n")
                fh.flush()
                yield
            finally:
                _held.pop(name, None)
                fh.seek(0)
                fh.truncate()
                fh.flush()
                fcntl.flock(fh, fcntl.LOCK_UN)


def _acquire(fh, name: str, purpose: str) -> None:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    fh.seek(0)
    holder = fh.read().strip() or "another process"
    log.warning("model %s is locked by %s (%s); waiting for it before: %s",
                name, holder, lock_path(name), purpose)
    started = time.monotonic()
    fcntl.flock(fh, fcntl.LOCK_EX)
    log.warning("model %s: lock acquired after %.1f s; now: %s",
                name, time.monotonic() - started, purpose)
