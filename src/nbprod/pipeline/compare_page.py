"""The comparison page of two model versions (``nbprod models compare --html PATH``).

One self-contained HTML page (no script, nothing downloaded; the figures are inline PNG):
the metrics side by side with the difference and its direction, the lineage entries that
differ (parameters, data, code, model), the gate's decision, both versions' held-out
evaluation curves overlaid (:func:`nbprod.model.compare_plots.overlaid_curves`, from the
aggregated curves each version keeps in the store, which hold no row) and every version's
metrics over time with the production periods shaded. Written beside the build's reports
(``products/reports/compare.html``), the report index links it.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from pathlib import Path
from typing import Any

from ..registry.compare import CURVES_FILE, Comparison

log = logging.getLogger(__name__)

PAGE_NAME = "compare.html"


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def stored_curves(stored: Any) -> dict[str, Any] | None:
    """The evaluation curves a version keeps in the store (aggregates), or None."""
    path = Path(stored.path) / "files" / CURVES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def figures(name: str, comparison: Comparison) -> tuple[str, str]:
    """The two figures' HTML: the overlaid curves (or why there are none) and the metrics
    over time."""
    from ..model.compare_plots import metrics_over_time, overlaid_curves
    from ..registry.compare import timeline
    from ..registry.store import get_model, schema_of

    runs, missing = {}, []
    for which, tag in (("A", comparison.a), ("B", comparison.b)):
        kept = stored_curves(get_model(tag))
        if kept is None:
            missing.append(tag)
        else:  # a short label: the legend must not squeeze the axes
            runs[f"{which} {tag.partition(':')[2]}"] = kept
    schema = schema_of(get_model(comparison.a))
    curves = ""
    if runs:
        curves = _png(overlaid_curves(schema.model_kind, runs, schema.classes))
    if missing:
        curves += ("<p class=note>No evaluation curves stored with "
                   f"{html.escape(', '.join(missing))} (registered without held-out "
                   "predictions, or before nbprod kept their curves): its curves are not "
                   "drawn.</p>")
    points, periods = timeline(name)
    shown = [m.name for m in comparison.metrics][:4]
    history = _png(metrics_over_time(points, periods, shown, (comparison.a, comparison.b)))
    return curves, history


def render(name: str, comparison: Comparison, curves: str, history: str) -> str:
    """The page's HTML (pure)."""
    a, b = html.escape(comparison.a), html.escape(comparison.b)
    rows = []
    for m in comparison.metrics:
        diff = m.difference
        arrow = {True: " ↑", False: " ↓", None: ""}[m.higher_is_better]
        rows.append(f"<tr><td>{html.escape(m.name)}{arrow}</td><td>{_value(m.a)}</td>"
                    f"<td>{_value(m.b)}</td><td>{'—' if diff is None else f'{diff:+.4f}'}</td>"
                    f'<td class="{m.verdict}">{m.verdict or "—"}</td></tr>')
    diffs = [f"<tr><td>{html.escape(d.section)}</td><td>{html.escape(d.key)}</td>"
             f"<td>{_value(d.a)}</td><td>{_value(d.b)}</td></tr>" for d in comparison.differences]
    decision = (html.escape(comparison.decision.describe()) if comparison.decision
                else "no gate recorded")
    recorded = (f"<p>Recorded at registration: {html.escape(comparison.recorded)}</p>"
                if comparison.recorded else "")
    notes = "".join(f"<p class=note>{html.escape(n)}</p>" for n in comparison.notes)
    lineage = (f"<table><thead><tr><th>section</th><th>entry</th><th>A</th><th>B</th></tr>"
               f"</thead><tbody>{''.join(diffs)}</tbody></table>" if diffs
               else "<p>Same parameters, data, code and model description.</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(name)}: {a} against {b}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
  overflow-wrap: anywhere; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1rem; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .35rem .6rem; text-align: left;
  overflow-wrap: anywhere; }}
td:first-child {{ white-space: nowrap; overflow-wrap: normal; }}
.better {{ color: #1b5e20; font-weight: bold; }} .worse {{ color: #b71c1c; font-weight: bold; }}
.note {{ color: #6d4c41; }} pre {{ white-space: pre-wrap; background: #f3f6fa; padding: .6rem; }}
img {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}
</style></head>
<body>
<h1>{html.escape(name)}: A against B</h1>
<p>A: <b>{a}</b> ({html.escape(comparison.a_stage)}) · B: <b>{b}</b>
({html.escape(comparison.b_stage)})</p>
<h2>Metrics</h2>
<table><thead><tr><th>metric</th><th>A</th><th>B</th><th>A − B</th><th>A is</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<h2>Gate</h2>
<pre>{decision}</pre>
{recorded}{notes}
<h2>What differs in the lineage</h2>
{lineage}
<h2>Evaluation curves on the held-out rows (aggregated: no row is kept)</h2>
{curves}
<h2>Every version over time</h2>
{history}
</body></html>
"""


def write_page(name: str, comparison: Comparison, path: str | Path) -> Path:
    """Draw the figures and write the page to ``path``; its path."""
    curves, history = figures(name, comparison)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(name, comparison, curves, history), encoding="utf-8")
    log.info("comparison page: %s", out)
    return out
