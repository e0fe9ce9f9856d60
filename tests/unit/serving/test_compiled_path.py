"""The compiled fast path end to end in one process: registered beside the artifact with its
parity, loaded sha256-checked, answering /predict's rows without a DataFrame with the answers
the artifact gives, for every model kind; refused when tampered, and turned off by
NBPROD_COMPILED=0."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from nbprod import ModelStoreError, PredictionError
from nbprod.data.columns import ColumnTable
from nbprod.data.dataset import features, target
from nbprod.data.schema import derive_feature_schema
from nbprod.data.validation import compact, validate
from nbprod.model.compiling import compile_model, summary
from nbprod.model.modeling import build_model
from nbprod.registry.store import get_model, load_compiled, register_model, serving_model
from nbprod.serving.predictor import Predictor, input_model
from nbprod.serving.trial import records
from tables import LOAN, loan_rows

TARGETS = {"binary": ("status", "gradient_boosting"),
           "multiclass": ("grade", "logistic_regression"),
           "regression": ("age", "gradient_boosting")}


def _registered(model_name: str, kind: str):
    column, estimator = TARGETS[kind]
    spec = {**LOAN, "target": column}
    if kind != "binary":
        spec = {**spec, "kind": kind}
        spec.pop("positive")
    table = ColumnTable.from_dict(spec, source="loan.yaml")
    stored = compact(validate(loan_rows(150), table), table)
    schema = derive_feature_schema(stored, table)
    X, y = features(stored, table), target(stored, table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(schema, estimator, {}, seed=0).fit(X, y)
    compiled = compile_model(model, schema, X)
    tag = register_model(model_name, model, {"feature_schema": schema.to_dict()},
                         compiled=compiled)
    return tag, schema, X


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_the_served_rows_get_the_artifacts_answers_from_the_compiled_graph(model_name, kind):
    tag, schema, X = _registered(model_name, kind)
    stored = get_model(tag)
    record = stored.info.metadata["compiled"]
    assert record["parity"]["passed"] and (Path(stored.path) / record["file"]).is_file()
    assert summary(record).startswith("its ONNX graph (largest difference")
    fast = Predictor.from_store(tag)
    slow = Predictor(fast.model, fast.schema, fast.tag, fast.threshold)
    assert fast.path == "compiled" and slow.path == "artifact"
    assert fast.describe()["served_from"] == "compiled"
    Record = input_model(schema)
    rows = [Record.model_validate(r) for r in records(X, schema, rows=len(X))]
    assert isinstance(fast.inputs(rows), dict)  # the rows' columns, no DataFrame
    for got, expected in zip(fast.predict(rows), slow.predict(rows), strict=True):
        a, b = got.model_dump(), expected.model_dump()
        if kind == "binary":
            assert a["label"] == b["label"]
            assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)
        elif kind == "multiclass":
            assert a["label"] == b["label"]
            assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)
        else:
            assert a["prediction"] == pytest.approx(b["prediction"], rel=1e-5)


def test_a_tampered_compiled_graph_is_refused(model_name):
    tag, _, _ = _registered(model_name, "binary")
    stored = get_model(tag)
    graph = Path(stored.path) / stored.info.metadata["compiled"]["file"]
    graph.write_bytes(graph.read_bytes() + b"tampered")
    with pytest.raises(ModelStoreError, match="compiled graph .* modified or truncated"):
        load_compiled(stored)


def test_nbprod_compiled_0_serves_the_artifact(model_name, monkeypatch):
    tag, _, _ = _registered(model_name, "binary")
    monkeypatch.setenv("NBPROD_COMPILED", "0")
    assert Predictor.from_store(tag).path == "artifact"
    assert not hasattr(serving_model(get_model(tag)), "session")


def test_a_model_that_fails_parity_is_stored_without_a_graph_with_the_reason(model_name):
    from nbprod.model.compiling import Compiled

    failed = Compiled(b"graph", {"compiled": True, "format": "onnx",
                                 "parity": {"passed": False, "max_difference": 0.2, "rows": 9,
                                            "labels_changed": 1, "near_threshold": 0},
                                 "reason": "parity failed: largest difference 0.2"})
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    tag = register_model(model_name, model, {}, compiled=failed)
    stored = get_model(tag)
    assert "file" not in stored.info.metadata["compiled"]
    assert not list(Path(stored.path).glob("*.onnx"))
    assert load_compiled(stored) is None
    assert summary(stored.info.metadata["compiled"]) == (
        "its stored artifact: parity failed: largest difference 0.2")


def _capped(frame):
    """A cleaning step that changes values and dtypes: incomes capped, blank homes "other"."""
    out = frame.copy()
    out["income"] = out["income"].clip(upper=30_000.0)
    out["home"] = out["home"].fillna("other").astype("category")
    return out


def _drops(frame):
    return frame.drop(columns=["income"])


def test_with_a_cleaning_step_the_graph_gets_the_cleaned_columns_and_the_artifacts_answers(
    model_name,
):
    tag, schema, X = _registered(model_name, "binary")
    loaded = Predictor.from_store(tag)
    fast = Predictor(loaded.model, schema, tag, clean=_capped, compiled=loaded.compiled)
    slow = Predictor(loaded.model, schema, tag, clean=_capped)
    Record = input_model(schema)
    rows = [Record.model_validate(r) for r in records(X, schema, rows=len(X))]
    fed = fast.inputs(rows)
    assert isinstance(fed, dict) and max(fed["income"]) == 30_000.0  # cleaned, no DataFrame
    assert "other" in fed["home"] and None not in fed["home"]
    got = [a.probability for a in fast.predict(rows)]
    expected = [a.probability for a in slow.predict(rows)]
    assert got == pytest.approx(expected, abs=1e-5)
    unclean = [a.probability for a in Predictor(loaded.model, schema, tag).predict(rows)]
    assert max(abs(a - b) for a, b in zip(got, unclean, strict=True)) > 1e-3  # it ran
    for compiled in (loaded.compiled, None):  # the same answer on either path
        broken = Predictor(loaded.model, schema, tag, clean=_drops, compiled=compiled)
        with pytest.raises(PredictionError, match=r"the cleaning step .*_drops gave no "
                                                  r"column.s. \['income'\] of the model"):
            broken.predict(rows)


def test_a_file_is_scored_from_the_graph_with_its_categories_as_codes_as_the_artifact_scores_it(
        model_name, tmp_path):
    from nbprod.serving.batch import score_chunks

    tag, schema, X = _registered(model_name, "regression")
    stored = get_model(tag)
    graph = load_compiled(stored)
    assert graph.categories == {"status": ["good", "bad"]}  # a text input fed as codes
    assert "tensor(int64)" in [i.type for i in graph.inputs if i.name == "status"]
    X.assign(status=X["status"].astype(str)).to_parquet(tmp_path / "in.parquet")  # as text
    seen: list[int] = []
    fast = score_chunks(graph, schema, tag, tmp_path / "in.parquet", tmp_path / "fast.parquet",
                        chunk_rows=40, progress=seen.append)
    slow = score_chunks(serving_model(stored, compiled=False), schema, tag,
                        tmp_path / "in.parquet", tmp_path / "slow.parquet", chunk_rows=40)
    assert seen == [40, 40, 40, 30] and fast.chunks == slow.chunks == 4
    got, expected = (pd.read_parquet(r.output)["prediction"] for r in (fast, slow))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
