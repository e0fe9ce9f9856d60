"""The ``nbprod`` command line: a thin layer over the library.

It catches only nbprod's own errors, prints one clear line for them and exits 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from .errors import NbprodError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NbprodError as exc:
            if ctx.obj and ctx.obj.get("debug"):
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


@main.command()
@click.option(
    "--products",
    type=click.Path(path_type=Path),
    default=Path("products"),
    show_default=True,
    help="The pipeline's products folder.",
)
def summary(products: Path) -> None:
    """Print what the last build produced: the registered model, its metrics, the reports."""
    from .registry import bentoml_home, get_model

    registration = products / "model" / "registration.json"
    if not registration.is_file():
        raise NbprodError(f"{registration} not found; run the pipeline first (make run)")
    tag = json.loads(registration.read_text())["tag"]
    model = get_model(tag)
    metrics = model.info.metadata.get("metrics", {})
    click.secho(f"registered model  {model.tag}  (store: {bentoml_home()})", bold=True)
    shown = ("roc_auc", "pr_auc", "f1", "log_loss", "calibration_error")
    click.echo("held-out metrics  " + "  ".join(f"{k}={metrics[k]:.4f}" for k in shown if k in metrics))
    reports = sorted((products / "reports").glob("*.html"))
    click.echo(f"reports           {products / 'reports'}/ ({', '.join(p.name for p in reports)})")
    click.echo("next              bentoml models get " + str(model.tag))
    click.echo("                  ploomber status   # what is up to date")
    click.echo("                  make test         # the whole test suite")


if __name__ == "__main__":  # pragma: no cover
    main()
