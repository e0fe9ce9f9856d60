"""Ploomber DAG hooks, named in pipeline.yaml (``on_render: nbprod.hooks.on_render``)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def on_render() -> None:
    """Runs once per `ploomber build` / `status` / `plot`, before any task executes."""
    kernel_like_display()


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
