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
from typing import Any

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
    from .summary import build_summary

    built = build_summary(products)
    click.secho(f"registered model  {built.tag}  stage: {built.stage}  (store: {built.store})",
                bold=True)
    if built.last_event:
        click.echo(f"last event        {built.last_event}")
    click.echo(f"held-out metrics  {built.metrics}")
    click.echo(f"reports           {built.reports} ({', '.join(built.report_names)})")
    click.echo("next              nbprod bento            # the bento serving production (built if needed)")
    click.echo("                  bentoml serve BENTO     # serve it on 127.0.0.1:3000")
    click.echo("                  nbprod models list      # every version, its stage and metrics")
    click.echo("                  ploomber status         # what is up to date")


def _env_value(key: str) -> str:
    from .env_file import env_value

    return env_value(key)


def _default_name() -> str:
    from .env_file import model_name

    return model_name()


def _production_tag() -> str:
    from .env_file import production_tag

    return production_tag()


name_option = click.option("--name", help="Model name (default: model_name in ./env.yaml).")


@main.group()
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

    from .lifecycle import stage_of, versions
    from .metrics import arrow, table_columns

    name = name or _default_name()
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

    from .summary import version_record

    click.echo(yaml.safe_dump(version_record(tag), sort_keys=False, default_flow_style=False))


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
    click.echo("serve it: nbprod bento (selects or builds its bento), then bentoml serve BENTO")


@main.command()
@name_option
@click.option("--reason", default="rollback", show_default=True)
def rollback(name: str | None, reason: str) -> None:
    """Put back the version that was in production before the current one."""
    from .lifecycle import rollback as do_rollback

    click.secho(f"production: {do_rollback(name or _default_name(), reason)}", fg="yellow")
    click.echo("serve it: nbprod bento (selects or builds its bento), then bentoml serve BENTO")


@main.command()
@click.argument("tag")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The project folder the recorded paths are relative to.")
def lineage(tag: str, root: Path) -> None:
    """The chain bento -> model -> run -> notebooks -> data; exit 1 if a file changed."""
    from .trace import broken, trace

    links = trace(tag, root)
    colours = {"ok": "green", "recorded": "cyan", "modified": "red", "missing": "red"}
    for link in links:
        click.echo(f"{link['level']:<9} {link['name']:<36} ", nl=False)
        click.secho(f"[{link['status']}]", fg=colours[link["status"]], nl=False)
        click.echo(f" {link['detail']}")
    if changed := broken(links):
        names = ", ".join(f"{b['level']} {b['detail']} ({b['status']})" for b in changed)
        raise NbprodError(f"lineage of {tag} is broken: {names}")


#: `nbprod drift`'s exit codes (docs/drift.md): a script can tell drift from a failure.
DRIFT_NONE, DRIFT_FOUND, DRIFT_ERROR = 0, 1, 2


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--model", "tag", help="Model tag (default: the production version of model_name).")
@click.option("--threshold", default=0.2, show_default=True, help="PSI over which a feature drifted.")
@click.option("--min-rows", default=50, show_default=True, help="Fewer rows never count as drift.")
@click.option("--output", type=click.Path(path_type=Path), default=Path("drift_report.html"),
              show_default=True)
@click.pass_context
def drift(ctx: click.Context, data: Path, tag: str | None, threshold: float, min_rows: int,
          output: Path) -> None:
    """Compare DATA (CSV, Parquet or a JSON-lines prediction log) with the model's training
    reference and write an HTML report.

    Exit codes: 0 no feature drifted, 1 a feature drifted, 2 the check
    could not be made (unreadable file, no model, no reference).
    """
    try:
        drifted = _drift(data, tag, threshold, min_rows, output)
    except NbprodError as exc:
        if ctx.obj and ctx.obj.get("debug"):
            raise
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(DRIFT_ERROR)
    if drifted:
        click.secho(f"{len(drifted)} feature(s) drifted past PSI {threshold}: "
                    f"{', '.join(drifted)}", fg="red", err=True)
        sys.exit(DRIFT_FOUND)
    sys.exit(DRIFT_NONE)


