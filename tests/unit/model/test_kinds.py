"""Multiclass and regression models through the toolkit: the column table, the label and
split, the estimator, the predictions frame, the metrics and the plots of each kind."""

import copy

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import yaml

from nbprod import ConfigError
from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import split, stratified_sample, summary, target
from nbprod.data.model_kinds import prediction_columns
from nbprod.data.schema import derive_feature_schema
from nbprod.data.validation import validate
from nbprod.errors import TargetError
from nbprod.model.evaluation import evaluate, feature_importance, training_score
from nbprod.model.modeling import build_model

FEATURES = {
    "size": {"kind": "number", "min": 0, "max": 100},
    "colour": {"kind": "categorical", "categories": ["red", "green", "blue"]},
}
MULTI = {"kind": "multiclass", "target": "grade", "record": "Item",
         "columns": {**FEATURES, "grade": {"kind": "categorical", "categories": ["C", "A", "B"]}}}
REG = {"kind": "regression", "target": "price", "record": "Item",
       "columns": {**FEATURES, "price": {"kind": "number"}}}


def frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Rows whose grade and price follow size and colour, with some noise."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(0, 100, n)
    colour = rng.choice(["red", "green", "blue"], n)
    score = size + np.where(colour == "red", 20, 0) + rng.normal(0, 8, n)
    grade = np.where(score < 40, "C", np.where(score < 75, "B", "A"))
    price = 3.0 * size + np.where(colour == "blue", 50.0, 0.0) + rng.normal(0, 5, n)
    return pd.DataFrame({"size": size, "colour": colour, "grade": grade, "price": price})


def table(spec: dict) -> ColumnTable:
    return ColumnTable.from_dict(copy.deepcopy(spec), source="columns.yaml")


def data(t: ColumnTable, **changes) -> pd.DataFrame:
    """The rows of :func:`frame` with the columns of ``t``."""
    return frame().assign(**changes)[t.names]


@pytest.mark.parametrize("spec, change, message", [
    (MULTI, lambda d: d["columns"]["grade"].update(categories=["A", "B"]),
     "columns.grade: a multiclass target must be categorical with three or more categories, got "
     "kind 'categorical' and categories ['A', 'B']; two categories make a binary model"),
    (MULTI, lambda d: d.update(positive="A"), "columns.yaml: positive: only a binary target has a "
     "positive class (kind is multiclass)"),
    (REG, lambda d: d["columns"].update(price={"kind": "categorical", "categories": ["x"]}),
     "columns.price: a regression target must be of kind integer or number, got 'categorical'"),
    (REG, lambda d: d.update(kind="ordinal"), "columns.yaml: kind: 'ordinal' is not one of binary"),
    (REG, lambda d: d["columns"]["price"].update(nullable=True), "the target cannot be nullable"),
])
def test_the_table_checks_the_target_against_the_kind(spec, change, message):
    data = copy.deepcopy(spec)
    change(data)
    with pytest.raises(ConfigError) as info:
        ColumnTable.from_dict(data, source="columns.yaml")
    assert message in str(info.value)


def test_a_binary_table_still_needs_its_positive_class(loan_table):
    data = loan_table.to_dict()
    assert "kind" not in data and data["positive"] == "bad"
    del data["positive"]
    with pytest.raises(ConfigError, match="missing key 'positive'"):
        ColumnTable.from_dict(data)


@pytest.mark.parametrize("spec", [MULTI, REG])
def test_kind_and_classes_round_trip_into_the_schema(spec, tmp_path):
    t = table(spec)
    path = tmp_path / "columns.yaml"
    path.write_text(yaml.safe_dump(t.to_dict(), sort_keys=False))
    assert ColumnTable.load(path) == ColumnTable.from_dict(spec, source=str(path))
    schema = derive_feature_schema(validate(data(t), t), t)
    assert schema.model_kind == spec["kind"]
    assert schema.classes == (["C", "A", "B"] if spec is MULTI else [])
    assert schema.names == ["size", "colour"]


def test_the_label_split_and_sample_of_a_multiclass_target():
    t = table(MULTI)
    df = validate(data(t), t)
    label = target(df, t)
    assert set(label) == {0, 1, 2}
    assert (df["grade"].astype(str) == np.array(t.classes)[label]).all()
    train, test = split(df, t, 0.25, seed=1)
    shares = lambda f: target(f, t).value_counts(normalize=True).sort_index()  # noqa: E731
    assert np.allclose(shares(train), shares(test), atol=0.05)
    sample = stratified_sample(df, t, 60, seed=1)
    assert len(sample) == pytest.approx(60, abs=3)
    assert list(summary({"train": train}, t).columns) == ["rows", "share C", "share A", "share B"]


def test_the_label_split_and_sample_of_a_regression_target():
    t = table(REG)
    df = validate(data(t), t)
    label = target(df, t)
    assert label.dtype == "float64" and np.allclose(label, df["price"])
    train, test = split(df, t, 0.25, seed=1)
    assert len(test) == 60 and set(train.index).isdisjoint(test.index)
    assert len(stratified_sample(df, t, 50, seed=1)) == 50
    assert list(summary({"test": test}, t).columns) == ["rows", "mean", "std"]


