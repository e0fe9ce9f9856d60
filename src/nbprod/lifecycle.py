"""Model lifecycle: the quality gate, promotion and rollback, kept in the BentoML store.

Each version of a model carries a ``stage`` label (``candidate``, ``production`` or
``archived``) and, in its metadata, a ``lifecycle`` list of dated events
(``registered``, ``promoted``, ``demoted``, ``rolled_back``) with their reasons. The
store is the only source of truth: ``bentoml models get`` shows the history, and
`nbprod models history` merges the events of every version into one timeline.

Changes are serialised with a file lock per model name and each ``model.yaml`` is
replaced atomically, so two promotions at once leave exactly one production version.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ConfigError, ModelStoreError
from .registry import bentoml_home, get_model, register_model

log = logging.getLogger(__name__)

STAGE = "stage"
CANDIDATE, PRODUCTION, ARCHIVED = "candidate", "production", "archived"


@dataclass(frozen=True)
class GatePolicy:
    """How a candidate is judged: ``metric`` must pass ``floor`` and be no worse than
    production's by more than ``tolerance``."""

    metric: str = "roc_auc"
    tolerance: float = 0.0
    floor: float | None = None
    higher_is_better: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GatePolicy:
        unknown = set(data) - {"metric", "tolerance", "floor", "higher_is_better"}
        if unknown:
            raise ConfigError(f"gate: unknown key(s) {sorted(unknown)}; "
                              "valid: metric, tolerance, floor, higher_is_better")
        policy = cls(**data)
        if policy.tolerance < 0:
            raise ConfigError(f"gate.tolerance must be >= 0, got {policy.tolerance}")
        return policy


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str


def judge(candidate: dict[str, Any], production: dict[str, Any] | None, policy: GatePolicy) -> GateDecision:
    """Decide whether a candidate with ``candidate`` metrics replaces production."""
    m = policy.metric
    if m not in candidate:
        raise ConfigError(f"gate metric {m!r} is not among the candidate's metrics {sorted(candidate)}")
    value = float(candidate[m])
    better = (lambda a, b: a >= b) if policy.higher_is_better else (lambda a, b: a <= b)
    if policy.floor is not None and not better(value, policy.floor):
        return GateDecision(False, f"candidate {m}={value:.4f} does not pass the floor {policy.floor}")
    if production is None:
        return GateDecision(True, f"first model: candidate {m}={value:.4f} passes the floor {policy.floor}")
    current = float(production[m])
    limit = current - policy.tolerance if policy.higher_is_better else current + policy.tolerance
    if better(value, limit):
        return GateDecision(
            True, f"candidate {m}={value:.4f} vs production {m}={current:.4f} "
            f"(tolerance {policy.tolerance})"
        )
    return GateDecision(
        False, f"candidate {m}={value:.4f} is worse than production {m}={current:.4f} "
        f"by more than the tolerance {policy.tolerance}"
    )


def versions(name: str) -> list:
    """Every stored version of model ``name``, oldest first."""
    import bentoml

    try:
        found = bentoml.models.list(name)
    except bentoml.exceptions.NotFound:
        return []
    return sorted(found, key=lambda m: m.info.creation_time)


def stage_of(model) -> str:
    return model.info.labels.get(STAGE, CANDIDATE)


def production(name: str):
    """The production version of ``name``, or None when nothing was promoted yet."""
    found = [m for m in versions(name) if stage_of(m) == PRODUCTION]
    if len(found) > 1:
        tags = ", ".join(str(m.tag) for m in found)
        raise ModelStoreError(f"model {name!r} has several production versions ({tags}); "
                              "promote one of them with `nbprod promote TAG`")
    return found[0] if found else None


