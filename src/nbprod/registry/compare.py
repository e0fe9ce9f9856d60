"""Two versions of a model side by side (``nbprod models compare``).

:func:`compare` sets version A (by default the newest version that is not in production,
the candidate) against version B (by default production): every scalar metric with the
difference and whether A is better or worse in that metric's direction
(:data:`nbprod.model.metrics.DIRECTIONS`), the parameters, data files, code and test set
(:mod:`nbprod.data.test_set`) that differ in their lineage, whether their metrics are on
the same held-out rows, and the gate's decision for A against B under A's recorded gate.
:func:`timeline` gives every version's metrics in time order and the periods each one was
in production, for the plot of metrics over versions. Nothing here renders: the command
line prints a :class:`Comparison`, :mod:`nbprod.pipeline.compare_page` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import ConfigError, ModelStoreError
from ..model.metrics import NOT_SCORES, higher_is_better
from .gate import GateDecision, GatePolicy, judge

#: where a version keeps its evaluation curves, aggregates that hold no row (a file of the
#: model written at registration: :func:`nbprod.model.curves.curve_summary`)
CURVES_FILE = "evaluation/curves.json"


@dataclass(frozen=True)
class MetricDelta:
    """One metric of A and B; ``verdict`` is ``better``, ``worse`` or ``same`` for A, or
    ``""`` when a value is missing or the metric's direction is unknown."""

    name: str
    a: float | None
    b: float | None
    higher_is_better: bool | None

    @property
    def difference(self) -> float | None:
        return None if self.a is None or self.b is None else self.a - self.b

    @property
    def verdict(self) -> str:
        diff = self.difference
        if diff is None or self.higher_is_better is None:
            return ""
        if abs(diff) < 1e-12:
            return "same"
        return "better" if (diff > 0) == self.higher_is_better else "worse"


@dataclass(frozen=True)
class Difference:
    """One lineage entry that differs: its section (``parameters``, ``data``, ``code``,
    ``model``), its dotted key and both values (None: absent)."""

    section: str
    key: str
    a: Any
    b: Any


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    a_stage: str
    b_stage: str
    metrics: list[MetricDelta]
    differences: list[Difference]
    decision: GateDecision | None  # A judged against B under A's gate; None without a gate
    recorded: str | None = None  # the gate's decision recorded in A's lifecycle, if any
    notes: list[str] = field(default_factory=list)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted keys -> leaf values (lists are leaves)."""
    if not isinstance(value, Mapping):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _scalar(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def metric_deltas(a: Mapping[str, Any], b: Mapping[str, Any],
                  order: list[str] | None = None) -> list[MetricDelta]:
    """Every scalar score of either metrics mapping, ``order`` first."""
    names = [k for k in (*(order or []), *a, *b)
             if k not in NOT_SCORES and (_scalar(a.get(k)) is not None or _scalar(b.get(k)) is not None)]
    return [MetricDelta(n, _scalar(a.get(n)), _scalar(b.get(n)), higher_is_better(n))
            for n in dict.fromkeys(names)]


def lineage_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Difference]:
    """The parameters, data files, code and model description that differ between two
    versions' metadata."""
    out: list[Difference] = []
    sections = {
        "parameters": lambda m: flatten(m.get("parameters") or {}),
        "data": lambda m: {k: v.get("sha256") if isinstance(v, Mapping) else v
                           for k, v in (m.get("data") or {}).items()},
        # the executed notebooks' hashes are left out: their outputs differ at every run
        "code": lambda m: {f"git.{k}": v for k, v in (m.get("git") or {}).items()},
        "test set": lambda m: dict(m.get("test_set") or {}),
        "model": lambda m: {k: v for k, v in flatten(m.get("model") or {}).items()
                            if not k.startswith("libraries")},
    }
    for section, pick in sections.items():
        left, right = pick(a), pick(b)
        for key in dict.fromkeys([*left, *right]):
            if left.get(key) != right.get(key):
                out.append(Difference(section, key, left.get(key), right.get(key)))
    return out


