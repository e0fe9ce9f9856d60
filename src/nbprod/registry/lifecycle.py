"""Model lifecycle: the quality gate, promotion and rollback, kept in the BentoML store.

Each version of a model carries a ``stage`` label (``candidate``, ``production`` or
``archived``) and, in its metadata, a ``lifecycle`` list of dated events
(``registered``, ``promoted``, ``demoted``, ``rolled_back``, ``not_promoted``) with their
reasons. The store is the only source of truth: ``bentoml models get`` shows the
history, and `nbprod models history` merges the events of every version into one timeline.

A switch of production writes two ``model.yaml`` files, each replaced atomically, in
this order: first the new version (label ``production`` and its ``promoted`` event),
then the old one (``archived``). A process killed between the two leaves two versions
labelled production; readers (:func:`production`) then take the one promoted last,
which is the one the interrupted switch was installing, and the next change under the
lock archives the other. So at every instant readers see exactly one production version.

Changes are serialised with a file lock per model name (:mod:`nbprod.registry.storelock`), held
for a whole registration and gate, so two builds at once register and promote one after
the other; the second is told what it waits for.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ModelStoreError
from .fingerprint import fingerprint
from .gate import Check, GateDecision, GatePolicy, MetricRule, judge
from .store import get_model, read_info, register_model
from .storelock import model_lock

__all__ = [
    "ARCHIVED", "CANDIDATE", "PRODUCTION", "Check", "GateDecision", "GatePolicy", "MetricRule",
    "history", "judge", "production", "promote", "record", "register_and_gate", "rollback",
    "stage_of", "versions",
]

log = logging.getLogger(__name__)

STAGE = "stage"
CANDIDATE, PRODUCTION, ARCHIVED = "candidate", "production", "archived"


def versions(name: str) -> list:
    """Every stored version of model ``name``, oldest first (a corrupt ``model.yaml`` is
    a :class:`ModelStoreError` naming the file)."""
    import bentoml

    from .store import _corrupt_info

    try:
        found = bentoml.models.list(name)
        return sorted(found, key=lambda m: read_info(m).creation_time)
    except bentoml.exceptions.NotFound:
        return []
    except ModelStoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - BentoML parses every model.yaml while listing
        raise _corrupt_info(name, exc) from None


def stage_of(model) -> str:
    return model.info.labels.get(STAGE, CANDIDATE)


def production(name: str):
    """The production version of ``name``, or None when nothing was promoted yet.

    When a switch was interrupted (two versions labelled production), the one whose
    ``promoted`` event is the latest is production, as the switch intended.
    """
    found = [m for m in versions(name) if stage_of(m) == PRODUCTION]
    if len(found) > 1:
        chosen = max(found, key=_last_promoted)
        others = ", ".join(str(m.tag) for m in found if m is not chosen)
        log.warning("model %s: an interrupted switch left %s labelled production too; "
                    "%s was promoted last and is production", name, others, chosen.tag)
        return chosen
    return found[0] if found else None


def _last_promoted(model) -> str:
    promoted = [e["at"] for e in model.info.metadata.get("lifecycle", []) if e["event"] == "promoted"]
    return max(promoted, default="")


def promote(tag: str, reason: str = "promoted by hand") -> str:
    """Make ``tag`` the production version of its model; the previous one is archived."""
    model = get_model(tag)
    name = model.tag.name
    with model_lock(name, f"promote {model.tag}"):
        model = get_model(str(model.tag))  # re-read under the lock
        stale = [m for m in versions(name) if stage_of(m) == PRODUCTION and m.tag != model.tag]
        newest = max(map(_last_promoted, stale), default="")
        if stage_of(model) != PRODUCTION or _last_promoted(model) < newest:
            _set_stage(model, PRODUCTION, "promoted", reason)  # step 1: the new one
        for other in stale:  # step 2: the old one(s); a crash before this is recovered
            _set_stage(other, ARCHIVED, "demoted", f"replaced by {model.tag}")
    log.info("promoted %s: %s", model.tag, reason)
    return str(model.tag)


def rollback(name: str, reason: str = "rollback") -> str:
    """Put back the version that was in production before the current one.

    The current version is marked rolled back; a second rollback goes one step
    further back, and so on.
    """
    with model_lock(name, "roll back"):
        current = production(name)
        if current is None:
            raise ModelStoreError(f"model {name!r} has no production version to roll back from")
        previous = _previously_promoted(name, exclude=str(current.tag))
        if previous is None:
            raise ModelStoreError(
                f"model {name!r}: {current.tag} is the first version ever promoted; "
                "there is nothing to roll back to"
            )
        # The same order as promote: the new production first, then the one it replaces.
        _set_stage(previous, PRODUCTION, "promoted", f"{reason}: from {current.tag}")
        for other in versions(name):
            if stage_of(other) == PRODUCTION and other.tag != previous.tag:
                event = "rolled_back" if other.tag == current.tag else "demoted"
                _set_stage(other, ARCHIVED, event, f"{reason}: back to {previous.tag}")
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
    with model_lock(tag.partition(":")[0], f"record {event} on {tag}"):
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def register_and_gate(
    name: str,
    model: Any,
    metadata: dict[str, Any],
    policy: GatePolicy,
    labels: dict[str, str] | None = None,
    files: dict[str, str | Path] | None = None,
    trial: str | None = None,
    compiled: Any = None,
    held_out: Any = None,
) -> tuple[str, GateDecision]:
    """Register ``model`` as a candidate, then promote it if it passes the gate.

    ``trial`` is why the candidate failed the single-record trial of the service's path
    (:mod:`nbprod.serving.trial`), None if it passed: a failed trial is never promoted,
    whatever its metrics. ``compiled`` is its compiled form, stored beside it
    (:func:`nbprod.registry.store.register_model`). ``held_out`` is its held-out rows
    (:class:`nbprod.registry.rescoring.HeldOut`): production is judged by its metrics on
    those rows (:func:`~nbprod.registry.rescoring.production_metrics`), and the reason says
    on which rows.

    A candidate that fails the gate stays in the store (stage ``candidate``) with
    the reason recorded in its lifecycle; production is left untouched. A candidate
    with the fingerprint of a stored version (:mod:`nbprod.registry.fingerprint`: same commit,
    parameters and data) is not registered: that version's tag is returned with an
    ``unchanged`` decision, and production does not move. The whole step holds the
    model's lock. The decision, with every check, is logged at INFO (``decision.describe()``;
    the build's ``on_finish`` hook shows it on Ploomber's console).
    """
    with model_lock(name, "register and gate a candidate"):
        candidate = fingerprint(metadata)
        same = _with_fingerprint(name, candidate)
        current = production(name)
        if same is not None:
            where = f"production is {current.tag}" if current is not None else "nothing is in production"
            decision = GateDecision(
                False, f"same code, parameters and data as {same.tag} ({stage_of(same)}): "
                f"no new version registered; {where}", unchanged=True)
            log.info("%s", decision.describe())
            return str(same.tag), decision
        theirs, rows = None, ""
        if current is not None:  # production's metrics on the candidate's rows, where it can
            from .rescoring import production_metrics

            theirs, rows = production_metrics(current, held_out, metadata.get("feature_schema"))
        decision = judge(metadata["metrics"], theirs, policy)
        if rows:
            decision = GateDecision(decision.promote, f"{decision.reason}; {rows}", decision.checks)
        if trial is not None:
            decision = GateDecision(False, f"it cannot answer one record as /predict does: {trial}",
                                    decision.checks)
        events = [{"event": "registered", "at": _now(), "stage": CANDIDATE,
                   "reason": "registered by the pipeline"}]
        extra = {"fingerprint": candidate} if candidate else {}
        tag = register_model(
            name, model, {**metadata, **extra, "lifecycle": events},
            labels={**(labels or {}), STAGE: CANDIDATE}, files=files, compiled=compiled,
        )
        if decision.promote:
            promote(tag, decision.reason)
        else:
            record(tag, "not_promoted", decision.reason)
    log.info("%s: %s", tag, decision.describe())
    return tag, decision


def _with_fingerprint(name: str, candidate: str | None):
    if candidate is None:
        return None
    same = [m for m in versions(name) if m.info.metadata.get("fingerprint") == candidate]
    return same[-1] if same else None

