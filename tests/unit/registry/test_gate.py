"""The gate's guard metrics: each with its own tolerance and direction, every
check named in the decision; the old one-metric form keeps working."""

import pytest

from nbprod import ConfigError
from nbprod.registry.gate import GatePolicy, judge

GATE = {
    "metric": "roc_auc", "tolerance": 0.005, "floor": 0.83,
    "guards": {
        "f1": {"tolerance": 0.05, "higher_is_better": True},
        "calibration_error": {"tolerance": 0.02, "higher_is_better": False},
    },
}
PRODUCTION = {"roc_auc": 0.842, "f1": 0.61, "calibration_error": 0.025}


def test_the_issue_candidate_is_refused_naming_both_guards():
    # gradient boosting from the issue: AUC within tolerance, F1 0.61 -> 0.40, ECE 0.025 -> 0.077
    decision = judge({"roc_auc": 0.840, "f1": 0.40, "calibration_error": 0.077}, PRODUCTION,
                     GatePolicy.from_dict(GATE))
    assert not decision.promote
    assert "candidate f1=0.4000 vs production f1=0.6100 (higher is better): worse than " \
        "production by 0.2100, more than the tolerance 0.05" in decision.reason
    assert "candidate calibration_error=0.0770 vs production calibration_error=0.0250 " \
        "(lower is better): worse than production by 0.0520" in decision.reason
    assert "lower is better" in decision.reason
    text = decision.describe()
    assert text.splitlines()[0].startswith("gate decision: do not promote")
    assert "primary roc_auc: candidate roc_auc=0.8400 vs production roc_auc=0.8420" in text
    assert text.count("[FAILED]") == 2 and text.count("[ok]") == 1


def test_a_candidate_within_every_tolerance_is_promoted():
    decision = judge({"roc_auc": 0.845, "f1": 0.58, "calibration_error": 0.04}, PRODUCTION,
                     GatePolicy.from_dict(GATE))
    assert decision.promote and "2 guard(s) within tolerance" in decision.reason
    assert decision.describe().count("[ok]") == 3


def test_first_model_checks_floors_only_and_old_production_without_a_guard_metric():
    policy = GatePolicy.from_dict(GATE)
    assert judge({"roc_auc": 0.85, "f1": 0.1, "calibration_error": 0.5}, None, policy).promote
    older = {"roc_auc": 0.84}  # registered before the guards existed
    decision = judge({"roc_auc": 0.85, "f1": 0.1, "calibration_error": 0.5}, older, policy)
    assert decision.promote and "production has no f1" in decision.describe()


def test_a_guard_floor_and_the_old_form():
    policy = GatePolicy.from_dict({"metric": "roc_auc", "guards": {
        "calibration_error": {"tolerance": 0.0, "higher_is_better": False, "floor": 0.05}}})
    decision = judge({"roc_auc": 0.9, "calibration_error": 0.06}, None, policy)
    assert not decision.promote and "calibration_error=0.0600 (lower is better): does not pass the floor 0.05" \
        in decision.reason
    old = GatePolicy.from_dict({"metric": "roc_auc", "tolerance": 0.005, "floor": 0.83})
    assert old.guards == () and judge({"roc_auc": 0.84}, {"roc_auc": 0.842}, old).promote


@pytest.mark.parametrize("gate, message", [
    ({"guards": {"lift": {"tolerance": 0.05}}}, "gate.guards.lift: missing higher_is_better"),
    ({"guards": {"f1": {}}}, "gate.guards.f1: missing tolerance"),
    ({"guards": {"rmse": {"tolerance": 0, "higher_is_better": True}}},
     "rmse is better when lower; higher_is_better: true contradicts it"),
    ({"metric": "rmse", "higher_is_better": True}, "rmse is better when lower"),
    ({"metric": "lift"}, "the direction of metric 'lift' is not known"),
    ({"guards": {"f1": {"tolerance": 0.05, "higher_is_better": True, "tol": 1}}},
     r"gate.guards.f1: unknown key\(s\) \['tol'\]"),
    ({"guards": {"f1": {"tolerance": -1, "higher_is_better": True}}}, "f1 tolerance must be >= 0"),
    ({"guards": {"f1": {"tolerance": 0, "higher_is_better": "yes"}}}, "must be true or false"),
    ({"guards": ["f1"]}, "gate.guards must map metric names"),
    ({"metric": "f1", "guards": {"f1": {"tolerance": 0, "higher_is_better": True}}},
     "each metric may appear once"),
])
def test_bad_guards_are_named(gate, message):
    with pytest.raises(ConfigError, match=message):
        GatePolicy.from_dict(gate)


