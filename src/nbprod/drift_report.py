"""The offline drift report: one HTML page with a summary table and a plot per feature."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .drift import DriftDetector, bin_labels, current_shares, reference_shares
from .errors import DataFileError

#: File names read as JSON lines: .jsonl/.ndjson, gzipped or not, the prediction log's
#: rotated copies (predictions.jsonl.1, .2, ...) and .log files.
JSON_LINES = re.compile(r"\.(jsonl|ndjson)(\.\d+)?(\.gz)?$|\.log$")


def load_inputs(path: str | Path) -> pd.DataFrame:
    """Model inputs from a CSV, Parquet or JSON-lines file.

    JSON lines may be prediction-log records (also a rotated copy, ``predictions.jsonl.1``),
    whose features sit under ``inputs``. A folder (the prediction log's) is read whole: every
    JSON-lines file in it, each server instance's and their rotated copies.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and JSON_LINES.search(p.name))
        if not files:
            raise DataFileError(path, "holds no JSON-lines file")
        return pd.concat([load_inputs(f) for f in files], ignore_index=True)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if JSON_LINES.search(path.name):
            records = [json.loads(line) for line in _lines(path) if line.strip()]
            if not records:
                raise DataFileError(path, "holds no record")
            if all(isinstance(r.get("inputs"), dict) for r in records):
                return pd.DataFrame([r["inputs"] for r in records])
            return pd.DataFrame(records)
        return pd.read_csv(path)
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:
        raise DataFileError(path, f"cannot be read: {exc}") from None


def _lines(path: Path) -> list[str]:
    if path.name.endswith(".gz"):
        import gzip

        with gzip.open(path, "rt") as fh:
            return fh.readlines()
    return path.read_text().splitlines()


def feature_figure(feature: str, ref: dict, values: pd.Series) -> str:
    """Reference vs current shares per bin, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = bin_labels(ref)
    expected, actual = reference_shares(ref), current_shares(values, ref)
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.bar(x - 0.2, expected, width=0.4, label="reference (training)")
    ax.bar(x + 0.2, actual, width=0.4, label="current")
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("share of rows")
    ax.set_title(feature)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def render(scores: pd.DataFrame, detector: DriftDetector, frame: pd.DataFrame, title: str) -> str:
    """The HTML page: drifted features first, then every feature's plot."""
    scores = scores.sort_values(["drifted", "psi"], ascending=[False, False])
    drifted = scores.index[scores["drifted"]].tolist()
    rows = "\n".join(
        f"<tr class='{'bad' if r.drifted else ''}'><td>{html.escape(f)}</td><td>{r.psi:.4f}</td>"
        f"<td>{r.js_distance:.4f}</td><td>{r.rows}</td><td>{'DRIFT' if r.drifted else 'ok'}</td></tr>"
        for f, r in scores.iterrows()
    )
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
tr.bad{{background:#fdd}} figure{{display:inline-block;margin:4px}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p><b>{verdict}</b> (PSI threshold {detector.threshold}, at least {detector.min_rows} rows;
{len(frame):,} rows checked; {datetime.now(UTC).isoformat(timespec="seconds")})</p>
<table><tr><th>feature</th><th>PSI</th><th>Jensen-Shannon</th><th>rows</th><th>status</th></tr>
{rows}</table>
<h2>Reference vs current, per feature</h2>
{figures}
</body></html>
"""
