import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from churn import COLUMNS, TARGET, data
from churn.features import features, target
from churn.model import ESTIMATORS, build_model, make_estimator
from nbprod import ConfigError, derive_feature_schema


@pytest.fixture
def train(make_frame):
    return data.clean(make_frame(40))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_estimator_fits_and_predicts_probabilities(name, train):
    schema = derive_feature_schema(train, COLUMNS, TARGET)
    model = build_model(schema, name, {}, seed=0).fit(features(train), target(train))
    proba = model.predict_proba(features(train))[:, 1]
    assert proba.shape == (40,)
    assert np.all((proba >= 0) & (proba <= 1))


def test_hyperparameters_and_seed_reach_the_estimator():
    est = make_estimator("gradient_boosting", {"learning_rate": 0.3}, seed=9)
    assert isinstance(est, HistGradientBoostingClassifier)
    assert est.learning_rate == 0.3 and est.random_state == 9
    lr = make_estimator("logistic_regression", {"C": 0.5}, seed=9)
    assert isinstance(lr, LogisticRegression) and lr.C == 0.5 and lr.max_iter == 1000


def test_unknown_estimator_lists_the_choices():
    with pytest.raises(ConfigError, match="estimator 'svm' is unknown.*gradient_boosting"):
        make_estimator("svm", {}, seed=0)


def test_unknown_hyperparameter_is_named():
    with pytest.raises(ConfigError, match=r"no hyper-parameter\(s\) \['depth'\]"):
        make_estimator("gradient_boosting", {"depth": 3}, seed=0)


def test_columns_are_routed_by_kind(train):
    schema = derive_feature_schema(train, COLUMNS, TARGET)
    pre = build_model(schema, "logistic_regression", {}, seed=0).named_steps["preprocess"]
    routed = {name: cols for name, _, cols in pre.transformers}
    assert "contract" in routed["categorical"]
    assert set(routed["numeric"]) == {"tenure", "monthly_charges", "total_charges"}
    assert "female" in routed["binary"]


def test_an_unknown_category_is_refused_by_the_model(train):
    schema = derive_feature_schema(train, COLUMNS, TARGET)
    model = build_model(schema, "logistic_regression", {}, seed=0).fit(features(train), target(train))
    bad = features(train).head(1).copy()
    bad["contract"] = "Ten year"
    with pytest.raises(ValueError, match="unknown categor"):
        model.predict_proba(bad)
