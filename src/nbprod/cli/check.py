"""``nbprod check``: the notebook contract, before any kernel starts; findings as text or
JSON, exit 1 on an error finding and 2 when the check itself cannot run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import NbprodError
from ._common import debugging

__all__ = ["COMMANDS"]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--pipeline", type=click.Path(path_type=Path, dir_okay=False),
              help="The pipeline spec (default: pipeline.yaml, found as Ploomber does).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the findings.")
@click.option("--fix", is_flag=True,
              help="Strip outputs, execution counts and injected cells (NB005), then check.")
@click.option("--select", help="Only these rules, comma-separated (e.g. NB003,NB004).")
@click.option("--ignore", help="Skip these rules, comma-separated.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], pipeline: Path | None, fmt: str, fix: bool,
          select: str | None, ignore: str | None, list_rules: bool) -> None:
    """Check notebooks against the notebook contract, before any kernel starts.

    PATHS are notebooks (.ipynb, percent .py) or folders; the default is every notebook
    task of pipeline.yaml. Prints `path:cell:line RULE message` and a hint per finding.
    Exit code 1 on any error finding, 2 when the check itself cannot run (one line).
    """
    from ..compat.jsonschema import skip_unused_iri_grammar

    skip_unused_iri_grammar()  # before nbformat: about 1 s saved (nbprod.compat.jsonschema)
    from .. import check as contract

    try:
        if list_rules:
            contract.rules_table.load_plugins()
            for r in contract.rules_table.select_rules():
                fixable = " (--fix)" if r.fixable else ""
                click.echo(f"{r.id}  {r.name:<20} {r.severity:<8} {r.summary}{fixable}")
            return
        options: dict[str, Any] = dict(pipeline=pipeline, select=_ids(select), ignore=_ids(ignore) or ())
        targets = list(paths) or None
        if fix:
            for fixed in contract.fix_findings(contract.check(targets, **options)):
                if fmt == "text":
                    click.echo(f"fixed {fixed.path}: removed {fixed.describe()}")
        report = contract.run(targets, **options)
    except Exception as exc:  # one line, never a traceback: findings or this
        if debugging(ctx):
            raise
        message = str(exc) if isinstance(exc, NbprodError) else f"{type(exc).__name__}: {exc}"
        if fmt == "json":
            click.echo(json.dumps({"error": message, "findings": [], "errors": 0, "warnings": 0}))
        else:
            click.secho(f"error: {' '.join(message.split())}", fg="red", err=True)
        sys.exit(2)
    _print_report(report, contract.errors(report.findings), fmt)


def _print_report(report, broken, fmt: str) -> None:
    findings = report.findings
    if fmt == "json":
        click.echo(json.dumps({
            "findings": [f.to_dict() for f in findings],
            "errors": len(broken),
            "warnings": len(findings) - len(broken),
            "notebooks": len(report.notebooks),
        }, indent=2))
    else:
        for finding in findings:
            click.secho(finding.format(), fg="red" if finding in broken else "yellow")
        with_findings = len({f.path for f in findings})
        if findings:
            click.echo(f"{len(broken)} error(s), {len(findings) - len(broken)} warning(s) "
                       f"in {with_findings} of {len(report.notebooks)} notebook(s)")
        elif report.notebooks:
            click.secho(f"{len(report.notebooks)} notebook(s) checked: every one keeps the "
                        "contract", fg="green")
        else:
            click.secho("no notebook to check (none found, none in the pipeline)", fg="yellow")
    if broken:
        sys.exit(1)


def _ids(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


COMMANDS = (check,)
