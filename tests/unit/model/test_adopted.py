"""The served notebook model's own steps: raw records renamed to her headers, her training
columns restored (a dummy a record lacks is 0), and parity that names the first difference."""

import numpy as np
import pandas as pd
import pytest

from nbprod.errors import ParityError
from nbprod.model.adopted import ColumnAligner, RawColumns, answers, parity


def test_raw_columns_give_her_headers_in_her_order_and_blank_what_is_missing():
    out = RawColumns({"monthly": "Monthly Charges"}, ["id", "Monthly Charges", "plan"]).transform(
        pd.DataFrame({"plan": ["a"], "monthly": [3.0]}))
    assert list(out.columns) == ["id", "Monthly Charges", "plan"]
    assert np.isnan(out.loc[0, "id"]) and out.loc[0, "Monthly Charges"] == 3.0


def test_the_aligner_restores_training_columns_from_one_record():
    train = pd.DataFrame({"x": [1.0, 2.0], "plan_a": [True, False], "plan_b": [False, True]})
    aligner = ColumnAligner().fit(train)
    one = pd.DataFrame({"plan_b": [True], "x": [5.0], "extra": ["?"]})
    out = aligner.transform(one)
    assert list(out.columns) == ["x", "plan_a", "plan_b"]
    assert out.dtypes["plan_a"] is np.dtype(bool) and not out.loc[0, "plan_a"] and out.loc[0, "plan_b"]


def test_parity_names_the_first_differing_row_and_column():
    expected = pd.DataFrame({"proba_1": [0.25, 0.5], "label": [0, 1]}, index=[10, 11])
    parity(expected, expected.assign(proba_1=[0.25 * (1 + 1e-9), 0.5]))  # within 1e-6 relative
    with pytest.raises(ParityError, match=r"row 11 \(#1\), label: her notebook's model says 1, "
                                          r"the served pipeline 0"):
        parity(expected, expected.assign(label=[0, 0]))


def test_answers_are_probabilities_by_class_and_the_label():
    from sklearn.tree import DecisionTreeClassifier

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    model = DecisionTreeClassifier().fit(X, ["no", "no", "yes", "yes"])
    out = answers(model, X)
    assert list(out.columns) == ["proba_no", "proba_yes", "label"]
    assert out["label"].tolist() == ["no", "no", "yes", "yes"]
