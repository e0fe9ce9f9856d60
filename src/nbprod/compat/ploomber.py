"""Workarounds of Ploomber's bugs, written for ploomber 0.23.3 and ploomber-engine 0.0.33
(the pinned versions; neither has had a release since 2024-09).

- :func:`invalidate_outdated` (the build hook, once the build holds the project's build lock, just before the first task). Bug (ploomber 0.23.x): a
  product's metadata is written only after its task succeeds, but the previous run's stays
  until then. A build killed in the middle of a task (SIGKILL, a power cut) leaves
  half-written products next to the old metadata, and the next build *skips* the task,
  taking them for complete. Deleting the metadata of tasks that are outdated anyway changes
  nothing about what runs, and makes an interrupted task run again. Can go when Ploomber
  deletes the metadata before it runs a task (the canary's killed build is re-run without it).
- :func:`kernel_like_display` (the build hook). Bug (ploomber-engine 0.0.33): notebooks run
  in the ``ploomber`` process, where pandas believes it writes to a terminal
  (``display.max_columns`` 0, frames wrapped at the console width), so a report's tables
  differ from the same notebook run by a Jupyter kernel (which uses 20). Can go when
  ploomber-engine sets up display as a kernel does.
- :data:`LAB_EXTENSION_OFF` (``make lab``). Bug (ploomber 0.23.3 with jupytext 1.19 and
  jupyter-server 2.x): Ploomber's Jupyter server extension answers 500 to every notebook
  opened (``'coroutine' object is not subscriptable``: it calls jupytext's asynchronous
  contents manager synchronously), and renders with ``force=True``, which marks every task
  outdated. It is switched off and :mod:`nbprod.pipeline.lab` does the injection instead
  (docs/lab.md). The canary is the last test of ``tests/check/test_lab.py``. Can go when
  that test sees Ploomber's extension answer 200.
- :func:`check_networkx` (the pin ``networkx<3.6``). Bug (ploomber 0.23.3): ``ploomber plot``
  reads ``node_link_data(G)["links"]``, the key networkx 3.6 renamed to ``edges`` (3.4 and
  3.5 warn about it), so it fails on networkx 3.6. Can go with a Ploomber release that passes
  ``edges=`` itself.
"""

from __future__ import annotations

import logging
from typing import Any

from . import installed, written_for

log = logging.getLogger(__name__)

#: The versions the patches here were written for (and tested against).
PLOOMBER = "0.23.3"
PLOOMBER_ENGINE = "0.0.33"
NETWORKX = "3.5"

#: The ``jupyter lab`` flag that switches Ploomber's server extension off.
LAB_EXTENSION_OFF = "--ServerApp.jpserver_extensions=ploomber=False"


def invalidate_outdated(dag: Any) -> list[str]:
    """Forget the recorded metadata of every task of ``dag`` that is about to run; their names."""
    from ploomber.constants import TaskStatus

    written_for("ploomber", PLOOMBER, "nbprod.compat.ploomber.invalidate_outdated")
    pending = (TaskStatus.WaitingExecution, TaskStatus.WaitingUpstream)
    names = [name for name in dag if dag[name].exec_status in pending]
    for name in names:
        dag[name].product.metadata.delete()
    if names:
        log.debug("invalidated the metadata of %s", ", ".join(names))
    return names


def kernel_like_display() -> None:
    """Make notebooks executed in-process render tables as a Jupyter kernel does."""
    import pandas as pd

    if installed("ploomber-engine") is not None:
        written_for("ploomber-engine", PLOOMBER_ENGINE, "nbprod.compat.ploomber.kernel_like_display")
    pd.set_option("display.max_columns", 20)
    log.debug("pandas display.max_columns set to 20, as in a Jupyter kernel")


def check_networkx() -> bool:
    """Whether the installed networkx is one ``ploomber plot`` works with (warns once if not)."""
    found = installed("networkx")
    if found is None:
        return True
    return written_for("networkx", NETWORKX, "the pin networkx<3.6 (ploomber plot)")
