"""BentoML's Prometheus multiprocess folder, one per server (written for bentoml 1.4.40).

Bug (1.4.x, seen on 1.4.40): every ``bentoml serve`` starts with
``bentoml.serving.ensure_prometheus_dir()``, which empties ``$BENTOML_HOME/prometheus_multiproc_dir``
(``shutil.rmtree``, then ``mkdir``) and hands that one folder to its workers. A second
server on the same store (another model, another port, a restart beside the old one) deletes
the files a running server's workers write their metrics to. Those workers keep writing into
deleted files, and the first server's ``/metrics`` reads 0 for every counter, drift gauge and
live score from then on, with no error.

Patch (:func:`own_metrics_folder`, called by each worker when it imports the service, before
BentoML creates any metric): the worker writes into a folder of its own server, a sibling of
the shared one named ``prometheus_multiproc_dir.server-PID`` (PID: the server's process),
which no other server wipes. The workers of one server share it, so ``/metrics`` still adds up all of them. Folders
of servers that are gone are removed then; a live server's folder never is. Can go when a
new server no longer empties the folder of a live one (the canary in
``tests/unit/compat/test_compat_bentoml_metrics.py`` fails).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path

from . import written_for

log = logging.getLogger(__name__)

#: The BentoML version this patch was written for (and tested against).
WRITTEN_FOR = "1.4.40"
ENV = "PROMETHEUS_MULTIPROC_DIR"
SUFFIX = ".server-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_stale(shared: Path, keep: Path) -> None:
    """Remove the folders of servers that no longer run (never a live one's, nor ``keep``)."""
    pattern = re.compile(re.escape(shared.name + SUFFIX) + r"(\d+)")
    for folder in shared.parent.iterdir():
        found = pattern.fullmatch(folder.name)
        if found and folder != keep and not _alive(int(found.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def own_metrics_folder(environ: MutableMapping[str, str] | None = None,
                       argv: Sequence[str] | None = None,
                       server: int | None = None) -> Path | None:
    """Point this worker's ``$PROMETHEUS_MULTIPROC_DIR`` at its server's own folder.

    Acts only in a worker a server started (``--fd N`` on its command line) whose folder is
    set; returns the folder, or None where it did nothing. ``server`` is the server's process
    id (the worker's parent). Idempotent.
    """
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    shared = environ.get(ENV)
    if not shared or "--fd" not in argv:
        return None
    written_for("bentoml", WRITTEN_FOR, "nbprod.compat.bentoml_metrics.own_metrics_folder")
    path = Path(shared)
    if SUFFIX in path.name:
        return path
    own = path.with_name(f"{path.name}{SUFFIX}{server or os.getppid()}")
    own.mkdir(parents=True, exist_ok=True)
    _remove_stale(path, own)
    early = sorted(p.name for p in path.glob(f"*_{os.getpid()}.db")) if path.is_dir() else []
    if early:
        log.warning("metrics created before the worker started stay in %s: %s", path, early)
    environ[ENV] = str(own)
    return own
