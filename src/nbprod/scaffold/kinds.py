"""What differs, by model kind, in the files ``nbprod new`` writes: the estimator and its
hyper-parameters, the quality gate, and how the README and bento describe the answer.

Each function returns template tokens (:func:`nbprod.scaffold.project.render`); the binary
tokens render the reference project's own text.
"""

from __future__ import annotations

import json

from ..data.model_kinds import BINARY, MULTICLASS, REGRESSION
from ..model.modeling import default_estimator
from ..registry.gate import BASELINE_MARGIN
from .infer import Inferred

#: the quality gate's floor (held-out ROC AUC) of a new binary project: better than a
#: coin, a number for the user to raise (env.yaml)
GATE_FLOOR = 0.6
#: a new regression project's floor on R²: better than predicting the mean
R2_FLOOR = 0.0
#: the relative tolerance of a regression's RMSE and MAE guards (of the target's std)
REGRESSION_GUARD = 0.02

_GATE_COMMENT = """\
# The quality gate of the register step: a candidate is promoted to production when its
# `metric` passes `floor`, beats the baseline (the constant model: the prior, or the mean, on
# the same test rows) by `margin`, and is no worse than production's by more than
# `tolerance`, and no guard metric is worse by more than its own tolerance
# (docs/lifecycle.md)."""


def _round(x: float) -> float:
    return float(f"{x:.2g}")


def _gate(table: Inferred, smoke: bool) -> tuple[dict, dict[str, dict]]:
    """The gate's primary rule and its guards (name -> rule)."""
    if table.kind == BINARY:
        primary = {"metric": "roc_auc", "tolerance": 0.005, "floor": GATE_FLOOR}
        guards = {"calibration_error": {"tolerance": 0.05, "higher_is_better": False}} if smoke else {
            "f1": {"tolerance": 0.05, "higher_is_better": True},
            "calibration_error": {"tolerance": 0.02, "higher_is_better": False}}
        return primary, guards
    if table.kind == MULTICLASS:
        floor = _round(0.5 / len(table.classes))  # half of a uniform guess's macro-F1
        return ({"metric": "macro_f1", "tolerance": 0.01, "floor": floor},
                {"accuracy": {"tolerance": 0.02}, "log_loss": {"tolerance": 0.1 if smoke else 0.05}})
    tolerance = _round(REGRESSION_GUARD * (table.target_std or 1.0))
    return ({"metric": "r2", "tolerance": 0.01, "floor": R2_FLOOR},
            {"rmse": {"tolerance": tolerance}, "mae": {"tolerance": tolerance}})


def _flow(rule: dict) -> str:
    return "{" + ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}"
                           for k, v in rule.items()) + "}"


def gate_yaml(table: Inferred, smoke: bool) -> str:
    """The ``gate:`` block of env.yaml (or env.smoke.yaml), with its comment."""
    primary, guards = _gate(table, smoke)
    lines = [_GATE_COMMENT, "gate:", f"  metric: {primary['metric']}",
             f"  tolerance: {primary['tolerance']}", f"  floor: {primary['floor']}",
             f"  margin: {BASELINE_MARGIN}"]
    if guards:
        lines.append("  guards:                     # each may not regress beyond its own tolerance")
        lines += [f"    {name}: {_flow(rule)}" for name, rule in guards.items()]
    return "\n".join(lines)


#: env.yaml's line on the estimator's input, after the hyper-parameters.
PREPROCESS = ("preprocess: true   # false: the estimator takes the columns as they are "
              "(its own preprocessing)")


def estimator_yaml(table: Inferred) -> str:
    """The ``estimator:``, ``hyperparameters:`` and ``preprocess:`` lines of env.yaml."""
    if table.kind == REGRESSION:
        return ("estimator: ridge   # or gradient_boosting, or module:attribute (docs/own-model.md)\n"
                "hyperparameters:\n  ridge: {alpha: 1.0}\n"
                "  gradient_boosting: {learning_rate: 0.05, max_iter: 200, max_leaf_nodes: 15}\n"
                + PREPROCESS)
    return ("estimator: logistic_regression   # or gradient_boosting, or module:attribute "
            "(docs/own-model.md)\n"
            "hyperparameters:\n  logistic_regression: {C: 1.0}\n"
            "  gradient_boosting: {learning_rate: 0.05, max_iter: 200, max_leaf_nodes: 15}\n"
            + PREPROCESS)


def answer(table: Inferred) -> str:
    """What the served model answers, in a phrase."""
    if table.kind == BINARY:
        return f"the probability that {table.target} is {table.positive}"
    if table.kind == MULTICLASS:
        return (f"the class of {table.target} ({', '.join(map(str, table.classes))}) "
                "with the probability of each")
    return f"the predicted value of {table.target}"


def kind_tokens(table: Inferred) -> dict[str, str]:
    estimator, hyperparameters = default_estimator(table.kind)
    primary, _ = _gate(table, smoke=False)
    register_gate = {**primary, "floor": 0.5} if table.kind == BINARY else primary
    return {
        "kind": table.kind,
        "estimator": estimator,
        "hyperparameters": json.dumps(hyperparameters),
        "estimator_yaml": estimator_yaml(table),
        "gate_yaml": gate_yaml(table, smoke=False),
        "smoke_gate_yaml": gate_yaml(table, smoke=True),
        "register_gate": json.dumps(register_gate),
        "answer": answer(table),
        "classes": repr([str(c) for c in table.classes]),  # a Python literal
    }
