"""The compiled graph of a fitted model and its parity on the held-out rows: every model kind
and every library of docs/own-model.md, each through nbprod's default preprocessing (blanks
imputed with an indicator, categories one-hot encoded)."""

import warnings

import numpy as np
import pytest

from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import features, target
from nbprod.data.schema import derive_feature_schema
from nbprod.data.validation import compact, validate
from nbprod.model.compiling import TOLERANCE, compile_model, parity
from nbprod.model.modeling import build_model
from nbprod.model.onnx_model import OnnxModel
from tables import LOAN, loan_rows

#: The loan table's binary target, a multiclass one (the grade) and a regression (the age).
TARGETS = {"binary": "status", "multiclass": "grade", "regression": "age"}
CLASSIFIERS = {
    "logistic_regression": {},
    "gradient_boosting": {"max_iter": 10},
    "sklearn.ensemble:RandomForestClassifier": {"n_estimators": 20},
    "sklearn.svm:SVC": {"probability": True},
    "sklearn.neighbors:KNeighborsClassifier": {"n_neighbors": 3},
    "xgboost:XGBClassifier": {"n_estimators": 20},
    "lightgbm:LGBMClassifier": {"n_estimators": 20, "verbose": -1, "min_child_samples": 2},
    "catboost:CatBoostClassifier": {"iterations": 20, "verbose": 0, "allow_writing_files": False},
}
REGRESSORS = {
    "ridge": {},
    "gradient_boosting": {"max_iter": 10},
    "sklearn.ensemble:RandomForestRegressor": {"n_estimators": 20},
    "sklearn.svm:SVR": {},
    "xgboost:XGBRegressor": {"n_estimators": 20},
    "lightgbm:LGBMRegressor": {"n_estimators": 20, "verbose": -1, "min_child_samples": 2},
    "catboost:CatBoostRegressor": {"iterations": 20, "verbose": 0, "allow_writing_files": False},
}
#: Where the graph honestly differs: the loan rows repeat, so a row has several neighbours at
#: the same distance, and the graph's sort keeps another of them than scikit-learn's.
DIFFERS = {("multiclass", "sklearn.neighbors:KNeighborsClassifier")}
CASES = [(kind, name) for kind in ("binary", "multiclass") for name in CLASSIFIERS] + [
    ("regression", name) for name in REGRESSORS]


def _loans(kind: str):
    spec = {**LOAN, "target": TARGETS[kind]}
    if kind != "binary":
        spec = {**spec, "kind": kind}
        spec.pop("positive")
    table = ColumnTable.from_dict(spec, source="loan.yaml")
    stored = compact(validate(loan_rows(150), table), table)
    return derive_feature_schema(stored, table), features(stored, table), target(stored, table)


def _fit(kind: str, name: str):
    schema, X, y = _loans(kind)
    params = (CLASSIFIERS if kind != "regression" else REGRESSORS)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(schema, name, params, seed=0).fit(X, y)
    return schema, X, model


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_every_kind_and_library_compiles_with_parity_on_the_held_out_rows(kind, name):
    schema, X, model = _fit(kind, name)
    assert schema.model_kind == kind
    compiled = compile_model(model, schema, X)
    checked = compiled.record["parity"]
    if (kind, name) in DIFFERS:
        assert not compiled.usable and not checked["passed"]
        assert compiled.record["reason"].startswith("parity failed: largest difference")
        return
    assert compiled.usable, compiled.record
    assert checked["rows"] == len(X) and checked["max_difference"] <= TOLERANCE
    assert checked["labels_changed"] <= checked["near_threshold"]
    graph = OnnxModel(compiled.graph, "the compiled graph")
    if kind == "regression":
        np.testing.assert_allclose(graph.predict(X), model.predict(X), rtol=1e-4)
    else:  # every label agrees but at a tie (two classes as probable, to 1e-6)
        top = np.sort(model.predict_proba(X), axis=1)
        tied = top[:, -1] - top[:, -2] <= 1e-6
        assert ((graph.predict(X) == np.ravel(model.predict(X))) | tied).all()
        assert tied.mean() <= 0.05


def test_a_model_no_converter_takes_keeps_its_path_with_the_reason():
    schema, X, y = _loans("binary")
    model = build_model(schema, "sklearn.dummy:DummyClassifier", {}, seed=0).fit(X, y)
    compiled = compile_model(model, schema, X)
    assert not compiled.usable and compiled.graph is None
    assert compiled.record["compiled"] is False and "DummyClassifier" in compiled.record["reason"]


def test_a_graph_that_answers_otherwise_fails_parity_and_says_by_how_much():
    schema, X, model = _fit("binary", "logistic_regression")

    class Shifted:  # the model's answers, moved: what a wrong conversion would give
        def predict_proba(self, frame):
            p = model.predict_proba(frame).copy()
            p[:, 1] = np.clip(p[:, 1] + 0.01, 0, 1)
            p[:, 0] = 1 - p[:, 1]
            return p

    graph = OnnxModel(compile_model(model, schema, X).graph, "the compiled graph")
    checked = parity(Shifted(), graph, X, schema.model_kind)
    assert not checked["passed"] and checked["max_difference"] == pytest.approx(0.01, abs=1e-4)


def test_without_the_converters_the_reason_says_how_to_install_them(monkeypatch):
    import sys

    schema, X, model = _fit("binary", "logistic_regression")
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # as if `compile` were not installed
    compiled = compile_model(model, schema, X)
    assert not compiled.usable and compiled.graph is None
    assert compiled.record["reason"] == ("the converters are not installed (skl2onnx is "
                                         "missing): pip install 'nbprod[compile]'")
