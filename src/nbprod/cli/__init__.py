"""The ``nbprod`` command line: a thin layer over the library.

It catches only nbprod's own errors, prints one clear line for them and exits 1;
``--debug`` shows the traceback instead. One module per group of commands, each parsing
its options and rendering what the library returns: :mod:`.project` (new, summary, plot,
export, bento), :mod:`.models` (models, promote, rollback, lineage), :mod:`.check`,
:mod:`.drift`, :mod:`.data` (synth, score). None imports pandas, BentoML or Ploomber
before a command needs them.

May import every room: the command line is last.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from ..errors import NbprodError
from . import check, data, drift, models, project
from ._common import Group, debugging
from .drift import DRIFT_ERROR, DRIFT_FOUND, DRIFT_NONE

__all__ = ["DRIFT_ERROR", "DRIFT_FOUND", "DRIFT_NONE", "main"]


class _Group(Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NbprodError as exc:
            if debugging(ctx):
                raise
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """nbprod: notebooks to production (Ploomber pipelines, BentoML models)."""
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    os.environ.setdefault("PLOOMBER_STATS_ENABLED", "false")
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)
    ctx.obj = {"debug": debug}


for _module in (project, models, check, drift, data):
    for _command in _module.COMMANDS:
        main.add_command(_command)
