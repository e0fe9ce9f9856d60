"""Ploomber DAG hooks, named in pipeline.yaml (``on_render: nbprod.hooks.on_render``)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def on_render(dag) -> None:
    """Runs once per `ploomber build` / `status` / `plot`, before any task executes."""
    kernel_like_display()
    invalidate_outdated(dag)


def invalidate_outdated(dag) -> list[str]:
    """Forget the recorded metadata of every task that is about to run.

    Ploomber writes a product's metadata only after its task succeeds, but it keeps
    the metadata of the previous run until then. A build killed in the middle of a
    task (SIGKILL, a power cut) would leave half-written products next to the old
    metadata, and the next build would take them for complete. Deleting the metadata
    of tasks that are outdated anyway changes nothing about what runs, and makes an
    interrupted task run again.
    """
    from ploomber.constants import TaskStatus

    pending = (TaskStatus.WaitingExecution, TaskStatus.WaitingUpstream)
    names = [name for name in dag if dag[name].exec_status in pending]
    for name in names:
        dag[name].product.metadata.delete()
    if names:
        log.debug("invalidated the metadata of %s", ", ".join(names))
    return names


def kernel_like_display() -> None:
    """Make notebooks executed in-process render tables as a Jupyter kernel does.

    The ploomber-engine executor runs notebooks inside the `ploomber` process, where
    pandas believes it writes to a terminal (``display.max_columns`` 0, frames
    wrapped at the console width). A Jupyter kernel uses 20. Without this, a
    report's text output would differ from the same notebook run in JupyterLab or
    by nbval.
    """
    import pandas as pd

    pd.set_option("display.max_columns", 20)
    log.debug("pandas display.max_columns set to 20, as in a Jupyter kernel")
