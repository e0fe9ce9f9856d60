"""``nbprod synth`` and ``nbprod score``: more rows, and every row of a file or a data set
scored, with a progress display from the first moment."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import env_value, production_tag

__all__ = ["COMMANDS"]


@click.command()
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
    from ..data import synth as generator
    from ..data.columns import ColumnTable
    from .progress import RowsProgress

    table = ColumnTable.load(columns_file)
    source = source or Path(env_value("raw_data"))
    with RowsProgress("generating") as bar:
        bar.stage(f"reading {source}")
        real = generator.real_rows(source, table)
        bar.start(rows)
        generator.write(real, table, output, rows, seed=seed, chunk_rows=chunk_size,
                        progress=bar.advance)
    click.echo(f"wrote {rows:,} synthetic rows (seed {seed}) sampled from {source} to {output}")


@click.command()
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
    from .progress import RowsProgress

    if scheduler is None and source.suffix and not any(c in str(source) for c in "*?["):
        from ..errors import DataFileError

        if not source.is_file():  # named before the model is looked up
            raise DataFileError(str(source), "no such file")
    if tag is None:
        tag = production_tag()
        click.echo(f"using {tag}: the production version (pass --model for another)", err=True)
    if scheduler is None and source.is_file():
        with RowsProgress("scoring") as bar:  # on screen before the slow imports and the model load
            bar.stage("counting rows")
            from ..serving.batch import count_rows, score_file

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
    from ..serving.dataset_scoring import score_dataset

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


COMMANDS = (synth, score)
