"""The offline drift report: one HTML page with a summary table and a plot per feature.

Besides the features, the page says which rows it covers (the time range of a prediction
log, and how many torn lines were skipped) and, when the rows carry predictions and the
model its evaluation's histogram (``prediction_reference``), plots the served
probabilities against the held-out ones.
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.drift import (
    PREDICTION_REFERENCE,
    DriftDetector,
    bin_labels,
    current_shares,
    prediction_drift,
    reference_shares,
)
from ..errors import DataFileError

log = logging.getLogger(__name__)

#: File names read as JSON lines: .jsonl/.ndjson, gzipped or not, the prediction log's
#: rotated copies (predictions.jsonl.1, .2, ...) and .log files.
JSON_LINES = re.compile(r"\.(jsonl|ndjson)(\.\d+)?(\.gz)?$|\.log$")


@dataclass(frozen=True)
class Inputs:
    """What a data file or prediction log holds for the drift check."""

    frame: pd.DataFrame
    skipped_lines: int = 0  # torn or unreadable JSON lines (a writer killed mid-line)
    first: datetime | None = None  # time range of the records' ``timestamp``
    last: datetime | None = None
    probabilities: pd.Series | None = None  # a prediction log's ``probability``
    #: what a prediction log's predictions drift in: the probability (binary), the class
    #: (multiclass, a line with ``probabilities``) or the value (regression, ``prediction``)
    predictions: pd.Series | None = None
    #: records of other models left out (``model_version`` -> count): a shared log folder
    others: dict[str, int] = field(default_factory=dict)

    def span(self) -> str:
        """The rows covered, in words."""
        if self.first is None or self.last is None:
            text = "rows without timestamps"
        else:
            text = f"records from {_iso(self.first)} to {_iso(self.last)}"
        if self.skipped_lines:
            text += f"; {self.skipped_lines} torn or unreadable line(s) skipped"
        if self.others:
            text += f"; {self.other_records()}"
        return text

    def other_records(self) -> str:
        """The records of other models left out, with their counts, in words."""
        listed = ", ".join(f"{tag} ({n})" for tag, n in sorted(self.others.items()))
        return f"{sum(self.others.values())} record(s) of other models left out: {listed}"


def load_inputs(path: str | Path) -> pd.DataFrame:
    """Model inputs from a CSV, Parquet or JSON-lines file (see :func:`read_inputs`)."""
    return read_inputs(path).frame


def read_inputs(path: str | Path, model: str | None = None) -> Inputs:
    """Model inputs from a CSV, Parquet or JSON-lines file.

    With ``model`` (a model name), prediction-log records of another model (their
    ``model_version`` names another) are left out and counted (:attr:`Inputs.others`), and
    a log folder holding a folder per model (:func:`nbprod.monitoring.prediction_log.
    model_log_dir`) is read in that model's folder.

    JSON lines may be prediction-log records (also a rotated copy, ``predictions.jsonl.1``),
    whose features sit under ``inputs``. A line that is not a JSON object (a torn last line
    left by a killed writer) is skipped and counted; a file with no readable record is an
    error.
    A folder (the prediction log's) is read whole: every JSON-lines file in it, each server
    instance's and their rotated copies.
    """
    path = Path(path)
    inputs = _read(path, model)
    if inputs.frame.empty and inputs.others:
        raise DataFileError(path, f"holds no record of model {model!r}; {inputs.other_records()}")
    return inputs


def _read(path: Path, model: str | None) -> Inputs:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and JSON_LINES.search(p.name))
        if not files and model is not None and (path / model).is_dir():
            return _read(path / model, model)  # the root of the per-model folders
        if not files:
            raise DataFileError(path, "holds no JSON-lines file")
        parts = [_read(f, model) for f in files]
        others: dict[str, int] = {}
        for part in parts:
            for tag, n in part.others.items():
                others[tag] = others.get(tag, 0) + n
        firsts = [p.first for p in parts if p.first is not None]
        lasts = [p.last for p in parts if p.last is not None]
        probs = [p.probabilities for p in parts if p.probabilities is not None]
        preds = [p.predictions for p in parts if p.predictions is not None]
        return Inputs(
            pd.concat([p.frame for p in parts], ignore_index=True),
            skipped_lines=sum(p.skipped_lines for p in parts),
            first=min(firsts) if firsts else None, last=max(lasts) if lasts else None,
            probabilities=pd.concat(probs, ignore_index=True) if probs else None,
            predictions=pd.concat(preds, ignore_index=True) if preds else None,
            others=others,
        )
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        if path.suffix == ".parquet":
            return Inputs(pd.read_parquet(path))
        if JSON_LINES.search(path.name):
            return _json_lines(path, model)
        return Inputs(pd.read_csv(path))
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:
        raise DataFileError(path, f"cannot be read: {exc}") from None


def _json_lines(path: Path, model: str | None = None) -> Inputs:
    records, skipped = [], 0
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            skipped += 1
            log.warning("%s:%d: skipped a line that is not a JSON record", path, number)
            continue
        records.append(record)
    if not records:
        why = f"no line is a JSON record ({skipped} unreadable)" if skipped else "holds no record"
        raise DataFileError(path, f"cannot be read: {why}")
    logged = all(isinstance(r.get("inputs"), dict) for r in records)
    others: dict[str, int] = {}
    if logged and model is not None:
        mine = [r for r in records if str(r.get("model_version", model)).partition(":")[0] == model]
        for r in records:
            if str(r.get("model_version", model)).partition(":")[0] != model:
                others[str(r["model_version"])] = others.get(str(r["model_version"]), 0) + 1
        if not mine:
            return Inputs(pd.DataFrame(), skipped, others=others)
        records = mine
    frame = pd.DataFrame([r["inputs"] for r in records] if logged else records)
    stamps = pd.to_datetime(pd.Series([r.get("timestamp") for r in records]), errors="coerce",
                            utc=True).dropna()
    probabilities = None
    if logged and all("probability" in r for r in records):
        probabilities = pd.to_numeric(pd.Series([r["probability"] for r in records]),
                                      errors="coerce")
    return Inputs(frame, skipped,
                  stamps.min().to_pydatetime() if len(stamps) else None,
                  stamps.max().to_pydatetime() if len(stamps) else None,
                  probabilities, _predictions(records) if logged else None, others)


def _predictions(records: list[dict]) -> pd.Series | None:
    """The logged predictions, by the kind the lines show (see :attr:`Inputs.predictions`)."""
    for key in ("probability", "prediction"):
        if all(key in r for r in records):
            return pd.to_numeric(pd.Series([r[key] for r in records]), errors="coerce")
    if all("probabilities" in r and "label" in r for r in records):
        return pd.Series([r["label"] for r in records], dtype=object)
    return None


def _lines(path: Path) -> list[str]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", errors="replace") as fh:
            return fh.read().splitlines()
    return path.read_text(errors="replace").splitlines()


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def bar_figure(title: str, labels: list[str], expected: Any, actual: Any,
               names: tuple[str, str] = ("reference (training)", "current")):
    """Reference vs current shares per bin as horizontal bars: every label whole, on the left.

    The figure is as tall as its bins need and laid out by matplotlib's constrained layout,
    so no label is cut at the figure's edge.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    y = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.32 * len(labels)), layout="constrained")
    ax.barh(y - 0.2, expected, height=0.4, label=names[0])
    ax.barh(y + 0.2, actual, height=0.4, label=names[1])
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()  # first bin on top
    ax.set_xlabel("share of rows")
    ax.set_title(title)
    # below the axes, never on a bar (inside, "best" still covered the longest ones)
    fig.legend(fontsize=7, loc="outside lower center", ncols=2, frameon=False)
    return fig


def feature_figure(feature: str, ref: dict, values: pd.Series) -> str:
    """Reference vs current shares per bin, as a base64 PNG."""
    return _png(bar_figure(feature, bin_labels(ref), reference_shares(ref),
                           current_shares(values, ref)))


def prediction_figure(reference: dict, probabilities: pd.Series) -> str:
    """Served probabilities vs the evaluation's (held-out) ones, in the same bins, as PNG."""
    import numpy as np

    edges = reference["bin_edges"]
    labels = [f"[{edges[i]:.2g}, {edges[i + 1]:.2g}{']' if i == len(edges) - 2 else ')'}"
              for i in range(len(edges) - 1)]
    counts, _ = np.histogram(probabilities.dropna().clip(0, 1), bins=np.asarray(edges))
    actual = counts / max(counts.sum(), 1)
    return _png(bar_figure("predicted probability", labels, reference["frequencies"], actual,
                           names=(f"evaluation ({reference.get('rows', '?')} held-out rows)",
                                  "served")))


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _predictions_section(inputs: Inputs, prediction_reference: dict | None,
                         shift: pd.Series | None = None) -> str:
    if inputs.probabilities is None:
        return ""
    head = "<h2>Predicted probability: served vs evaluation</h2>"
    served = inputs.probabilities.dropna()
    summary = f"<p>{len(served):,} served predictions, mean {served.mean():.4f}.</p>"
    if not prediction_reference:
        return (head + summary + "<p>The model's metadata has no <code>prediction_reference"
                "</code> (the evaluation's histogram; see <code>nbprod.data.drift."
                "prediction_reference</code>), so there is nothing to compare with.</p>")
    rows = prediction_reference.get("rows", "?")
    if shift is not None:
        summary += (f"<p class='prediction-psi'>PSI of the predictions against the evaluation's: "
                    f"<b>{shift.psi:.4f}</b> (Jensen-Shannon {shift.js_distance:.4f}, "
                    f"{'shifted' if shift.drifted else 'ok'}), the statistic <code>/metrics"
                    "</code> gives live as <code>nbprod_prediction_drift_psi</code>.</p>")
    return (head + summary + "<figure><img alt='predicted probability' src='data:image/png;"
            f"base64,{prediction_figure(prediction_reference, served)}'><figcaption>share of "
            f"predictions per probability bin: evaluation ({rows} held-out rows) vs served"
            "</figcaption></figure>")


def render(scores: pd.DataFrame, detector: DriftDetector, inputs: Inputs | pd.DataFrame,
           title: str, prediction_reference: dict | None = None) -> str:
    """The HTML page: the rows covered, drifted features first, every feature's plot, and
    the predicted probabilities against the evaluation's when both are known."""
    if isinstance(inputs, pd.DataFrame):
        inputs = Inputs(inputs)
    frame = inputs.frame
    scores = scores.sort_values(["drifted", "psi"], ascending=[False, False])
    drifted = scores.index[scores["drifted"]].tolist()
    rows = "\n".join(
        f"<tr class='{'bad' if r.drifted else ''}'><td>{html.escape(f)}</td><td>{r.psi:.4f}</td>"
        f"<td>{r.js_distance:.4f}</td><td>{r.rows}</td><td>{words(r)}</td>"
        f"<td>{'DRIFT' if r.drifted else 'ok'}</td></tr>"
        for f, r in scores.iterrows()
    )
    shift = None
    if prediction_reference and inputs.predictions is not None:
        shift = prediction_drift(prediction_reference, inputs.predictions, detector.threshold,
                                 detector.min_rows)
        rows += (f"\n<tr class='{'bad' if shift.drifted else ''}'><td>(predictions)</td>"
                 f"<td>{shift.psi:.4f}</td><td>{shift.js_distance:.4f}</td><td>{shift.rows}</td>"
                 f"<td></td><td>{'shifted' if shift.drifted else 'ok'}</td></tr>")
    figures = "\n".join(
        f"<figure><img alt='{html.escape(f)}' src='data:image/png;base64,"
        f"{feature_figure(f, detector.reference_[f], frame[f])}'></figure>"
        for f in scores.index
    )
    verdict = (f"{len(drifted)} feature(s) drifted: {', '.join(map(html.escape, drifted))}"
               if drifted else "no feature drifted")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}} td:first-child{{text-align:left}}
