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


@main.command()
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
def check(paths: tuple[Path, ...], pipeline: Path | None, fmt: str, fix: bool,
          select: str | None, ignore: str | None, list_rules: bool) -> None:
    """Check notebooks against the notebook contract, before any kernel starts.

    PATHS are notebooks or folders; the default is every notebook of pipeline.yaml.
    Prints `path:cell:line RULE message` and a hint per finding; exits 1 on any error.
    """
    _skip_unused_iri_grammar()
    from . import check as contract

    if list_rules:
        contract.registry.load_plugins()
        for r in contract.registry.select_rules():
            fixable = " (--fix)" if r.fixable else ""
            click.echo(f"{r.id}  {r.name:<20} {r.severity:<8} {r.summary}{fixable}")
        return
    options = dict(
        pipeline=pipeline,
        select=_ids(select),
        ignore=_ids(ignore) or (),
    )
    targets = list(paths) or None
    if fix:
        for path in _fixable(contract.check(targets, **options)):
            fixed = contract.strip_notebook(path)
            if fixed and fmt == "text":
                click.echo(f"fixed {path}: removed {fixed.describe()}")
    findings = contract.check(targets, **options)
    broken = contract.errors(findings)
    if fmt == "json":
        click.echo(json.dumps({
            "findings": [f.to_dict() for f in findings],
            "errors": len(broken),
            "warnings": len(findings) - len(broken),
        }, indent=2))
    else:
        for finding in findings:
            click.secho(finding.format(), fg="red" if finding in broken else "yellow")
        notebooks = len({f.path for f in findings})
        if findings:
            click.echo(f"{len(broken)} error(s), {len(findings) - len(broken)} warning(s) "
                       f"in {notebooks} notebook(s)")
        else:
            click.secho("every notebook keeps the contract", fg="green")
    if broken:
        sys.exit(1)


def _ids(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _fixable(findings) -> list[Path]:
    """The notebooks with NB005 findings (their paths as given to the check)."""
    return sorted({Path(f.path) for f in findings if f.rule == "NB005"})


def _skip_unused_iri_grammar() -> None:
    """Keep jsonschema from building its IRI grammar in this process (about 1 s).

    nbformat imports jsonschema, which compiles an Earley parser from the optional
    ``rfc3987_syntax`` package for the ``iri`` format at import time. The notebook
    schema never uses that format, so ``nbprod check`` (which must answer in well
    under 2 s) marks the optional package as absent, as if it were not installed.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


if __name__ == "__main__":  # pragma: no cover
    main()