def _drift(data: Path, tag: str | None, threshold: float, min_rows: int,
           output: Path) -> list[str]:
    """Check, print and write the report; the drifted features (and the predictions)."""
    from .drift_report import check_drift

    result = check_drift(data, tag or _production_tag(), threshold, min_rows, output)
    click.echo(f"{data}: {result.inputs.span()}")
    for feature, row in result.scores.sort_values("psi", ascending=False).iterrows():
        mark = click.style("DRIFT", fg="red") if row.drifted else click.style("ok", fg="green")
        click.echo(f"{feature:<20} psi={row.psi:7.4f}  js={row.js_distance:6.4f}  {mark}")
    if (row := result.predictions) is not None:  # the served predictions against the evaluation's
        mark = click.style("shifted", fg="red") if row.drifted else click.style("ok", fg="green")
        click.echo(f"{'(predictions)':<20} psi={row.psi:7.4f}  js={row.js_distance:6.4f}  {mark}")
    click.echo(f"report: {output}")
    return result.drifted


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
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], pipeline: Path | None, fmt: str, fix: bool,
          select: str | None, ignore: str | None, list_rules: bool) -> None:
    """Check notebooks against the notebook contract, before any kernel starts.

    PATHS are notebooks (.ipynb, percent .py) or folders; the default is every notebook
    task of pipeline.yaml. Prints `path:cell:line RULE message` and a hint per finding.
    Exit code 1 on any error finding, 2 when the check itself cannot run (one line).
    """
    from .compat.jsonschema import skip_unused_iri_grammar

    skip_unused_iri_grammar()  # before nbformat: about 1 s saved (nbprod.compat.jsonschema)
    from . import check as contract

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
        if ctx.obj and ctx.obj.get("debug"):
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


@main.command()
@click.argument("rows", type=click.IntRange(min=1))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(path_type=Path),
              help="The real raw file the rows are sampled from [default: raw_data in ./env.yaml].")
@click.option("--columns", "columns_file", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("columns.yaml"), show_default=True, help="The declared column table.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=250_000, show_default=True)
def synth(rows: int, output: Path, source: Path | None, columns_file: Path, seed: int,
          chunk_size: int) -> None:
    """Write ROWS synthetic rows sampled from the project's real data to OUTPUT
    (.parquet, .csv or .csv.gz): rows drawn with replacement, numbers perturbed a little."""
    from . import synth as generator
    from .cli_progress import RowsProgress
    from .columns import ColumnTable

    table = ColumnTable.load(columns_file)
    source = source or Path(_env_value("raw_data"))
    with RowsProgress("generating") as bar:
        bar.stage(f"reading {source}")
        real = generator.real_rows(source, table)
        bar.start(rows)
        generator.write(real, table, output, rows, seed=seed, chunk_rows=chunk_size,
                        progress=bar.advance)
    click.echo(f"wrote {rows:,} synthetic rows (seed {seed}) sampled from {source} to {output}")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--model", "tag", default=None,
              help="Model tag in the BentoML store [default: the production version of "
              "model_name in ./env.yaml].")
@click.option("--chunk-size", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Label threshold [default: the one the model was evaluated with].")
@click.option("--keep", multiple=True, help="An input column to copy to the output (repeatable).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Score on this Dask scheduler (tcp://HOST:8786), one task per file of SOURCE.")
def score(
    source: Path, output: Path, tag: str | None, chunk_size: int, threshold: float | None,
    keep: tuple[str, ...], scheduler: str | None,
) -> None:
    """Score every row of SOURCE with a registered model into OUTPUT.

    SOURCE is a .parquet or .csv file, or a data set: a folder of such files (a
    partitioned Parquet data set) or a quoted glob; a data set's OUTPUT is a new folder
    with one .parquet file per input file. --scheduler scores a data set on Dask.
    """
    from .cli_progress import RowsProgress

    if scheduler is None and source.suffix and not any(c in str(source) for c in "*?["):
        from .errors import DataFileError

        if not source.is_file():  # named before the model is looked up
            raise DataFileError(str(source), "no such file")
    if tag is None:
        tag = _production_tag()
        click.echo(f"using {tag}: the production version (pass --model for another)", err=True)
    if scheduler is None and source.is_file():
        with RowsProgress("scoring") as bar:  # on screen before the slow imports and the model load
            bar.stage("counting rows")
            from .batch import count_rows, score_file

            total = count_rows(source)
            bar.stage(f"loading model {tag}")
            result = score_file(tag, source, output, chunk_rows=chunk_size, threshold=threshold,
                                keep=list(keep), progress=bar.advance,
                                on_start=lambda: bar.start(total))
        counted = (f"{result.positives:,} at or above {result.threshold}"
                   if result.kind == "binary" else f"{result.kind} predictions")
        click.echo(
            f"scored {result.rows:,} rows in {result.chunks} chunk(s) with {result.model}: "
            f"{counted} -> {result.output}"
        )
        return
    from .dataset_scoring import score_dataset

    with RowsProgress("scoring") as bar:
        bar.stage(f"loading model {tag}")
        bar.start(None)
        done = score_dataset(tag, source, output, scheduler=scheduler, chunk_rows=chunk_size,
                             threshold=threshold, keep=list(keep), progress=bar.advance)
    where = f" on Dask at {done.scheduler}" if done.scheduler else ""
    click.echo(
        f"scored {done.rows:,} rows in {done.partitions} partition(s){where} with {done.model}: "
        f"{done.positives:,} at or above {done.threshold} -> {done.output}"
    )


@main.command()
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("products/pipeline.html"), show_default=True,
              help="The picture: a self-contained .html page, or .svg.")
