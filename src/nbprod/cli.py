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
    stage = model.info.labels.get("stage", "candidate")
    click.secho(f"registered model  {model.tag}  stage: {stage}  (store: {bentoml_home()})", bold=True)
    events = model.info.metadata.get("lifecycle", [])
    if events:
        click.echo(f"last event        {events[-1]['event']}: {events[-1]['reason']}")
    shown = ("roc_auc", "pr_auc", "f1", "log_loss", "calibration_error")
    click.echo("held-out metrics  " + "  ".join(f"{k}={metrics[k]:.4f}" for k in shown if k in metrics))
    reports = sorted((products / "reports").glob("*.html"))
    click.echo(f"reports           {products / 'reports'}/ ({', '.join(p.name for p in reports)})")
    click.echo("next              bentoml models get " + str(model.tag))
    click.echo("                  ploomber status   # what is up to date")
    click.echo("                  make test         # the whole test suite")


def _default_name() -> str:
    """The project's model name: `model_name` in ./env.yaml."""
    import yaml

    env = Path("env.yaml")
    if env.is_file():
        name = (yaml.safe_load(env.read_text()) or {}).get("model_name")
        if name:
            return str(name)
    raise NbprodError("no model name given and no model_name in ./env.yaml; pass --name")


name_option = click.option("--name", help="Model name (default: model_name in ./env.yaml).")


@main.group()
def models() -> None:
    """List and inspect the registered versions of a model."""


@models.command("list")
@name_option
def models_list(name: str | None) -> None:
    """A table of every version: created, stage, key metrics."""
    from rich.console import Console
    from rich.table import Table

    from .lifecycle import stage_of, versions

    name = name or _default_name()
    found = versions(name)
    if not found:
        raise NbprodError(f"no version of model {name!r} in the store; run the pipeline (make run)")
    table = Table(title=f"{name} (newest first)")
    for col in ("version", "created", "stage", "roc_auc", "pr_auc", "f1", "estimator"):
        table.add_column(col, no_wrap=col in ("version", "created", "estimator"))
    for m in reversed(found):
        metrics = m.info.metadata.get("metrics", {})
        stage = stage_of(m)
        style = {"production": "bold green", "archived": "dim"}.get(stage, "")
        table.add_row(
            m.tag.version,
            m.info.creation_time.strftime("%Y-%m-%d %H:%M:%S"),
            stage,
            *(f"{metrics[k]:.4f}" if k in metrics else "-" for k in ("roc_auc", "pr_auc", "f1")),
            m.info.labels.get("estimator", "-"),
            style=style,
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: don't squeeze the table to 80 columns
        console = Console(width=120)
    console.print(table)


@models.command("show")
@click.argument("tag")
def models_show(tag: str) -> None:
    """One version: stage, metrics, parameters, lineage and lifecycle events."""
    import yaml

    from .registry import get_model

    model = get_model(tag)
    meta = dict(model.info.metadata)
    shown = {
        "tag": str(model.tag),
        "labels": dict(model.info.labels),
        "created": model.info.creation_time.isoformat(timespec="seconds"),
        **{k: meta[k] for k in ("metrics", "parameters", "git", "data", "notebooks", "versions",
                                "artifact", "lifecycle") if k in meta},
    }
    click.echo(yaml.safe_dump(shown, sort_keys=False, default_flow_style=False))


@models.command("history")
@name_option
def models_history(name: str | None) -> None:
    """Every registration, promotion and rollback, oldest first."""
    from .lifecycle import history

    name = name or _default_name()
    for e in history(name):
        click.echo(f"{e['at']}  {e['tag']:<32} {e['event']:<13} -> {e['stage']:<10} {e['reason']}")


@main.command()
@click.argument("tag")
@click.option("--reason", default="promoted by hand", show_default=True)
def promote(tag: str, reason: str) -> None:
    """Make TAG the production version (the previous one is archived)."""
    from .lifecycle import promote as do_promote

    click.secho(f"production: {do_promote(tag, reason)}", fg="green")


@main.command()
@name_option
@click.option("--reason", default="rollback", show_default=True)
def rollback(name: str | None, reason: str) -> None:
    """Put back the version that was in production before the current one."""
    from .lifecycle import rollback as do_rollback

    click.secho(f"production: {do_rollback(name or _default_name(), reason)}", fg="yellow")


@main.command()
@click.argument("tag")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The project folder the recorded paths are relative to.")
def lineage(tag: str, root: Path) -> None:
    """The chain bento -> model -> run -> notebooks -> data; exit 1 if a file changed."""
    from .lineage import trace

    links = trace(tag, root)
    colours = {"ok": "green", "recorded": "cyan", "modified": "red", "missing": "red"}
    for link in links:
        click.echo(f"{link['level']:<9} {link['name']:<36} ", nl=False)
        click.secho(f"[{link['status']}]", fg=colours[link["status"]], nl=False)
        click.echo(f" {link['detail']}")
    broken = [link for link in links if link["status"] in ("modified", "missing")]
    if broken:
        names = ", ".join(f"{b['level']} {b['detail']} ({b['status']})" for b in broken)
        raise NbprodError(f"lineage of {tag} is broken: {names}")


if __name__ == "__main__":  # pragma: no cover
    main()
