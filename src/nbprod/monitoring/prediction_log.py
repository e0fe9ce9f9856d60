"""The prediction log: where it lives, and a size-rotated JSON-lines file that never leaks.

**Where.** ``bentoml serve BENTO`` runs its workers with the working directory set to the
bento's ``src/`` inside the model store, so a relative log folder put customer inputs inside
the bento, and ``bentoml export`` carried them away. The folder is now
chosen by the operator (``$NBPROD_PREDICTION_LOG_DIR``, an absolute path) and defaults to
``$XDG_STATE_HOME/nbprod/predictions`` (``~/.local/state/nbprod/predictions``);
:func:`check_log_dir` refuses a relative folder, one inside the BentoML home (``$BENTOML_HOME``,
which holds the model store and the bentos) and one inside a bento. Each server instance
(worker process) writes its own file, :func:`instance_name`: two servers of one bento never
share a file, nor rotate each other's. Each model writes in a folder of its own under that
one, named after the model (:func:`model_log_dir`: ``.../predictions/<model name>/``), so
the logs of several projects on one machine do not mix; every line also names its
``model_version``.

**How.** :class:`PredictionLog` appends lines to an unbuffered file and rotates it by size
(``NAME.jsonl.1``, ``.2``, ... the oldest deleted). A failed write (a full disk, a vanished
folder) is undone to the last whole line, counted (:attr:`PredictionLog.lost`, and
``on_lost``, which the monitor turns into ``nbprod_prediction_log_lost_lines_total`` on
``/metrics``) and reported as one warning line, at most every ``WARN_EVERY`` seconds, naming
the file and the error but never a line's content. ``logging``'s file handlers printed a
traceback with the whole record, customer inputs included, to the server's log on every
failed write, and the lost lines were counted nowhere. Serving goes on either way.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ConfigError

log = logging.getLogger(__name__)

DIR_ENV = "NBPROD_PREDICTION_LOG_DIR"


def default_log_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/nbprod/predictions``, or ``~/.local/state/nbprod/predictions``."""
    env = os.environ if environ is None else environ
    state = env.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state and Path(state).is_absolute() else Path.home() / ".local/state"
    return base / "nbprod" / "predictions"


def configured_log_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The log folder the service uses: ``$NBPROD_PREDICTION_LOG_DIR`` (empty: none), else
    :func:`default_log_dir`."""
    env = os.environ if environ is None else environ
    if DIR_ENV in env:
        raw = env[DIR_ENV].strip()
        return Path(raw) if raw else None
    return default_log_dir(env)


def model_log_dir(root: Path, model: str) -> Path:
    """The folder of model ``model``'s log (a name, or a ``name:version`` tag) under ``root``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", model.partition(":")[0]).strip(".") or "model"
    return root / name


def bentoml_home(environ: Mapping[str, str] | None = None) -> Path:
    """The BentoML home (model store and bentos): ``$BENTOML_HOME`` or ``~/bentoml``."""
    env = os.environ if environ is None else environ
    home = env.get("BENTOML_HOME", "").strip()
    return Path(home).expanduser() if home else Path.home() / "bentoml"


def check_log_dir(folder: Path, store: Path | None = None) -> Path:
    """``folder``, resolved, if a prediction log may live there; else :class:`ConfigError`."""
    if not folder.is_absolute():
        raise ConfigError(
            f"${DIR_ENV}={str(folder)!r} must be an absolute path: `bentoml serve` runs the "
            f"service inside the bento's folder, and a relative log would land in it"
        )
    resolved = folder.resolve()
    home = (store or bentoml_home()).resolve()
    if resolved.is_relative_to(home):
        raise ConfigError(
            f"${DIR_ENV}={str(folder)!r} is inside the BentoML home {home}: customer inputs "
            f"would leave with `bentoml export`; choose a folder outside it"
        )
    bento = next((p for p in (resolved, *resolved.parents) if (p / "bento.yaml").is_file()), None)
    if bento is not None:
        raise ConfigError(f"${DIR_ENV}={str(folder)!r} is inside the bento {bento}; "
                          f"choose a folder outside it")
    try:  # written by every worker from its first request on: find out now, in one line
        resolved.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=resolved, prefix=".nbprod-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"${DIR_ENV}={str(folder)!r} cannot be written ({exc.strerror or exc}); choose a "
            f"folder the server can write, or set ${DIR_ENV}= (empty) to keep no log"
        ) from None
    return resolved


def instance_name(started: datetime | None = None, pid: int | None = None) -> str:
    """``predictions-<UTC start>-<pid>.jsonl``: one file per server instance."""
    when = (started or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"predictions-{when}-{os.getpid() if pid is None else pid}.jsonl"


class PredictionLog:
    """JSON lines appended to ``folder/name``, rotated before a write passes ``max_bytes``."""

    #: Seconds between two warnings about lost lines (each says how many were lost since).
    WARN_EVERY = 10.0
    #: Lines per write call: few system calls, and a file still rotates before it would
    #: pass ``max_bytes`` (unless one group of lines alone is bigger).
    GROUP = 16

    def __init__(self, folder: Path, max_bytes: int, backups: int, name: str | None = None,
                 on_lost: Callable[[int], None] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / (name or instance_name())
        self.max_bytes, self.backups = max_bytes, backups
        self.on_lost = on_lost
        self.lost = 0
        self._unreported, self._warned = 0, float("-inf")
        self._fd: int | None = None

    def write(self, lines: Sequence[str]) -> None:
        """Append ``lines``; on failure, count them as lost (nothing half written stays)."""
        for i in range(0, len(lines), self.GROUP):
            self._write_group(lines[i:i + self.GROUP])

    def _write_group(self, lines: Sequence[str]) -> None:
        data = ("\n".join(lines) + "\n").encode()
        start = None
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            start = os.lseek(self._fd, 0, os.SEEK_END)
            if start and start + len(data) > self.max_bytes and self._regular():
                self._rotate()
                start = 0
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            self._undo(start)
            self._lose(len(lines), exc)

    def _regular(self) -> bool:
        return os.path.isfile(self.path) and not os.path.islink(self.path)

    def _rotate(self) -> None:
        """``name`` -> ``name.1`` -> ``name.2`` ..., the oldest beyond ``backups`` deleted."""
        self.close()
        base = str(self.path)
        for i in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{i}"):
                os.replace(f"{base}.{i}", f"{base}.{i + 1}")
        if self.backups > 0:
            os.replace(base, f"{base}.1")
        else:
            os.remove(base)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _undo(self, start: int | None) -> None:
        """Cut a partly written group back to the last whole line; reopen on the next write."""
        if self._fd is None:
            return
        try:
            if start is not None and self._regular():
                os.ftruncate(self._fd, start)
        except OSError:
            pass
        self.close()

    def _lose(self, n: int, exc: OSError) -> None:
        self.lost += n
        self._unreported += n
        if self.on_lost is not None:
            self.on_lost(n)
        now = time.monotonic()
        if now - self._warned >= self.WARN_EVERY:
            # the error's kind and the file, never the lines (they hold customer inputs)
            log.warning("prediction log %s: %d line(s) lost (%s: %s); serving goes on",
                        self.path, self._unreported, type(exc).__name__,
                        exc.strerror or exc.errno)
            self._unreported, self._warned = 0, now

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass
