"""File locks that say who holds them: one per model name, one per project's build.

Registering, promoting and rolling back a model change several ``model.yaml`` files;
they hold the lock of the model's name (:func:`model_lock`, a ``flock`` on
``$BENTOML_HOME/nbprod-locks/NAME.lock``), so two ``ploomber build`` runs, or a build
and an ``nbprod promote``, change the store one after the other.

Two ``ploomber build`` runs in one project folder would also write the same products at
once; a build executes its tasks holding the project's lock (:func:`build_lock`, on
``$XDG_STATE_HOME/nbprod/builds/FOLDER-HASH.lock``, see :mod:`nbprod.pipeline.hooks`), so the second
build waits for the first and then finds its products up to date.

The holder writes its process id and what it is doing into the lock file; a process that
has to wait logs, at WARNING, what it waits for. The kernel releases a ``flock`` when its
holder dies, so a killed build never leaves a lock taken. Each lock is re-entrant within
a process: a registration that promotes takes the model's lock once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_DIR = "nbprod-locks"
_held: dict[Path, int] = {}
_guard = threading.RLock()


def lock_path(name: str) -> Path:
    from .store import bentoml_home

    return Path(bentoml_home()) / LOCK_DIR / f"{name}.lock"


def build_lock_path(project: Path) -> Path:
    """The lock file of the builds of the project in folder ``project`` (outside it)."""
    folder = Path(project).resolve()
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    state = os.environ.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state and Path(state).is_absolute() else Path.home() / ".local/state"
    return base / "nbprod" / "builds" / f"{folder.name}-{digest}.lock"


def model_lock(name: str, purpose: str):
    """Hold the lock of model ``name`` for ``purpose`` (shown to whoever waits for it);
    yields whether it had to wait."""
    return _locked(lock_path(name), f"model {name}", purpose)


def build_lock(project: Path, purpose: str):
    """Hold the build lock of the project in folder ``project`` for ``purpose``; yields
    whether it had to wait (another build held it)."""
    return _locked(build_lock_path(project), f"project {Path(project).resolve()}", purpose)


@contextmanager
def _locked(path: Path, what: str, purpose: str) -> Iterator[bool]:
    with _guard:  # threads of one process share the flock: serialise them here
        if _held.get(path):
            _held[path] += 1
            try:
                yield False
            finally:
                _held[path] -= 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf8") as fh:
            waited = _acquire(fh, path, what, purpose)
            _held[path] = 1
            try:
                fh.seek(0)
                fh.truncate()
                fh.write(f"pid {os.getpid()}: {purpose}\n")
                fh.flush()
                yield waited
            finally:
                _held.pop(path, None)
                fh.seek(0)
                fh.truncate()
                fh.flush()
                fcntl.flock(fh, fcntl.LOCK_UN)


def _acquire(fh, path: Path, what: str, purpose: str) -> bool:
    """Take the flock of ``fh``; True when another process held it (and we waited)."""
    holder = _holder(fh)
    if holder is None:
        return False
    log.warning("%s is locked by %s (%s); waiting for it before: %s", what, holder, path, purpose)
    started = time.monotonic()
    fcntl.flock(fh, fcntl.LOCK_EX)
    log.warning("%s: lock acquired after %.1f s; now: %s", what, time.monotonic() - started,
                purpose)
    return True


def _holder(fh, patience: float = 2.0) -> str | None:
    """None once the flock of ``fh`` is ours; else the holder's line in the lock file. The
    holder writes that line just after taking the flock, so a waiter that came in between
    reads it empty: try again for up to ``patience`` seconds before calling it anonymous."""
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            pass
        fh.seek(0)
        line = fh.read().strip()
        if line or time.monotonic() > deadline:
            return line or "another process"
        time.sleep(0.02)