def promote(tag: str, reason: str = "promoted by hand") -> str:
    """Make ``tag`` the production version of its model; the previous one is archived."""
    model = get_model(tag)
    name = model.tag.name
    with _lock(name):
        model = get_model(str(model.tag))  # re-read under the lock
        if stage_of(model) == PRODUCTION:
            return str(model.tag)
        for other in versions(name):
            if stage_of(other) == PRODUCTION:
                _set_stage(other, ARCHIVED, "demoted", f"replaced by {model.tag}")
        _set_stage(model, PRODUCTION, "promoted", reason)
    log.info("promoted %s: %s", model.tag, reason)
    return str(model.tag)


def rollback(name: str, reason: str = "rollback") -> str:
    """Put back the version that was in production before the current one.

    The current version is marked rolled back; a second rollback goes one step
    further back, and so on.
    """
    with _lock(name):
        current = production(name)
        if current is None:
            raise ModelStoreError(f"model {name!r} has no production version to roll back from")
        previous = _previously_promoted(name, exclude=str(current.tag))
        if previous is None:
            raise ModelStoreError(
                f"model {name!r}: {current.tag} is the first version ever promoted; "
                "there is nothing to roll back to"
            )
        _set_stage(current, ARCHIVED, "rolled_back", f"{reason}: back to {previous.tag}")
        _set_stage(previous, PRODUCTION, "promoted", f"{reason}: from {current.tag}")
    log.info("rolled %s back from %s to %s", name, current.tag, previous.tag)
    return str(previous.tag)


def history(name: str) -> list[dict[str, Any]]:
    """Every lifecycle event of every version of ``name``, oldest first."""
    events = []
    for model in versions(name):
        for event in model.info.metadata.get("lifecycle", []):
            events.append({"tag": str(model.tag), **event})
    return sorted(events, key=lambda e: e["at"])


def record(tag: str, event: str, reason: str) -> None:
    """Append a lifecycle event to model ``tag`` (without changing its stage)."""
    with _lock(tag.partition(":")[0]):
        fresh = get_model(tag)
        _set_stage(fresh, stage_of(fresh), event, reason)


def _previously_promoted(name: str, exclude: str):
    events = history(name)
    rolled_back = {e["tag"] for e in events if e["event"] == "rolled_back"}
    for event in reversed(events):
        if event["event"] == "promoted" and event["tag"] != exclude and event["tag"] not in rolled_back:
            return get_model(event["tag"])
    return None


def _set_stage(model, stage: str, event: str, reason: str) -> None:
    model.info.labels[STAGE] = stage
    events = list(model.info.metadata.get("lifecycle", []))
    events.append({"event": event, "at": _now(), "stage": stage, "reason": reason})
    model.info.metadata["lifecycle"] = events
    _write_info_atomically(model)


def _write_info_atomically(model) -> None:
    path = Path(model.path) / "model.yaml"
    tmp = path.with_name(f".model.yaml.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf8") as fh:
        model.info.dump(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextmanager
def _lock(name: str) -> Iterator[None]:
    lock_dir = Path(bentoml_home()) / "nbprod-locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def register_and_gate(
    name: str,
    model: Any,
    metadata: dict[str, Any],
    policy: GatePolicy,
    labels: dict[str, str] | None = None,
    files: dict[str, str | Path] | None = None,
) -> tuple[str, GateDecision]:
    """Register ``model`` as a candidate, then promote it if it passes the gate.

    A candidate that fails the gate stays in the store (stage ``candidate``) with
    the reason recorded in its lifecycle; production is left untouched.
    """
    current = production(name)
    decision = judge(
        metadata["metrics"], current.info.metadata.get("metrics", {}) if current else None, policy
    )
    events = [{"event": "registered", "at": _now(), "stage": CANDIDATE, "reason": "registered by the pipeline"}]
    tag = register_model(
        name, model, {**metadata, "lifecycle": events}, labels={**(labels or {}), STAGE: CANDIDATE},
        files=files,
    )
    if decision.promote:
        promote(tag, decision.reason)
    else:
        record(tag, "not_promoted", decision.reason)
        log.warning("%s registered but not promoted: %s", tag, decision.reason)
    return tag, decision
