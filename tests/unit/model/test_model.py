"""The model factory: preprocessing by column kind (blanks imputed where allowed) + estimator."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from nbprod import ConfigError, derive_feature_schema
from nbprod.data.dataset import features, target
from nbprod.data.validation import compact, validate
from nbprod.model.modeling import ESTIMATORS, build_model, make_estimator


@pytest.fixture
def train(loan_table, loan_frame):
    return compact(validate(loan_frame(60), loan_table), loan_table)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_estimator_fits_blanks_and_predicts_probabilities(name, train, loan_table):
    assert train[["income", "home"]].isna().any().all()  # blanks the table allows
    schema = derive_feature_schema(train, loan_table)
    model = build_model(schema, name, {}, seed=0).fit(features(train, loan_table),
                                                      target(train, loan_table))
    proba = model.predict_proba(features(train, loan_table))[:, 1]
    assert proba.shape == (60,) and np.all((proba >= 0) & (proba <= 1))


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


def test_columns_are_routed_by_kind_and_nullability(train, loan_table):
    schema = derive_feature_schema(train, loan_table)
    pre = build_model(schema, "logistic_regression", {}, seed=0).named_steps["preprocess"]
    routed = {name: cols for name, _, cols in pre.transformers}
    assert routed == {"categorical": ["grade"], "categorical_nullable": ["home"],
                      "binary": ["has_guarantor"], "integer": ["age"], "number_nullable": ["income"]}


def test_an_unknown_category_is_refused_by_the_model(train, loan_table):
    schema = derive_feature_schema(train, loan_table)
    X, y = features(train, loan_table), target(train, loan_table)
    model = build_model(schema, "logistic_regression", {}, seed=0).fit(X, y)
    bad = X.head(1).astype({"home": object})
    bad.loc[bad.index[0], "home"] = "castle"
    with pytest.raises(ValueError, match="unknown categor"):
        model.predict_proba(bad)


def test_a_served_null_in_a_nullable_category_is_imputed_like_a_training_blank(train, loan_table):
    """JSON null reaches the predictor as None; a nullable categorical column must score it
    as the blank the imputer learned, not refuse it as an unknown category."""
    from nbprod.serving.predictor import Predictor

    schema = derive_feature_schema(train, loan_table)
    X, y = features(train, loan_table), target(train, loan_table)
    model = build_model(schema, "logistic_regression", {}, seed=0).fit(X, y)
    row = {"age": 40, "income": None, "home": None, "grade": 2, "has_guarantor": 1}
    (prediction,) = Predictor(model, schema, "loans:v1").predict([row])
    blank = X.head(1).astype({"home": object}).assign(age=40, income=np.nan, home=np.nan,
                                                      grade=2, has_guarantor=1)
    assert prediction.probability == pytest.approx(model.predict_proba(blank)[0, 1], abs=1e-12)


def test_a_model_imputing_blanks_round_trips_through_the_safe_format(train, loan_table, tmp_path):
    """The imputers of nullable columns keep numpy dtypes, which the trusted list admits."""
    from nbprod.model.artifacts import load_model_file, save_model

    schema = derive_feature_schema(train, loan_table)
    X, y = features(train, loan_table), target(train, loan_table)
    model = build_model(schema, "gradient_boosting", {"max_iter": 5}, seed=0).fit(X, y)
    loaded = load_model_file(save_model(model, tmp_path / "model.skops"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
