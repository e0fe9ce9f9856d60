"""The quality gate: does a candidate model replace production?

A policy (``gate:`` in ``env.yaml``) names a primary metric with its floor and tolerance,
and optionally guard metrics, each with its own tolerance. Which way a metric is better
comes from the one table :data:`nbprod.model.metrics.DIRECTIONS` (``rmse``: lower, ``r2``:
higher, ...); ``higher_is_better`` is needed only for a metric the table lacks, and may not
contradict it::

    gate:
      metric: roc_auc            # primary: passes the floor, no worse than production
      tolerance: 0.005           #   by more than this
      floor: 0.83
      margin: 0.02               #   and beats the constant model (the baseline) by this
      guards:                    # each may not regress beyond its own tolerance
        f1: {tolerance: 0.05}
        calibration_error: {tolerance: 0.02}

The old form (the primary keys alone) means no guards. The baseline is the constant
model's metrics on the candidate's own test rows (``baseline`` in its metrics:
:func:`nbprod.model.evaluation.baseline_metrics`, the prior or the mean). Every check
shows the candidate, production and the baseline side by side, then its verdict, so the
build's output, the register report and ``nbprod models history`` say which metric
decided and by how much::

    candidate roc_auc=0.8408 vs production roc_auc=0.8420 vs baseline roc_auc=0.5000
    (higher is better): beats the baseline by 0.3408, worse than production by 0.0012,
    within the tolerance 0.005
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..model.metrics import DIRECTIONS

RULE_KEYS = {"tolerance", "floor", "higher_is_better"}
#: how much better than the baseline (the constant model) the primary metric must be,
#: in the metric's own units, when the policy does not say
BASELINE_MARGIN = 0.02


@dataclass(frozen=True)
class MetricRule:
    """One metric of the gate: no worse than production's by more than ``tolerance``, and
    past ``floor`` if one is set, in the direction ``higher_is_better``."""

    metric: str
    tolerance: float = 0.0
    floor: float | None = None
    #: None: the direction of :data:`nbprod.model.metrics.DIRECTIONS`
    higher_is_better: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tolerance, int | float) or self.tolerance < 0:
            raise ConfigError(f"gate: {self.metric} tolerance must be >= 0, got {self.tolerance!r}")
        known = DIRECTIONS.get(self.metric)
        if self.higher_is_better is None:
            if known is None:
                raise ConfigError(f"gate: the direction of metric {self.metric!r} is not known; "
                                  "give higher_is_better: true or false")
            object.__setattr__(self, "higher_is_better", known)
        if not isinstance(self.higher_is_better, bool):
            raise ConfigError(f"gate: higher_is_better of {self.metric!r} must be true or false, "
                              f"got {self.higher_is_better!r}")
        if known is not None and self.higher_is_better != known:
            raise ConfigError(f"gate: {self.metric} is better when "
                              f"{'higher' if known else 'lower'}; higher_is_better: "
                              f"{str(self.higher_is_better).lower()} contradicts it")


@dataclass(frozen=True)
class Check:
    """The outcome of one rule: the values compared and whether it passed."""

    metric: str
    role: str  # "primary" or "guard"
    candidate: float
    production: float | None
    rule: MetricRule
    passed: bool
    why: str
    baseline: float | None = None

    def describe(self) -> str:
        mark = "ok" if self.passed else "FAILED"
        return f"{self.role} {self.metric}: {self.why} [{mark}]"


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    checks: tuple[Check, ...] = ()
    unchanged: bool = False  # a rebuild of a stored version: nothing registered

    def describe(self) -> str:
        """The decision and every check, one per line."""
        verdict = "unchanged" if self.unchanged else ("promote" if self.promote else "do not promote")
        lines = [f"gate decision: {verdict}: {self.reason}"]
        lines += [f"  {c.describe()}" for c in self.checks]
        return "\n".join(lines)


@dataclass(frozen=True)
class GatePolicy:
    """How a candidate is judged: ``metric`` must pass ``floor`` and be no worse than
    production's by more than ``tolerance``; each guard likewise with its own rule."""

    metric: str = "roc_auc"
    tolerance: float = 0.0
    floor: float | None = None
    higher_is_better: bool | None = None
    guards: tuple[MetricRule, ...] = field(default_factory=tuple)
    #: the primary metric must beat the baseline by this much (when the baseline is known)
    margin: float = BASELINE_MARGIN

    def __post_init__(self) -> None:
        self.primary  # validates  # noqa: B018
        if isinstance(self.margin, bool) or not isinstance(self.margin, int | float) \
                or self.margin < 0:
            raise ConfigError(f"gate: margin must be a number >= 0, got {self.margin!r}")
        names = [g.metric for g in self.guards]
        if self.metric in names or len(set(names)) != len(names):
            raise ConfigError(f"gate: each metric may appear once (primary {self.metric!r}, "
                              f"guards {names})")

    @property
    def primary(self) -> MetricRule:
        return MetricRule(self.metric, self.tolerance, self.floor, self.higher_is_better)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GatePolicy:
        if not isinstance(data, dict):
            raise ConfigError(f"gate must be a mapping, got {data!r}")
        unknown = set(data) - {"metric", "guards", "margin", *RULE_KEYS}
        if unknown:
            raise ConfigError(f"gate: unknown key(s) {sorted(unknown)}; "
                              "valid: metric, tolerance, floor, margin, higher_is_better, guards")
        guards = data.get("guards") or {}
        if not isinstance(guards, dict):
            raise ConfigError("gate.guards must map metric names to "
                              "{tolerance: ..., higher_is_better: ...}")
        rules = tuple(_guard(name, spec) for name, spec in guards.items())
        return cls(**{k: v for k, v in data.items() if k != "guards"}, guards=rules)