@click.option("--pipeline", type=click.Path(path_type=Path, dir_okay=False),
              help="The pipeline spec (default: pipeline.yaml, found as Ploomber does).")
def plot(output: Path, pipeline: Path | None) -> None:
    """Draw the pipeline offline: every task and its status (up to date, outdated, failed)."""
    from .plot import load_status, write

    nodes = load_status(pipeline)
    path = write(nodes, output, title=f"pipeline: {Path.cwd().name}")
    counts = {s: sum(n.status == s for n in nodes) for s in ("up to date", "outdated", "failed")}
    click.echo(f"wrote {path} ({', '.join(f'{c} {s}' for s, c in counts.items())})")


@main.command("export")
@click.argument("engine", type=click.Choice(["airflow", "argo", "kubeflow"]))
@click.option("--project", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="The project folder (pipeline.yaml, export.yaml).")
@click.option("--image", default=None, help="Image every step runs in [default: export.yaml's].")
@click.option("--local", is_flag=True,
              help="Airflow: run each task here, in this project's environment, not in a pod.")
def export_(engine: str, project: Path, image: str | None, local: bool) -> None:
    """Write ENGINE's spec of pipeline.yaml into the ENGINE/ folder (see export.yaml)."""
    from .export import export

    click.echo(f"wrote {export(project, engine, image=image, local=local)}")


@main.command()
@click.option("--model", "tag", help="Model tag (default: the one the service would serve: production).")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where bentofile.yaml is, if a bento must be built.")
@click.option("--build", "force", is_flag=True, help="Build a new bento even if one holds the model.")
def bento(tag: str | None, project: Path, force: bool) -> None:
    """Print the tag of the bento serving the production model; build it if there is none."""
    from .bento import bento_for, build_bento
    from .serving import REGISTRATION, model_tag

    tag = tag or model_tag(registration=project / REGISTRATION)
    if force:
        bento_tag, built = build_bento(tag, project), True
    else:
        bento_tag, built = bento_for(tag, project)
    click.echo(f"{'built' if built else 'selected'} bento {bento_tag} for {tag}", err=True)
    click.echo(bento_tag)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--data", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The data file: .csv, .csv.gz or .parquet.")
@click.option("--target", required=True, help="The column to predict.")
@click.option("--kind", type=click.Choice(["binary", "multiclass", "regression"]),
              help="What the model predicts [default: inferred from the target: two values "
              "binary, a few values multiclass, numbers with many values regression].")
@click.option("--positive", help="The positive class of a binary target (default: the "
              "minority class).")
@click.option("--name", help="The project's package name (default: DIRECTORY's name).")
def new(directory: Path, data: Path, target: str, kind: str | None, positive: str | None,
        name: str | None) -> None:
    """Write a complete project for DATA predicting TARGET into DIRECTORY."""
    from .scaffold import create_project

    created = create_project(directory, data, target, positive=positive, name=name, kind=kind)
    table = created.table
    click.secho(f"wrote {created.path} ({created.name}): {len(table.features)} features, "
                f"{table.rows:,} rows", bold=True)
    for header, reason in table.dropped.items():
        click.echo(f"  left out  {header}: {reason}")
    how = "--kind" if table.kind_given else f"inferred: {table.kind_reason}"
    click.echo(f"  kind      {table.kind} model of {table.target} ({how}; "
               "change it in columns.yaml)")
    if table.kind == "binary":
        how = "--positive" if table.positive_given else "the minority class"
        click.echo(f"  positive  {table.target} == {table.positive!r} ({how}; "
                   "change it in columns.yaml)")
    elif table.kind == "multiclass":
        click.echo(f"  classes   {', '.join(map(str, table.classes))}")
    if not created.committed:
        click.echo("  git       not found: no first commit (lineage will name no commit)")
    click.echo(f"next: review columns.yaml, then  cd {directory} && make run && make test")


if __name__ == "__main__":  # pragma: no cover
    main()
