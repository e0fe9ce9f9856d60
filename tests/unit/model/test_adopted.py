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


HER_FEATURES = '''
import pandas as pd


def statistics(df):
    df = df.copy()
    df = df.dropna(subset=["t"])
    stats = {}
    stats["median"] = df["a"].median()
    stats["mode"] = df["c"].mode()[0]
    stats["means"] = df[["a", "b"]].mean()
    return stats


def features(df, stats):
    df = df.copy()
    df["a"] = df["a"].fillna(stats["median"])
    df["c"] = df["c"].fillna(stats["mode"])
    df[["a", "b"]] = df[["a", "b"]].fillna(stats["means"])
    return df[["a", "b"]].assign(red=(df["c"] == "red").astype(int))
'''


@pytest.fixture
def her_module(tmp_path, monkeypatch):
    import importlib

    (tmp_path / "herpkg").mkdir()
    (tmp_path / "herpkg" / "__init__.py").write_text("")
    (tmp_path / "herpkg" / "features.py").write_text(HER_FEATURES)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("herpkg.features")


RAW = pd.DataFrame({"a": [1.0, 2.0, 10.0, np.nan, 100.0], "b": [np.nan, 4.0, 8.0, 1.0, 3.0],
                    "c": ["red", "blue", "red", None, "green"], "t": [1, 0, 1, 0, None]})


def test_fitted_features_keep_her_statistics_and_give_one_record_them(her_module):
    from nbprod.model.adopted import FittedFeatures

    step = FittedFeatures(her_module.features, her_module.statistics).fit(RAW)
    # computed after her dropna of the row without a target, as her notebook computes them
    assert step.statistics_["median"] == 2.0 and isinstance(step.statistics_["median"], float)
    assert step.statistics_["mode"] == "red"
    assert step.statistics_["means"] == {"index": ["a", "b"], "values": [13 / 3, 13 / 3]}
    one = step.transform(RAW.iloc[[3]])  # a blank a, a blank c: the training values fill them
    assert one.to_dict("records") == [{"a": 2.0, "b": 1.0, "red": 1}]
    b_blank = step.transform(RAW.iloc[[0]])
    assert b_blank["b"].item() == pytest.approx(13 / 3)


def test_fitted_features_round_trip_the_safe_format_with_their_values(her_module, tmp_path):
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline

    from nbprod.model.adopted import FittedFeatures
    from nbprod.model.artifacts import load_model_file, save_model
    from nbprod.model.trust import Trust

    trust = Trust(packages=("herpkg",))
    step = FittedFeatures(her_module.features, her_module.statistics).fit(RAW)
    model = make_pipeline(step, DummyClassifier().fit(step.transform(RAW), [0, 1, 0, 1, 1]))
    path = save_model(model, tmp_path / "model.skops", trust=trust)
    assert path.read_bytes()[:2] == b"PK"  # skops' zip, not a pickle
    loaded = load_model_file(path, trust=trust)[0]
    assert type(loaded) is FittedFeatures and loaded.statistics_ == step.statistics_
    pd.testing.assert_frame_equal(loaded.transform(RAW), step.transform(RAW))
    with pytest.raises(Exception, match="herpkg"):  # her functions are trusted by her package
        load_model_file(path, trust=Trust())


def test_a_statistic_that_is_not_a_value_or_a_mapping_is_refused_with_its_key(her_module):
    from nbprod.model.adopted import FittedFeatures

    with pytest.raises(TypeError, match="statistic 'frame' is a DataFrame"):
        FittedFeatures(her_module.features, lambda df: {"frame": df}).fit(RAW)


def test_the_served_pipeline_fits_her_statistics_on_the_frame_she_read(her_module):
    from sklearn.linear_model import LogisticRegression

    from nbprod.model.adopted import FittedFeatures, served_pipeline

    rows = RAW.dropna(subset=["t"])
    X = her_module.features(rows, her_module.statistics(RAW))
    model = LogisticRegression().fit(X, rows["t"].astype(int))
    served = served_pipeline(model, her_module.features, X, raw_order=list(RAW.columns),
                             statistics=her_module.statistics, raw=RAW)
    assert isinstance(served.named_steps["features"], FittedFeatures)
    np.testing.assert_allclose(served.predict_proba(RAW.iloc[[3]].drop(columns="t")),
                               model.predict_proba(X.iloc[[0]].assign(a=2.0, b=1.0, red=1)))
    with pytest.raises(ValueError, match="pass raw"):
        served_pipeline(model, her_module.features, X, statistics=her_module.statistics)


def test_a_numpy_float_parameter_of_her_model_is_described_as_yaml_writes_it():
    import yaml
    from sklearn.linear_model import LogisticRegression

    from nbprod.model.description import describe

    # her scale_pos_weight = y.value_counts()[0] / y.value_counts()[1] is an np.float64
    record = describe(LogisticRegression(C=np.float64(2.5)))
    assert type(record["params"]["C"]) is float
    assert "2.5" in yaml.safe_dump(record)
