"""Feedback across worker processes: predictions another worker answered, and labels taken once.

With ``NBPROD_WORKERS`` > 1 every worker has its own :class:`nbprod.monitoring.monitor.Monitor`, so a
label sent to ``/feedback`` may reach a worker that never saw its prediction. All workers of a
server write their prediction logs into one folder (one file per worker,
:func:`nbprod.monitoring.prediction_log.instance_name`); :class:`SiblingPredictions` works from there:

- :meth:`SiblingPredictions.find` reads the other workers' log files (newest first, rotated
  ones included) for request ids this worker does not know, and returns their records. A prediction reaches its worker's file within the monitor's interval (0.2 s), so a
  label sent sooner than that to another worker is still unknown there;
- :meth:`SiblingPredictions.claim` records labelled request ids in a small SQLite ledger in
  the same folder (``feedback.sqlite``, one transaction per ``/feedback`` call), so an id
  labelled through one worker is refused as labelled already by every other.

Without a prediction log (``NBPROD_PREDICTION_LOG_DIR=""``) there is nothing to share: each
worker matches only its own predictions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import StorageError

#: The ledger of labelled request ids, beside the prediction logs.
LEDGER = "feedback.sqlite"
#: How a log line starts (``json.dumps`` of the monitor's record): the id follows at once.
PREFIX = '{"request_id": "'


class SiblingPredictions:
    """The predictions and labels of the other workers writing into ``folder``."""

    def __init__(self, folder: Path, own: Path, keep: int = 1_000_000) -> None:
        self.folder, self.own, self.keep = folder, own, keep
        self._db = sqlite3.connect(folder / LEDGER, timeout=30, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS labelled (request_id TEXT PRIMARY KEY)")

    def files(self) -> list[Path]:
        """The other workers' log files (rotated ones included), most recently written first."""
        own = self.own.name
        found = [p for p in self.folder.glob("predictions-*.jsonl*")
                 if p.is_file() and not p.name.startswith(own)]
        return sorted(found, key=_mtime, reverse=True)

    def find(self, ids: Iterable[str]) -> dict[str, dict]:
        """request id -> its log record, for those of ``ids`` in a sibling's log."""
        wanted = set(ids)
        found: dict[str, dict] = {}
        for path in self.files():
            if not wanted:
                break
            for rid, record in _records(path, wanted):
                found[rid] = record
                wanted.discard(rid)
        return found

    def claim(self, ids: Sequence[str]) -> list[str]:
        """Mark ``ids`` labelled, all or none; returns those labelled before (nothing marked).

        A ledger that cannot be written (a full disk, a file-size limit, a read-only file)
        raises :class:`nbprod.errors.StorageError`, with nothing marked."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                taken = [rid for (rid,) in db.execute(
                    f"SELECT request_id FROM labelled WHERE request_id IN "
                    f"({','.join('?' * len(ids))})", list(ids))]
                if not taken:
                    db.executemany("INSERT INTO labelled VALUES (?)", [(rid,) for rid in ids])
                    db.execute("DELETE FROM labelled WHERE rowid <= "
                               "(SELECT max(rowid) FROM labelled) - ?", (self.keep,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StorageError(f"the feedback ledger {self.folder / LEDGER} cannot be written "
                               f"({exc}); no label was recorded") from None
        return taken

    def close(self) -> None:
        self._db.close()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # rotated away meanwhile
        return 0.0


def _records(path: Path, wanted: set[str]) -> Iterable[tuple[str, dict]]:
    """(request id, record) of the lines of ``path`` whose id is in ``wanted``."""
    start, end = len(PREFIX), len(PREFIX) + 32
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.startswith(PREFIX) or line[start:end] not in wanted:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:  # a torn last line
                    continue
                yield record["request_id"], record
    except OSError:  # rotated away between listing and opening
        return
