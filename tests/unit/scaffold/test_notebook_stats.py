"""Statistics of her whole frame her feature code uses, frozen at training: her statement is
served with ``stats[key]`` in place of the statistic, ``statistics(df)`` replays her flow up
to it (training-only steps included), and what cannot be frozen stays training only."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_notebook_flow import DATA, FIT, READ, write

from nbprod.scaffold.notebook_code import features_module
from nbprod.scaffold.notebook_flow import analyse
from nbprod.scaffold.notebook_source import read_notebook

FILL = ("df['b'] = pd.to_numeric(df['b'], errors='coerce')\ndf = df.dropna(subset=['a'])\n"
        "df['t'] = df['t'].map({'y': 1, 'n': 0})\n"
        "df['b'] = df['b'].fillna(df['b'].median())\n"
        "df['c'] = df['c'].fillna(df['c'].mode()[0]) \n"
        "df['r'] = df['a'] / df['a'].max()\n"
        "X = df[['a', 'b', 'c', 'r']]\ny = df.t")
RAW = pd.DataFrame({"a": [1.0, 4.0, np.nan, 2.0, 8.0],
                    "b": ["10", " ", "1000", "30", "20"],
                    "c": ["x", "y", "z", None, "y"], "t": ["y", "n", "y", "n", "y"]})


def module(tmp_path: Path, body: str) -> tuple[dict, str]:
    flow = analyse(read_notebook(write(tmp_path, READ, body, FIT)), DATA, "m", "t")
    text = features_module(flow, "nb.ipynb")
    namespace: dict = {}
    exec(compile(text, "features.py", "exec"), namespace)  # noqa: S102
    return namespace, text


def test_her_statistics_are_computed_where_her_notebook_computes_them(tmp_path):
    ns, text = module(tmp_path, FILL)
    stats = ns["statistics"](RAW)
    # after her to_numeric and her dropna (a training-only filter): rows 0, 1, 3, 4
    assert stats == {"cell 2, line 4: df['b'].median()": 20.0,
                     "cell 2, line 5: df['c'].mode()[0]": "y",
                     "cell 2, line 6: df['a'].max()": 8.0}
    assert "20.0" not in text and "8.0" not in text  # the values live in the fitted model
    one = ns["features"](RAW.iloc[[1]].drop(columns="t"), stats)  # a blank b
    assert one.to_dict("records") == [{"a": 4.0, "b": 20.0, "c": "y", "r": 0.5}]
    blank_c = ns["features"](RAW.iloc[[3]].drop(columns="t"), stats)
    assert blank_c["c"].item() == "y"


def test_her_statement_is_served_with_the_statistic_read_by_key(tmp_path):
    flow = analyse(read_notebook(write(tmp_path, READ, FILL, FIT)), DATA, "m", "t")
    assert [s.line for s in flow.steps] == [1, 4, 5, 6]
    assert flow.steps[1].source == ("df['b'] = df['b'].fillna("
                                    "stats[\"cell 2, line 4: df['b'].median()\"])")
    assert [r for _, r in flow.training_only] == ["filters or renumbers rows (.dropna)",
                                                  "uses the target 't'"]


@pytest.mark.parametrize(("step", "why"), [
    ("df['g'] = df['a'] / df.groupby('c')['a'].transform('mean')", "aggregates the whole frame"),
    ("df['g'] = df['a'].fillna(df.groupby('c')['a'].mean())", "aggregates the whole frame"),
    ("df['g'] = df['a'].rank()", "aggregates the whole frame (.rank)"),
    ("df['g'] = df['a'].shift(1)", "aggregates the whole frame (.shift)"),
    ("df['g'] = df['a'] / df['a'].rolling(2).mean()", "aggregates the whole frame"),
    ("df = df.merge(df.groupby('c').a.max(), on='c')", "aggregates the whole frame"),
    ("df['g'] = df['a'] / df['t'].mean()", "uses the target 't'"),
])
def test_what_cannot_be_frozen_stays_training_only_with_its_reason(tmp_path, step, why):
    flow = analyse(read_notebook(write(tmp_path, READ, f"{step}\nX = df[['a']]\ny = df.t", FIT)),
                   DATA, "m", "t")
    assert flow.steps == [] and flow.statistics == [] and flow.stats_name == ""
    assert len(flow.training_only) == 1 and why in flow.training_only[0][1]
    assert "def statistics" not in features_module(flow, "nb.ipynb")


def test_a_value_computed_from_her_statistics_is_served_from_them(tmp_path):
    ns, text = module(tmp_path, "top = df['a'].max() / 2\ndf['r'] = df['a'] / top\n"
                      "X = df[['r']]\ny = df.t")
    assert "top = stats[\"cell 2, line 1: df['a'].max()\"] / 2" in text
    stats = ns["statistics"](RAW)
    assert stats == {"cell 2, line 1: df['a'].max()": 8.0}
    assert ns["features"](RAW.iloc[[1]], stats)["r"].item() == 1.0


def test_a_statistic_after_a_statement_statistics_cannot_replay_stays_training_only(tmp_path):
    body = ("top = df['a'].cumsum().max() / 2\ndf['r'] = df['a'] / top\n"
            "df['b'] = df['b'].fillna(df['b'].median())\nX = df[['r', 'b']]\ny = df.t")
    flow = analyse(read_notebook(write(tmp_path, READ, body, FIT)), DATA, "m", "t")
    assert [(s.where, r) for s, r in flow.training_only] == [
        ("cell 2, line 2", "uses top, computed from the whole frame"),
        ("cell 2, line 3", "aggregates the whole frame (.median)")]
    assert flow.statistics == []


def test_her_name_stats_is_kept_and_the_frozen_values_take_another(tmp_path):
    ns, text = module(tmp_path, "from scipy import stats\n" + FILL)
    assert "def features(df, stats_):" in text
    assert ns["statistics"](RAW)["cell 2, line 5: df['b'].median()"] == 20.0


def test_reset_index_with_drop_is_served_and_keeps_later_steps(tmp_path):
    body = ("df = df.dropna()\ndf = df.reset_index(drop=True)\n"
            "df['d'] = df['a'] * 2\nX = df[['d']]\ny = df.t")
    flow = analyse(read_notebook(write(tmp_path, READ, body, FIT)), DATA, "m", "t")
    assert [s.line for s in flow.steps] == [2, 3]
    ns, _ = module(tmp_path, body)
    one = RAW.iloc[[4]].drop(columns="t")  # label 4 renumbered 0 on one record: same values
    assert ns["features"](one)["d"].tolist() == [16.0]
    kept = analyse(read_notebook(write(tmp_path, READ, "df = df.reset_index()\n"
                                       "X = df[['a']]\ny = df.t", FIT)), DATA, "m", "t")
    assert [r for _, r in kept.training_only] == ["renumbers rows into a column (.reset_index)"]


def test_dummies_dropping_the_first_category_are_served_whole_for_the_aligner(tmp_path):
    from nbprod.model.adopted import ColumnAligner

    body = "df = pd.get_dummies(df, columns=['c'], drop_first=True)\nX = df[['a', 'c_y', 'c_z']]" \
           "\ny = df.t"
    ns, text = module(tmp_path, body)
    assert "drop_first=False" in text
    training = pd.get_dummies(RAW, columns=["c"], drop_first=True)[["a", "c_y", "c_z"]]
    aligner = ColumnAligner().fit(training)
    for i in range(len(RAW)):  # one record alone, its first category included
        one = aligner.transform(ns["features"](RAW.iloc[[i]]))
        pd.testing.assert_frame_equal(one, training.iloc[[i]])