tr.bad{{background:#fdd}} figure{{display:inline-block;margin:4px;vertical-align:top}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p><b>{verdict}</b> (PSI threshold {detector.threshold}, at least {detector.min_rows} rows;
{len(frame):,} rows checked; report written {_iso(datetime.now(UTC))})</p>
<p class="span">Covers: {html.escape(inputs.span())}.</p>
<table><tr><th>feature</th><th>PSI</th><th>Jensen-Shannon</th><th>rows</th>
<th>words: unseen, overlap</th><th>status</th></tr>
{rows}</table>
{_predictions_section(inputs, prediction_reference, shift)}
<h2>Reference vs current, per feature</h2>
{figures}
</body></html>
"""


def words(row: Any) -> str:
    """A text feature's unseen-word share and word overlap (blank for another kind)."""
    unseen, overlap = row.get("unseen_tokens"), row.get("token_overlap")
    if unseen is None or pd.isna(unseen):
        return ""
    return f"{unseen:.1%} unseen, overlap {overlap:.2f}"


@dataclass(frozen=True)
class DriftCheck:
    """The result of :func:`check_drift`: the scores per feature and what they cover."""

    scores: pd.DataFrame  # psi, js_distance, drifted per feature
    inputs: Inputs
    output: Path
    #: the served predictions against the evaluation's (psi, js_distance, rows, drifted), when
    #: the model stores a prediction reference and the log holds the predictions
    predictions: pd.Series | None = None

    @property
    def drifted(self) -> list[str]:
        """The drifted features (the exit code counts these; the predictions' shift is shown
        beside them)."""
        return self.scores.index[self.scores["drifted"]].tolist()


def check_drift(data: Path, tag: str, threshold: float, min_rows: int,
                output: Path) -> DriftCheck:
    """Score ``data`` against model ``tag``'s training reference; write the report to ``output``."""
    from ..errors import NbprodError
    from ..registry.store import get_model

    model = get_model(tag)
    reference = model.info.metadata.get("reference_statistics")
    if not reference:
        raise NbprodError(f"model {model.tag} has no reference_statistics in its metadata")
    inputs = read_inputs(data, model.tag.name)
    if inputs.others:
        log.info("%s: %s", data, inputs.other_records())
    detector = DriftDetector(threshold=threshold, min_rows=min_rows).fit(reference)
    scores = detector.score(inputs.frame)
    ref = model.info.metadata.get(PREDICTION_REFERENCE)
    output.write_text(render(scores, detector, inputs, f"Drift of {data.name} against {model.tag}",
                             ref))
    predictions = None
    if ref and inputs.predictions is not None:
        predictions = prediction_drift(ref, inputs.predictions, threshold, min_rows)
    return DriftCheck(scores, inputs, output, predictions)