def compare_metadata(a: str, b: str, meta_a: Mapping[str, Any], meta_b: Mapping[str, Any],
                     stage_a: str = "", stage_b: str = "") -> Comparison:
    """The comparison of two versions from their metadata (pure)."""
    from ..model.metrics import headline

    gate = meta_a.get("gate") or meta_b.get("gate")
    metrics_a, metrics_b = meta_a.get("metrics") or {}, meta_b.get("metrics") or {}
    order = headline({**metrics_b, **metrics_a}, gate)
    decision, notes = None, []
    if gate:
        try:
            decision = judge(dict(metrics_a), dict(metrics_b), GatePolicy.from_dict(dict(gate)))
        except ConfigError as exc:
            notes.append(f"the recorded gate cannot be applied: {exc}")
    else:
        notes.append(f"{a} records no gate: no decision")
    notes.append(_test_sets(meta_a.get("test_set"), meta_b.get("test_set")))
    recorded = next((f"{e['event']}: {e['reason']}" for e in reversed(meta_a.get("lifecycle", []))
                     if e.get("event") in ("promoted", "not_promoted")), None)
    return Comparison(a, b, stage_a, stage_b, metric_deltas(metrics_a, metrics_b, order),
                      lineage_differences(meta_a, meta_b), decision, recorded, notes)


def _test_sets(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> str:
    """Whether the two versions' metrics are on the same held-out rows."""
    from ..data.test_set import describe

    if a and b and a.get("sha256") == b.get("sha256"):
        return f"test set: the same rows for both ({describe(dict(a))})"
    return (f"test set: A {describe(dict(a or {}))}, B {describe(dict(b or {}))}: the metrics "
            "above are on different rows or unknown ones; the gate at registration "
            "re-scores production on the candidate's rows (recorded decision above)")


def pick_pair(name: str, a: str | None = None, b: str | None = None) -> tuple[Any, Any]:
    """The two stored versions to compare: ``a`` (default: the newest version that is not
    in production) and ``b`` (default: production, or, when ``a`` is production, the
    version promoted before it). A version may be given without its ``name:`` prefix."""
    from .lifecycle import PRODUCTION, production, stage_of, versions
    from .store import get_model

    def full(tag: str) -> str:
        return tag if ":" in tag else f"{name}:{tag}"

    current = production(name)
    first = get_model(full(a)) if a is not None else None
    if b is None and first is not None and current is not None and first.tag == current.tag:
        current = _promoted_before(name, str(current.tag))  # production against its predecessor
    if b is None and current is None:
        raise ModelStoreError(f"model {name!r} has no production version to compare with; "
                              "give two versions: nbprod models compare A B")
    second = get_model(full(b)) if b is not None else current
    if first is None:
        others = [m for m in versions(name)
                  if stage_of(m) != PRODUCTION and str(m.tag) != str(second.tag)]
        if not others:
            raise ModelStoreError(f"model {name!r} has no version besides {second.tag} to "
                                  "compare with it; train one (ploomber build)")
        first = others[-1]
    return first, second


def _promoted_before(name: str, tag: str):
    """The version last promoted before ``tag`` was, or None."""
    from .lifecycle import history
    from .store import get_model

    events = [e for e in history(name) if e["event"] == "promoted"]
    mine = [i for i, e in enumerate(events) if e["tag"] == tag]
    earlier = [e for e in events[:mine[-1]] if e["tag"] != tag] if mine else []
    return get_model(earlier[-1]["tag"]) if earlier else None


def compare(name: str, a: str | None = None, b: str | None = None) -> Comparison:
    """Version ``a`` against version ``b`` of model ``name`` (defaults: :func:`pick_pair`)."""
    from .lifecycle import stage_of
    from .store import read_info

    first, second = pick_pair(name, a, b)
    return compare_metadata(str(first.tag), str(second.tag), read_info(first).metadata,
                            read_info(second).metadata, stage_of(first), stage_of(second))


@dataclass(frozen=True)
class VersionPoint:
    tag: str
    created: datetime
    stage: str
    metrics: dict[str, float]


def timeline(name: str) -> tuple[list[VersionPoint], list[tuple[str, datetime, datetime | None]]]:
    """Every version of ``name`` oldest first with its scalar metrics, and the production
    periods ``(tag, from, until)`` from the lifecycle events (``until`` None: still now)."""
    from .lifecycle import history, stage_of, versions

    points = [VersionPoint(str(m.tag), m.info.creation_time, stage_of(m),
                           {k: float(v) for k, v in m.info.metadata.get("metrics", {}).items()
                            if k not in NOT_SCORES and _scalar(v) is not None})
              for m in versions(name)]
    periods: list[tuple[str, datetime, datetime | None]] = []
    current: tuple[str, datetime] | None = None
    for event in history(name):
        at = datetime.fromisoformat(event["at"])
        if event["event"] == "promoted":
            if current is not None and current[0] != event["tag"]:
                periods.append((current[0], current[1], at))
            if current is None or current[0] != event["tag"]:
                current = (event["tag"], at)
        elif event["event"] in ("demoted", "rolled_back") and current and current[0] == event["tag"]:
            periods.append((current[0], current[1], at))
            current = None
    if current is not None:
        periods.append((current[0], current[1], None))
    return points, periods
