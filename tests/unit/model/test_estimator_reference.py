"""Any scikit-learn-API class or factory, named as module:attribute in env.yaml."""

import pytest

from nbprod import ConfigError
from nbprod.model.modeling import build_model, make_estimator


def test_a_class_of_another_library_gets_its_parameters_and_the_seed():
    model = make_estimator("xgboost:XGBClassifier", {"n_estimators": 5}, seed=7)
    assert type(model).__name__ == "XGBClassifier"
    assert model.get_params()["n_estimators"] == 5 and model.get_params()["random_state"] == 7
    assert make_estimator("lightgbm:LGBMRegressor", {"random_state": 1}, seed=7,
                          kind="regression").get_params()["random_state"] == 1


def test_a_factory_of_her_package_builds_her_pipeline():
    model = make_estimator("churn.models:own_forest", {"n_estimators": 3}, seed=0)
    assert [name for name, _ in model.steps][-1] == "randomforestclassifier"
    assert model.steps[-1][1].n_estimators == 3


def test_without_preprocessing_the_estimator_is_alone(telco_table):
    from conftest import good_frame

    from nbprod.data.schema import derive_feature_schema

    schema = derive_feature_schema(good_frame(), telco_table)
    alone = build_model(schema, "sklearn.ensemble:RandomForestClassifier", {}, 0, preprocess=False)
    assert type(alone).__name__ == "RandomForestClassifier"
    wrapped = build_model(schema, "sklearn.ensemble:RandomForestClassifier", {}, 0)
    assert [name for name, _ in wrapped.steps] == ["preprocess", "estimator"]


@pytest.mark.parametrize(("name", "params", "kind", "message"), [
    ("sklearn.ensemble:RandomForestRegressor", {}, "binary", "is a regressor, but the model is binary"),
    ("xgboost:XGBClassifier", {}, "regression", "is a classifier, but the model is regression"),
    ("sklearn.ensemble:Nope", {}, "binary", "cannot import it"),
    ("no_such_library:Model", {}, "binary", "module 'no_such_library' is not installed"),
    ("sklearn.linear_model:LogisticRegression", {"nope": 1}, "binary", r"cannot be called with .*'nope'"),
    ("churn:RULES", {}, "binary", "is not a class or a function"),
    ("churn.models:charge_ratio", {}, "binary", "missing 1 required positional argument"),
    ("xgboost", {}, "binary", "is unknown for a binary model"),
])
def test_a_wrong_reference_is_one_line_naming_it(name, params, kind, message):
    with pytest.raises(ConfigError, match=message):
        make_estimator(name, params, seed=0, kind=kind)
