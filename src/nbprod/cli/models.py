"""``nbprod models list|show|history``, ``promote``, ``rollback`` and ``lineage``: the
registered versions of a model, their stages and the chain each one came from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import NbprodError
from ._common import Group, model_name, name_option, production_tag

__all__ = ["COMMANDS"]


@click.group(cls=Group)
def models() -> None:
    """List and inspect the registered versions of a model."""


@models.command("list")
@name_option
@click.option("--metrics", help="Metrics to show, comma-separated [default: the gate's metrics "
              "recorded with the newest version, else every numeric metric].")
@click.option("--json", "as_json", is_flag=True,
              help="Every version's full record as a JSON list, newest first.")
def models_list(name: str | None, metrics: str | None, as_json: bool) -> None:
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
    if as_json:
        from ..pipeline.summary import version_record

        click.echo(json.dumps([version_record(str(m.tag)) for m in reversed(found)], indent=2,
                              default=str))
        return
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
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def models_show(tag: str, as_json: bool) -> None:
    """One version: stage, metrics, parameters, lineage and lifecycle events."""
    import yaml

    from ..pipeline.summary import version_record

    if as_json:
        click.echo(json.dumps(version_record(tag), indent=2, default=str))
        return
    click.echo(yaml.safe_dump(version_record(tag), sort_keys=False, default_flow_style=False))


@models.command("compare")
@click.argument("a", required=False)
@click.argument("b", required=False)
@name_option
@click.option("--html", "page", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the comparison page (curves overlaid, metrics over time) "
              "here, e.g. products/reports/compare.html, which the report index links.")
def models_compare(a: str | None, b: str | None, name: str | None, page: Path | None) -> None:
    """Version A against version B: metrics side by side, what differs, the gate.

    A defaults to the newest version not in production (the candidate), B to production;
    a version may be given without its model name.
    """
    from ..registry.compare import compare

    name = name or (a.partition(":")[0] if a and ":" in a else None) or model_name()
    result = compare(name, a, b)
    _print_comparison(result)
    if page is not None:
        from ..pipeline.compare_page import write_page

        click.echo(f"page: {write_page(name, result, page)}")


def _print_comparison(result) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(f"A: {result.a} ({result.a_stage})\nB: {result.b} ({result.b_stage})",
                  markup=False, highlight=False, soft_wrap=True)
    table = Table()
    for col in ("metric", "A", "B", "A - B", "A is"):
        table.add_column(col, no_wrap=True)
    colour = {"better": "green", "worse": "red"}
    for m in result.metrics:
        arrow = {True: " ↑", False: " ↓", None: ""}[m.higher_is_better]
        diff = m.difference
        table.add_row(m.name + arrow, _metric_cell(m.a), _metric_cell(m.b),
                      "-" if diff is None else f"{diff:+.4f}",
                      f"[{colour[m.verdict]}]{m.verdict}[/]" if m.verdict in colour
                      else (m.verdict or "-"))
    console.print(table)
    if result.differences:
        diffs = Table(title="What differs in the lineage")
        for col in ("section", "entry", "A", "B"):
            diffs.add_column(col, overflow="fold")
        for d in result.differences:
            diffs.add_row(d.section, d.key, Text(_plain(d.a)), Text(_plain(d.b)))
        console.print(diffs)
    else:
        console.print("Same parameters, data, code and model description.")
    console.print(result.decision.describe() if result.decision else "gate: none recorded",
                  markup=False, highlight=False)
    if result.recorded:
        console.print(f"recorded at registration: {result.recorded}", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


def _plain(value) -> str:
    return "-" if value is None else str(value)


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
@click.argument("tag", required=False)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The project folder the recorded paths are relative to.")
def lineage(tag: str | None, root: Path) -> None:
    """The chain bento -> model -> run -> notebooks -> data; exit 1 if a file changed.

    TAG defaults to the production version of model_name in ./env.yaml.
    """
    from ..registry.trace import broken, trace

    tag = tag or production_tag(project=root)
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