def test_a_target_with_one_value_blanks_only_or_words_for_numbers_is_refused_in_one_line():
    t = table(REG)
    with pytest.raises(TargetError, match=r"^raw.csv: target 'price' has one value only \(3.0 on "
                       r"240 row\(s\)\)"):
        validate(data(t, price=3.0), t, source="raw.csv")
    with pytest.raises(TargetError, match="^raw.csv: target 'price' is blank on all 240 row"):
        validate(data(t, price=np.nan), t, source="raw.csv")
    words = data(t).astype({"price": object})
    words.loc[[4, 9], "price"] = ["cheap", "n/a"]
    with pytest.raises(TargetError) as info:
        validate(words, t, source="raw.csv")
    assert str(info.value).startswith("raw.csv: regression target 'price' has 2 value(s) that "
                                      "are not numbers (row 4: 'cheap', row 9: 'n/a')")
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module", params=["multiclass", "regression"])
def fitted(request):
    t = table(MULTI if request.param == "multiclass" else REG)
    df = validate(data(t), t)
    train, test = split(df, t, 0.25, seed=3)
    schema = derive_feature_schema(train, t)
    estimator = "logistic_regression" if request.param == "multiclass" else "ridge"
    model = build_model(schema, estimator, {}, seed=3)
    model.fit(train[t.features], target(train, t))
    return t, model, train, test


def test_the_model_is_a_classifier_or_a_regressor_by_kind(fitted):
    t, model, train, _ = fitted
    estimator = model.named_steps["estimator"]
    assert hasattr(estimator, "predict_proba") == (t.kind == "multiclass")
    line = training_score(model, train[t.features], target(train, t), t.kind)
    assert line.startswith("accuracy" if t.kind == "multiclass" else "RMSE")


def test_a_regressor_name_for_a_classifier_is_named():
    schema = derive_feature_schema(validate(data(table(MULTI)), table(MULTI)), table(MULTI))
    with pytest.raises(ConfigError, match="estimator 'ridge' is unknown for a multiclass model"):
        build_model(schema, "ridge", {}, seed=0)


def test_the_evaluation_of_each_kind(fitted, tmp_path):
    t, model, _, test = fitted
    ev = evaluate(model, test, t)
    frame_ = ev.predictions
    assert list(frame_.columns) == ["row", t.target, *prediction_columns(t.kind, t.classes)]
    assert list(frame_["row"]) == list(test.index)
    m = ev.metrics
    if t.kind == "multiclass":
        proba = frame_[[f"probability:{c}" for c in t.classes]].to_numpy()
        assert np.allclose(proba.sum(axis=1), 1.0)
        assert (frame_["label"] == np.array(t.classes)[proba.argmax(axis=1)]).all()
        assert m["accuracy"] == pytest.approx((frame_["label"] == frame_["grade"]).mean())
        assert m["accuracy"] > 0.6 and 0 < m["macro_f1"] <= 1 and m["log_loss"] > 0
        assert set(m["recall"]) == set(t.classes) and m["min_recall"] == min(m["recall"].values())
        counts = np.array(m["confusion_matrix"]["counts"])
        assert counts.sum() == len(test) and m["confusion_matrix"]["classes"] == t.classes
        assert list(ev.detail().index) == ["actual: C", "actual: A", "actual: B"]
    else:
        residual = frame_["price"] - frame_["prediction"]
        assert m["rmse"] == pytest.approx(float(np.sqrt((residual**2).mean())))
        assert m["mae"] == pytest.approx(float(residual.abs().mean()))
        assert m["r2"] > 0.9 and m["residual_std"] == pytest.approx(residual.std(ddof=0))
        q = m["residual_quantiles"]
        assert q["q05"] < q["q50"] < q["q95"]
        assert list(ev.detail().index) == list(q)
    ev.write(tmp_path / "metrics.json", tmp_path / "p.parquet")
    assert pd.read_parquet(tmp_path / "p.parquet").equals(frame_)
    importance = feature_importance(model, test[t.features], target(test, t), seed=0, kind=t.kind)
    assert importance.index[0] == "size"
    fig = ev.plot(importance)
    titles = [ax.get_title() for ax in fig.axes]
    wanted = ("Confusion matrix", "ROC curve per class") if t.kind == "multiclass" else (
        "Predicted against actual", "Residuals")
    assert all(any(title.startswith(w) for title in titles) for w in wanted), titles


def test_batch_scoring_writes_the_columns_of_each_kind(fitted, tmp_path):
    from nbprod.serving.batch import score_chunks, score_summary

    t, model, train, test = fitted
    schema = derive_feature_schema(train, t)
    source = tmp_path / "in.parquet"
    test[t.features].to_parquet(source, index=False)
    result = score_chunks(model, schema, "m:1", source, tmp_path / "out.parquet", chunk_rows=25)
    out = pd.read_parquet(result.output)
    assert list(out.columns) == ["row", *prediction_columns(t.kind, t.classes), "model"]
    assert result.kind == t.kind and result.chunks == 3 and list(out["row"]) == list(range(60))
    evaluated = evaluate(model, test, t).predictions
    for name in prediction_columns(t.kind, t.classes):
        if name == "label":
            assert (out[name] == evaluated[name]).all()
        else:
            assert np.allclose(out[name], evaluated[name], rtol=0, atol=1e-12)
    summary_ = score_summary(result)
    assert summary_.loc[0, "rows"] == 60
    if t.kind == "multiclass":
        counts = {c.removeprefix("predicted "): v for c, v in summary_.iloc[0].items() if c != "rows"}
        assert counts == out["label"].value_counts().to_dict()
    else:
        assert summary_.loc[0, "mean"] == pytest.approx(out["prediction"].mean(), abs=1e-4)
