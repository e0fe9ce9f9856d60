"""The metrics a person sees: directions, and the columns of ``nbprod models list``."""

from nbprod.model.metrics import arrow, table_columns


def test_arrows_say_which_way_is_better():
    assert (arrow("roc_auc"), arrow("brier"), arrow("made_up")) == ("↑", "↓", "")


def test_the_columns_are_the_newest_gate_s_metric_and_guards():
    gate = {"metric": "pr_auc", "guards": {"brier": {"tolerance": 0.01}}}
    oldest_first = [
        {"metrics": {"rmse": 2.0}, "gate": {"metric": "rmse"}},
        {"metrics": {"pr_auc": 0.6, "brier": 0.1}, "gate": gate},
        {"metrics": {"f1": 0.5}},  # the newest has no gate: the last gate recorded holds
    ]
    assert table_columns(oldest_first) == ["pr_auc", "brier"]


def test_without_a_gate_every_float_metric_in_the_order_first_seen():
    oldest_first = [
        {"metrics": {"rmse": 2.5, "n": 100, "mae": 1.25}},
        {"metrics": {"r2": 0.5, "rmse": 2.0}, "gate": {"metric": ""}},
        {},
    ]
    assert table_columns(oldest_first) == ["rmse", "mae", "r2"]
    assert table_columns([]) == []
