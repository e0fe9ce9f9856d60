"""What adopting a Pipeline of her own classes needed, each part on its own: her split taking
an expression for X, a class of hers used by a later task, the raw columns her served path
reads declared for the service, and the library types her model holds for the trust file."""

from __future__ import annotations

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from nbprod.errors import ConfigError
from nbprod.model.adopted import answers, served_pipeline
from nbprod.model.trust import needed
from nbprod.scaffold.column_rules import declared_anyway
from nbprod.scaffold.infer import infer_table
from nbprod.scaffold.notebook_flow import analyse
from nbprod.scaffold.notebook_run import reads
from nbprod.scaffold.notebook_source import Cell
from nbprod.scaffold.notebook_split import Section
from nbprod.scaffold.notebook_tasks import her_tasks
from nbprod.scaffold.read_columns import declare_read_columns


def cells(*sources: str) -> list[Cell]:
    return [Cell(number, source) for number, source in enumerate(sources, 1)]


# ---- her split takes an expression for X ---------------------------------------------------

SPLIT_OF_AN_EXPRESSION = cells(
    "import pandas as pd\nfrom sklearn.model_selection import train_test_split",
    "data = pd.read_csv('t.csv')\ndata['cabin'] = data['cabin'].str[0]",
    "X_train, X_test, y_train, y_test = train_test_split(\n"
    "    data.drop('survived', axis=1), data['survived'], test_size=0.2, random_state=0)",
    "pipe.fit(X_train, y_train)")


def test_a_split_of_an_expression_serves_the_frame_her_steps_build():
    flow = analyse(SPLIT_OF_AN_EXPRESSION, "t.csv", "pipe", "survived")
    assert flow.frame == "data" and flow.X == "data.drop('survived', axis=1)"
    assert [s.where for s in flow.steps] == ["cell 2, line 2"]
    assert flow.split.where.startswith("cell 3") and flow.x_value == ""
    assert {k: v.value for k, v in flow.split_literals.items()} == {
        "test_size": 0.2, "random_state": 0}


def test_a_split_of_dummies_serves_her_dummies_expression():
    flow = analyse(cells("import pandas as pd", "df = pd.read_csv('t.csv')",
                         "X_train, X_test, y_train, y_test = train_test_split("
                         "pd.get_dummies(df.drop(columns='y')), df['y'])",
                         "m.fit(X_train, y_train)"), "t.csv", "m", "y")
    assert flow.x_value == "pd.get_dummies(df.drop(columns='y'))" and flow.frame == "df"


def test_a_split_before_the_data_is_read_is_still_refused():
    with pytest.raises(ConfigError, match="is not assigned between reading the data"):
        analyse(cells("X_train, X_test, y_train, y_test = train_test_split(other.drop('y'))",
                      "import pandas as pd\ndf = pd.read_csv('t.csv')", "m.fit(X_train, y_train)"),
                "t.csv", "m", "y")


# ---- a class of hers, defined in one task, used by a later one ------------------------------

def test_a_later_task_imports_her_class_from_her_package():
    defined = Cell(1, "class Letter:\n    pass\n\ndef unused():\n    pass")
    used = Cell(2, "pipe = Pipeline([('letter', Letter())])")
    sections = [Section("preprocessors", [defined]), Section("pipeline", [used])]
    tasks = her_tasks(sections, {}, [defined, used], {}, {}, {}, "keep()", "pkg", "title")
    first, later = ([c.source for c in nbformat.reads(t.notebook, as_version=4).cells]
                    for t in tasks)
    assert "from pkg.notebook import Letter\n\nfrom pkg.notebook import unused" in first
    assert "from pkg.notebook import Letter" in later  # only what the later task uses
    assert not any("unused" in source for source in later)


# ---- the raw columns her served path reads -------------------------------------------------

def _letter(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(deck=df["cabin"].str[0].eq("C").astype(int))[["deck", "fare"]]


def test_reads_names_the_raw_columns_her_answers_depend_on():
    raw = pd.DataFrame({"cabin": ["C85", "E46", "C23", "B5"] * 5, "fare": np.arange(20.0),
                        "ticket": [f"t{i}" for i in range(20)]})
    y = [1, 0, 1, 0] * 5
    X = _letter(raw)
    model = LogisticRegression().fit(X, y)
    served = served_pipeline(model, _letter, X, raw_order=list(raw.columns))
    assert reads(served, raw, answers(model, X)) == ["cabin", "fare"]


def test_a_column_her_model_reads_is_declared_though_inference_leaves_it_out():
    frame = pd.DataFrame({"Cabin No": [f"C{i}" for i in range(200)],
                          "fare": np.linspace(1, 90, 200), "ticket": [f"t{i}" for i in range(200)],
                          "y": [0, 1] * 100})
    table = infer_table(frame, "y")
    assert set(table.dropped) == {"Cabin No", "ticket"}
    declared, lines = declare_read_columns(table, frame, ["Cabin No", "fare"])
    assert list(declared.columns) == ["cabin_no", "fare", "y"]  # the file's order
    assert declared.columns["cabin_no"] == {"source": "Cabin No", "kind": "text",
                                            "max_length": 100}
    assert list(declared.dropped) == ["ticket"]
    assert lines == ["Cabin No: her model reads it, declared as text (nbprod new --data would "
                     "leave it out: id-like (a different value on every row))"]
    assert declare_read_columns(table, frame, ["fare"]) == (table, [])


def test_a_column_declared_anyway_is_a_number_or_text():
    assert declared_anyway(pd.Series([1.0, 250.0, None])) == {
        "kind": "number", "min": 0.0, "max": 500.0, "nullable": True}
    assert declared_anyway(pd.Series(["B5", "C22 C26"])) == {"kind": "text", "max_length": 100}


# ---- the library types her model holds ------------------------------------------------------

def test_needed_lists_other_libraries_types_and_turns_reviewed_libraries_on():
    libraries, types = needed([
        "feature_engine.encoding.one_hot.OneHotEncoder", "xgboost.core.Booster",
        "__main__.ExtractLetterTransformer", "sklearn.tree._tree.Tree"])
    assert libraries == ["xgboost"]
    assert types == ["feature_engine.encoding.one_hot.OneHotEncoder"]
    assert needed([]) == ([], [])
