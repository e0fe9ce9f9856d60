"""What the last build produced, for ``nbprod summary``: the registered model, its stage and
headline metrics, its last lifecycle event, and the reports; and one version's record, for
``nbprod models show``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NbprodError

#: the metadata of a version that ``nbprod models show`` prints, in this order, when present
RECORD_FIELDS = ("metrics", "test_set", "model", "trial", "compiled", "parameters", "git", "data",
                 "notebooks", "versions", "artifact", "fingerprint", "gate", "lifecycle")


@dataclass(frozen=True)
class BuildSummary:
    tag: str
    stage: str
    store: str
    metrics: str  # the headline metrics, formatted
    last_event: str | None  # "event: reason" of the newest lifecycle event
    served: str  # which form answers: the compiled graph and its parity, or why not
    reports: Path | str  # the index page, else the reports folder
    report_names: list[str]


def build_summary(products: Path) -> BuildSummary:
    """The summary of the build whose products are in ``products``."""
    from ..model.compiling import summary as compiled_summary
    from ..model.metrics import format_scores, headline
    from ..registry.lifecycle import stage_of
    from ..registry.store import bentoml_home, get_model

    registration = products / "model" / "registration.json"
    if not registration.is_file():
        raise NbprodError(f"{registration} not found; run the pipeline first (ploomber build)")
    model = get_model(json.loads(registration.read_text())["tag"])
    meta = model.info.metadata
    metrics = meta.get("metrics", {})
    events = meta.get("lifecycle", [])
    index = products / "reports" / "index.html"
    reports = sorted(p.name for p in (products / "reports").glob("*.html") if p != index)
    return BuildSummary(
        tag=str(model.tag), stage=stage_of(model), store=str(bentoml_home()),
        metrics=format_scores(metrics, headline(metrics, meta.get("gate"), limit=5)),
        last_event=f"{events[-1]['event']}: {events[-1]['reason']}" if events else None,
        served=compiled_summary(meta.get("compiled") or {}),
        reports=index if index.is_file() else f"{products / 'reports'}/",
        report_names=reports,
    )


def version_record(tag: str) -> dict[str, Any]:
    """One version as ``nbprod models show`` prints it: its tag, labels and creation time,
    then which form answers for it, then the metadata of :data:`RECORD_FIELDS` it holds
    (metrics, lineage, gate, events)."""
    from ..model.compiling import summary as compiled_summary
    from ..registry.store import get_model

    model = get_model(tag)
    meta = dict(model.info.metadata)
    return {
        "tag": str(model.tag),
        "labels": dict(model.info.labels),
        "created": model.info.creation_time.isoformat(timespec="seconds"),
        "served_from": compiled_summary(meta.get("compiled") or {}),
        **{k: meta[k] for k in RECORD_FIELDS if k in meta},
    }
