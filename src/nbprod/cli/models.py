"""``nbprod models list|show|history``, ``promote``, ``rollback`` and ``lineage``: the
registered versions of a model, their stages and the chain each one came from."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import NbprodError
from ._common import model_name, name_option

__all__ = ["COMMANDS"]


@click.group()
def models() -> None:
    """List and inspect the registered versions of a model."""


@models.command("list")
@name_option
@click.option("--metrics", help="Metrics to show, comma-separated [default: the gate's metrics "
              "recorded with the newest version, else every numeric metric].")
def models_list(name: str | None, metrics: str | None) -> None:
    """A table of every version: created, stage, metrics (named in the models' metadata;
    an arrow says which way each is better)."""
    from rich.console import Console
    from rich.table import Table

    from ..model.metrics import arrow, table_columns
    from ..registry.lifecycle import stage_of, versions

    name = name or model_name()
    found = versions(name)
    if not found:
        raise NbprodError(f"no version of model {name!r} in the store; run the pipeline (ploomber build)")
    if metrics:
        shown = [m.strip() for m in metrics.split(",") if m.strip()]
    else:
        shown = table_columns([m.info.metadata for m in found])
    table = Table(title=f"{name} (newest first)")
    for col in ("version", "created", "stage", *(f"{m} {arrow(m)}".strip() for m in shown),
                "estimator"):
        table.add_column(col, no_wrap=col in ("version", "created", "estimator"))
    for m in reversed(found):
        values = m.info.metadata.get("metrics", {})
        stage = stage_of(m)
        style = {"production": "bold green", "archived": "dim"}.get(stage, "")
        table.add_row(
            m.tag.version,
            m.info.creation_time.strftime("%Y-%m-%d %H:%M:%S"),
            stage,
            *(_metric_cell(values.get(k)) for k in shown),
            m.info.labels.get("estimator", "-"),
            style=style,
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: don't squeeze the table to 80 columns
        console = Console(width=120)
    console.print(table)


def _metric_cell(value) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


@models.command("show")
@click.argument("tag")
def models_show(tag: str) -> None:
    """One version: stage, metrics, parameters, lineage and lifecycle events."""
    import yaml

    from ..pipeline.summary import version_record

    click.echo(yaml.safe_dump(version_record(tag), sort_keys=False, default_flow_style=False))


@models.command("history")
@name_option
def models_history(name: str | None) -> None:
    """Every registration, promotion and rollback, oldest first."""
    from ..registry.lifecycle import history

    name = name or model_name()
    for e in history(name):
        click.echo(f"{e['at']}  {e['tag']:<32} {e['event']:<13} -> {e['stage']:<10} {e['reason']}")


@click.command()
@click.argument("tag")
@click.option("--reason", default="promoted by hand", show_default=True)
def promote(tag: str, reason: str) -> None:
    """Make TAG the production version (the previous one is archived)."""
    from ..registry.lifecycle import promote as do_promote

    click.secho(f"production: {do_promote(tag, reason)}", fg="green")
    click.echo("serve it: nbprod bento (selects or builds its bento), then bentoml serve BENTO")


@click.command()
@name_option
@click.option("--reason", default="rollback", show_default=True)
def rollback(name: str | None, reason: str) -> None:
    """Put back the version that was in production before the current one."""
    from ..registry.lifecycle import rollback as do_rollback

    click.secho(f"production: {do_rollback(name or model_name(), reason)}", fg="yellow")
    click.echo("serve it: nbprod bento (selects or builds its bento), then bentoml serve BENTO")


@click.command()
@click.argument("tag")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The project folder the recorded paths are relative to.")
def lineage(tag: str, root: Path) -> None:
    """The chain bento -> model -> run -> notebooks -> data; exit 1 if a file changed."""
    from ..registry.trace import broken, trace

    links = trace(tag, root)
    colours = {"ok": "green", "recorded": "cyan", "modified": "red", "missing": "red"}
    for link in links:
        click.echo(f"{link['level']:<9} {link['name']:<36} ", nl=False)
        click.secho(f"[{link['status']}]", fg=colours[link["status"]], nl=False)
        click.echo(f" {link['detail']}")
    if changed := broken(links):
        names = ", ".join(f"{b['level']} {b['detail']} ({b['status']})" for b in changed)
        raise NbprodError(f"lineage of {tag} is broken: {names}")


COMMANDS = (models, promote, rollback, lineage)
