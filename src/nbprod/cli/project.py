"""``nbprod new``, ``summary``, ``plot``, ``export`` and ``bento``: a project written,
its last build shown and drawn, its pipeline for other engines, its bento."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..scaffold.project import Created

__all__ = ["COMMANDS"]


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--data", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The data file: .csv, .csv.gz or .parquet.")
@click.option("--target", help="The column to predict (with --notebook: default, the column "
              "her model's y was taken from).")
@click.option("--kind", type=click.Choice(["binary", "multiclass", "regression"]),
              help="What the model predicts [default: inferred from the target: two values "
              "binary, a few values multiclass, numbers with many values regression].")
@click.option("--positive", help="The positive class of a binary target (default: the "
              "minority class).")
@click.option("--name", help="The project's package name (default: DIRECTORY's name).")
@click.option("--clean", "clean", type=click.Path(dir_okay=False, path_type=Path),
              help="Your Python file defining clean(df): the project's cleaning step, run "
              "before inference; it may compute TARGET (docs/new-project.md).")
@click.option("--notebook", type=click.Path(dir_okay=False, path_type=Path),
              help="Her own notebook, as it is: its cells become the pipeline, its model is "
              "served (docs/own-notebook.md).")
@click.option("--model", "model_var", help="With --notebook: the variable holding the model to "
              "serve [default: the one model the notebook fits].")
def new(directory: Path, data: Path, target: str | None, kind: str | None,
        positive: str | None, name: str | None, clean: Path | None, notebook: Path | None,
        model_var: str | None) -> None:
    """Write a complete project for DATA predicting TARGET into DIRECTORY."""
    if notebook is not None:
        if clean is not None:
            raise click.UsageError("--clean is for a data file; with --notebook, her own cells "
                                   "clean the data (docs/own-notebook.md).")
        _adopt(directory, notebook, data, model_var, target, name)
        return
    from ..scaffold import create_project

    if target is None:
        raise click.UsageError("Missing option '--target' (or give --notebook).")
    created = create_project(directory, data, target, positive=positive, name=name, kind=kind,
                             clean=clean)
    _report(created, data, directory)


def _adopt(directory: Path, notebook: Path, data: Path, model: str | None, target: str | None,
           name: str | None) -> None:
    from ..scaffold.adopted_project import create_adopted_project
    from ..scaffold.adoption import summary_lines

    click.echo(f"running {notebook.name} once, top to bottom, to adopt it...")
    adopted = create_adopted_project(directory, notebook, data, model, target, name)
    for line in summary_lines(adopted.adoption):
        click.echo(f"  {line}")
    click.echo(f"  tasks     {' -> '.join(adopted.tasks)} -> train -> evaluate -> register -> "
               "score" + (f" ({adopted.note})" if adopted.note else ""))
    _report(adopted.created, data, directory)


def _report(created: Created, data: Path, directory: Path) -> None:
    table = created.table
    click.secho(f"wrote {created.path} ({created.name}): {len(table.features)} features, "
                f"{table.rows:,} rows", bold=True)
    if created.delimiter is not None:
        from ..data.files import DELIMITER_NAMES

        click.echo(f"  read      {Path(data).name}: {DELIMITER_NAMES[created.delimiter]}-separated "
                   f"({created.delimiter!r}, sniffed from its first lines)")
    for header, reason in table.dropped.items():
        click.echo(f"  left out  {header}: {reason}")
    for name, spec in table.columns.items():
        if spec.get("format"):
            click.echo(f"  dates     {name}: format {spec['format']} (the one that reads every "
                       "value; change it in columns.yaml)")
    for name, note in table.notes.items():
        click.echo(f"  note      {name}: {note}")
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
    if created.raw_file != Path(data).name:
        click.echo(f"  data      data/raw/{created.raw_file} (the file's name, letters, digits, "
                   "_ and - kept: it is written into the project's files)")
    click.echo(f"next: review columns.yaml, then  cd {directory} && make run && make test")


@click.command()
@click.option(
    "--products",
    type=click.Path(path_type=Path),
    default=Path("products"),
    show_default=True,
    help="The pipeline's products folder.",
)
def summary(products: Path) -> None:
    """Print what the last build produced: the registered model, its metrics, the reports."""
    from ..pipeline.summary import build_summary

    built = build_summary(products)
    click.secho(f"registered model  {built.tag}  stage: {built.stage}  (store: {built.store})",
                bold=True)
    if built.last_event:
        click.echo(f"last event        {built.last_event}")
    click.echo(f"served from       {built.served}")
    click.echo(f"held-out metrics  {built.metrics}")
    click.echo(f"reports           {built.reports} ({', '.join(built.report_names)})")
    click.echo("next              nbprod bento            # the bento serving production (built if needed)")
    click.echo("                  bentoml serve BENTO     # serve it on 127.0.0.1:3000")
    click.echo("                  nbprod models list      # every version, its stage and metrics")
    click.echo("                  ploomber status         # what is up to date")


@click.command()
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("products/pipeline.html"), show_default=True,
              help="The picture: a self-contained .html page, or .svg.")
@click.option("--pipeline", type=click.Path(path_type=Path, dir_okay=False),
              help="The pipeline spec (default: pipeline.yaml, found as Ploomber does).")
def plot(output: Path, pipeline: Path | None) -> None:
    """Draw the pipeline offline: each task's status, last run and why it is outdated."""
    from ..pipeline.plot import load_status, write

    click.echo("rendering the pipeline to read each task's status (no task runs)...")
    nodes = load_status(pipeline)
    path = write(nodes, output, title=f"pipeline: {Path.cwd().name}")
    counts = {s: sum(n.status == s for n in nodes) for s in ("up to date", "outdated", "failed")}
    for node in nodes:
        when = f"last run {node.last_run}" if node.last_run else "no finished run recorded"
        why = f": {node.why}" if node.why else ""
        click.echo(f"  {node.name:<16} {node.status:<10} {when}{why}")
    click.echo(f"wrote {path} ({', '.join(f'{c} {s}' for s, c in counts.items())})")


@click.command("export")
@click.argument("engine", type=click.Choice(["airflow", "argo", "kubeflow"]))
@click.option("--project", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="The project folder (pipeline.yaml, export.yaml).")
@click.option("--image", default=None, help="Image every step runs in [default: export.yaml's].")
@click.option("--local", is_flag=True,
              help="Airflow: run each task here, in this project's environment, not in a pod.")
def export_(engine: str, project: Path, image: str | None, local: bool) -> None:
    """Write ENGINE's spec of pipeline.yaml into the ENGINE/ folder (see export.yaml)."""
    from ..export import export

    click.echo(f"wrote {export(project, engine, image=image, local=local)}")


@click.command()
@click.option("--model", "tag", help="Model tag (default: the one the service would serve: production).")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where bentofile.yaml is, if a bento must be built.")
@click.option("--build", "force", is_flag=True, help="Build a new bento even if one holds the model.")
def bento(tag: str | None, project: Path, force: bool) -> None:
    """Print the tag of the bento serving the production model; build it if there is none."""
    from ..registry.bento import bento_for, build_bento
    from ..serving.predictor import REGISTRATION, model_tag

    tag = tag or model_tag(registration=project / REGISTRATION)
    if force:
        bento_tag, built = build_bento(tag, project), True
    else:
        bento_tag, built = bento_for(tag, project)
    click.echo(f"{'built' if built else 'selected'} bento {bento_tag} for {tag}", err=True)
    click.echo(bento_tag)


COMMANDS = (new, summary, plot, export_, bento)