def test_a_guard_the_candidate_lacks_is_a_config_error():
    with pytest.raises(ConfigError, match="gate metric 'brier' is not among"):
        judge({"roc_auc": 0.9}, None, GatePolicy.from_dict(
            {"guards": {"brier": {"tolerance": 0.01, "higher_is_better": False}}}))


def test_the_direction_comes_from_the_one_table():
    """A regression's gate: RMSE lower is better, R2 higher, with no direction in the policy."""
    policy = GatePolicy.from_dict({"metric": "rmse", "tolerance": 0.5,
                                   "guards": {"r2": {"tolerance": 0.01}}})
    assert policy.primary.higher_is_better is False and policy.guards[0].higher_is_better is True
    production = {"rmse": 50.0, "r2": 0.50}
    better = judge({"rmse": 49.0, "r2": 0.52}, production, policy)
    assert better.promote and "lower is better" in better.describe()
    worse = judge({"rmse": 51.0, "r2": 0.52}, production, policy)
    assert not worse.promote and "rmse=51.0000 vs production rmse=50.0000 (lower is better): worse than " \
        "production by 1.0000, more than the tolerance 0.5" in worse.reason
    lost_r2 = judge({"rmse": 49.0, "r2": 0.45}, production, policy)
    assert not lost_r2.promote and "guard candidate r2=0.4500 vs production r2=0.5000" in lost_r2.reason
    floor = GatePolicy.from_dict({"metric": "rmse", "floor": 60.0})
    assert not judge({"rmse": 61.0}, None, floor).promote and judge({"rmse": 59.0}, None, floor).promote
    multi = GatePolicy.from_dict({"metric": "macro_f1", "guards": {"log_loss": {"tolerance": 0.1}}})
    assert not judge({"macro_f1": 0.9, "log_loss": 0.5}, {"macro_f1": 0.9, "log_loss": 0.3},
                     multi).promote


BASELINE = {"roc_auc": 0.5, "f1": 0.0, "calibration_error": 0.0}


def test_every_check_shows_candidate_production_and_baseline_side_by_side():
    """The issue's reference build: ROC AUC 0.8408 against production's 0.8420, promoted
    within the tolerance, and the decision says that it is worse and by how much."""
    decision = judge({"roc_auc": 0.8408, "f1": 0.60, "calibration_error": 0.03,
                      "baseline": BASELINE}, PRODUCTION, GatePolicy.from_dict(GATE | {"floor": 0.8}))
    assert decision.promote
    assert decision.reason.startswith(
        "candidate roc_auc=0.8408 vs production roc_auc=0.8420 vs baseline roc_auc=0.5000 "
        "(higher is better): passes the floor 0.8, beats the baseline by 0.3408, worse than "
        "production by 0.0012, within the tolerance 0.005")
    lines = decision.describe().splitlines()
    assert "guard f1: candidate f1=0.6000 vs production f1=0.6100 vs baseline f1=0.0000" \
        in lines[2]
    assert decision.checks[0].baseline == 0.5 and decision.checks[0].production == 0.842


def test_a_model_that_does_not_beat_the_baseline_by_the_margin_is_refused():
    """The issue's regression: R2 0.052 against a floor of 0.0 was promoted."""
    policy = GatePolicy.from_dict({"metric": "r2", "tolerance": 0.01, "floor": 0.0,
                                   "margin": 0.1})
    weak = judge({"r2": 0.052, "baseline": {"r2": 0.0}}, None, policy)
    assert not weak.promote
    assert weak.reason == ("primary candidate r2=0.0520 vs baseline r2=0.0000 (higher is "
                           "better): passes the floor 0.0, does not beat the baseline by the "
                           "margin 0.1 (by +0.0520)")
    assert judge({"r2": 0.15, "baseline": {"r2": 0.0}}, None, policy).promote
    # lower is better: an RMSE must be below the mean's by the margin
    rmse = GatePolicy.from_dict({"metric": "rmse", "margin": 1.0})
    assert not judge({"rmse": 49.5, "baseline": {"rmse": 50.0}}, None, rmse).promote
    assert judge({"rmse": 48.0, "baseline": {"rmse": 50.0}}, None, rmse).promote
    # the default margin, and a candidate without a baseline (older evaluation) is not held
    assert GatePolicy().margin == 0.02
    assert not judge({"roc_auc": 0.51, "baseline": {"roc_auc": 0.5}}, None, GatePolicy()).promote
    assert judge({"roc_auc": 0.51}, None, GatePolicy()).promote


@pytest.mark.parametrize("margin", [-0.1, "big", True])
def test_a_bad_margin_is_named(margin):
    with pytest.raises(ConfigError, match="gate: margin must be a number >= 0"):
        GatePolicy.from_dict({"metric": "roc_auc", "margin": margin})
