"""The ``nbprod`` command line: a thin layer over the library.

It catches only nbprod's own errors, prints one clear line for them and exits 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
@click.argument("rows", type=click.IntRange(min=1))
@click.argument("output", type=click.Path(path_type=Path))
@click.option(
    "--source",
    type=click.Path(path_type=Path),
    default=Path("data/raw/telco_churn.csv.gz"),
    show_default=True,
    help="The real raw file the synthetic rows are sampled from.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=250_000, show_default=True)
@click.option("--cleaned", is_flag=True,
              help="Fill total_charges of new customers as the ingest step does (a file to score).")
def synth(rows: int, output: Path, source: Path, seed: int, chunk_size: int, cleaned: bool) -> None:
    """Write ROWS synthetic Telco customers to OUTPUT (.parquet, .csv or .csv.gz)."""
    from churn import synth as generator

    real = generator.real_rows(source)
    with _progress("generating", rows) as advance:
        generator.write(real, output, rows, seed=seed, chunk_rows=chunk_size, progress=advance,
                        cleaned=cleaned)
    click.echo(f"wrote {rows:,} synthetic rows (seed {seed}) sampled from {source} to {output}")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--model", "tag", default="telco_churn", show_default=True,
              help="Model tag in the BentoML store (a name alone means its latest version).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Label threshold [default: the one the model was evaluated with].")
@click.option("--keep", multiple=True, help="An input column to copy to the output (repeatable).")
def score(
    source: Path, output: Path, tag: str, chunk_size: int, threshold: float | None,
    keep: tuple[str, ...],
) -> None:
    """Score every row of SOURCE (.parquet or .csv) with a registered model into OUTPUT."""
    from .batch import count_rows, score_file

    with _progress("scoring", count_rows(source)) as advance:
        result = score_file(tag, source, output, chunk_rows=chunk_size, threshold=threshold,
                            keep=list(keep), progress=advance)
    click.echo(
        f"scored {result.rows:,} rows in {result.chunks} chunk(s) with {result.model}: "
        f"{result.positives:,} at or above {result.threshold} -> {result.output}"
    )


@main.command("export")
@click.argument("target")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="The project folder (holding soopervisor.yaml).")
@click.option("--build-image", is_flag=True,
              help="Build and push the image with Docker (default: only write the spec).")
@click.option("--image", default=None, help="Image the spec names [default: REPOSITORY/PROJECT:latest].")
def export_(target: str, project: Path, build_image: bool, image: str | None) -> None:
    """Export the pipeline to TARGET of soopervisor.yaml (Argo, Airflow or Kubeflow)."""
    from .export import export

    click.echo(f"wrote {export(project, target, skip_docker=not build_image, image=image)}")


@contextmanager
def _progress(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (rows done of total, time); off when it is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = [TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


if __name__ == "__main__":  # pragma: no cover
    main()
