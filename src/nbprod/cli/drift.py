"""``nbprod drift``: a data file or a prediction log against the model's training
reference, with an exit code a script can tell drift from a failure by."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import NbprodError
from ._common import debugging, production_tag

__all__ = ["COMMANDS", "DRIFT_ERROR", "DRIFT_FOUND", "DRIFT_NONE"]

#: `nbprod drift`'s exit codes (docs/drift.md): a script can tell drift from a failure.
DRIFT_NONE, DRIFT_FOUND, DRIFT_ERROR = 0, 1, 2


@click.command()
@click.argument("data", type=click.Path(path_type=Path), required=False)
@click.option("--model", "tag", help="Model tag (default: the production version of model_name).")
@click.option("--threshold", default=0.2, show_default=True, help="PSI over which a feature drifted.")
@click.option("--min-rows", default=50, show_default=True, help="Fewer rows never count as drift.")
@click.option("--output", type=click.Path(path_type=Path), default=Path("drift_report.html"),
              show_default=True)
@click.pass_context
def drift(ctx: click.Context, data: Path | None, tag: str | None, threshold: float, min_rows: int,
          output: Path) -> None:
    """Compare DATA (CSV, Parquet or a JSON-lines prediction log) with the model's training
    reference and write an HTML report.

    DATA defaults to the model's own prediction log folder (NBPROD_PREDICTION_LOG_DIR or
    ~/.local/state/nbprod/predictions, then the model's name). Only the model's records are
    read: records of other models are left out, with a warning that counts them.

    Exit codes: 0 no feature drifted, 1 a feature drifted, 2 the check
    could not be made (unreadable file, no model, no reference).
    """
    try:
        drifted = _drift(data, tag, threshold, min_rows, output)
    except NbprodError as exc:
        if debugging(ctx):
            raise
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(DRIFT_ERROR)
    if drifted:
        click.secho(f"{len(drifted)} feature(s) drifted past PSI {threshold}: "
                    f"{', '.join(drifted)}", fg="red", err=True)
        sys.exit(DRIFT_FOUND)
    sys.exit(DRIFT_NONE)


def _drift(data: Path | None, tag: str | None, threshold: float, min_rows: int,
           output: Path) -> list[str]:
    """Check, print and write the report; the drifted features (and the predictions)."""
    from ..monitoring.drift_report import check_drift, words
    from ..monitoring.prediction_log import configured_log_dir, model_log_dir

    tag = tag or production_tag()
    if data is None:
        root = configured_log_dir()
        if root is None:
            raise NbprodError("NBPROD_PREDICTION_LOG_DIR is empty (no prediction log): give DATA")
        data = model_log_dir(root, tag)
    result = check_drift(data, tag, threshold, min_rows, output)
    if result.inputs.others:
        click.secho(f"warning: {data}: {result.inputs.other_records()}", fg="yellow", err=True)
    click.echo(f"{data}: {result.inputs.span()}")
    for feature, row in result.scores.sort_values("psi", ascending=False).iterrows():
        mark = click.style("DRIFT", fg="red") if row.drifted else click.style("ok", fg="green")
        text = f"  words: {said}" if (said := words(row)) else ""
        click.echo(f"{feature:<20} psi={row.psi:7.4f}  js={row.js_distance:6.4f}  {mark}{text}")
    if (row := result.predictions) is not None:  # the served predictions against the evaluation's
        mark = click.style("shifted", fg="red") if row.drifted else click.style("ok", fg="green")
        click.echo(f"{'(predictions)':<20} psi={row.psi:7.4f}  js={row.js_distance:6.4f}  {mark}")
    click.echo(f"report: {output}")
    return result.drifted


COMMANDS = (drift,)