def _guard(name: str, spec: Any) -> MetricRule:
    if not isinstance(spec, dict):
        raise ConfigError(f"gate.guards.{name} must be a mapping with a tolerance")
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise ConfigError(f"gate.guards.{name}: unknown key(s) {sorted(unknown)}; "
                          f"valid: {', '.join(sorted(RULE_KEYS))}")
    missing = {"tolerance"} - set(spec)
    if name not in DIRECTIONS:
        missing |= {"higher_is_better"} - set(spec)
    if missing:
        raise ConfigError(f"gate.guards.{name}: missing {', '.join(sorted(missing))} "
                          "(each guard states its tolerance, and its direction when "
                          "nbprod does not know the metric)")
    return MetricRule(name, **spec)


def judge(candidate: dict[str, Any], production: dict[str, Any] | None, policy: GatePolicy) -> GateDecision:
    """Decide whether a candidate with ``candidate`` metrics replaces production.

    Promoted only when every check passes; the reason names the failed ones (or the
    primary metric when all pass) and ``checks`` holds all of them. The primary metric
    must also beat the baseline (``candidate["baseline"]``, when there) by ``margin``.
    """
    baseline = candidate.get("baseline") if isinstance(candidate.get("baseline"), dict) else {}
    rules = [("primary", policy.primary), *(("guard", g) for g in policy.guards)]
    checks = tuple(_check(role, rule, candidate, production, baseline or {},
                          policy.margin if role == "primary" else None)
                   for role, rule in rules)
    failed = [c for c in checks if not c.passed]
    if failed:
        return GateDecision(False, "; ".join(f"{c.role} {c.why}" for c in failed), checks)
    first = checks[0]
    prefix = "first model: " if production is None else ""
    guards = f"; {len(checks) - 1} guard(s) within tolerance" if len(checks) > 1 else ""
    return GateDecision(True, f"{prefix}{first.why}{guards}", checks)


def _number(value: Any) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)


def _check(role: str, rule: MetricRule, candidate: dict[str, Any],
           production: dict[str, Any] | None, baseline: dict[str, Any],
           margin: float | None) -> Check:
    """One rule's check: the values side by side, then each verdict (the floor, the
    baseline for the primary metric, production), failing at the first that fails."""
    m = rule.metric
    if m not in candidate:
        raise ConfigError(f"gate metric {m!r} is not among the candidate's metrics {sorted(candidate)}")
    value = float(candidate[m])
    current = None if production is None else _number(production.get(m))
    base = _number(baseline.get(m))
    sign = 1.0 if rule.higher_is_better else -1.0

    def gain(a: float, b: float) -> float:  # how much better a is than b
        return sign * (a - b)

    shown = [f"candidate {m}={value:.4f}"]
    shown += [f"production {m}={current:.4f}"] if current is not None else []
    shown += [f"baseline {m}={base:.4f}"] if base is not None else []
    values = " vs ".join(shown) + f" ({'higher' if rule.higher_is_better else 'lower'} is better)"
    verdicts: list[str] = []

    def done(passed: bool) -> Check:
        return Check(m, role, value, current, rule, passed, f"{values}: {', '.join(verdicts)}",
                     base)

    if rule.floor is not None:
        if gain(value, rule.floor) < 0:
            verdicts.append(f"does not pass the floor {rule.floor}")
            return done(False)
        verdicts.append(f"passes the floor {rule.floor}")
    if margin is not None and base is not None:
        ahead = gain(value, base)
        if ahead < margin or ahead <= 0:
            verdicts.append(f"does not beat the baseline by the margin {margin} "
                            f"(by {ahead:+.4f})")
            return done(False)
        verdicts.append(f"beats the baseline by {ahead:.4f}")
    if current is None:
        verdicts.append("no production version" if production is None
                        else f"production has no {m}")
        return done(True)
    ahead = gain(value, current)
    if ahead > 0:
        verdicts.append(f"better than production by {ahead:.4f}")
    elif ahead == 0:
        verdicts.append("as good as production")
    elif -ahead <= rule.tolerance:
        verdicts.append(f"worse than production by {-ahead:.4f}, within the tolerance "
                        f"{rule.tolerance}")
    else:
        verdicts.append(f"worse than production by {-ahead:.4f}, more than the tolerance "
                        f"{rule.tolerance}")
        return done(False)
    return done(True)
