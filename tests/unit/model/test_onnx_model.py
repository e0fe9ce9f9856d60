"""A model she exported to ONNX: saved, loaded (no Python code runs), registered and answered
through the service's path like any other, and refused in one line when it cannot run."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx_graph import logistic_graph

from nbprod import ModelStoreError, get_model, load_model, register_model
from nbprod.data.dataset import features, target
from nbprod.data.schema import derive_feature_schema
from nbprod.data.validation import compact, validate
from nbprod.model.artifacts import load_model_file, save_model
from nbprod.model.description import describe
from nbprod.model.onnx_model import OnnxModel
from nbprod.serving.trial import single_record_trial


@pytest.fixture
def exported(loan_table, loan_frame):
    stored = compact(validate(loan_frame(60), loan_table), loan_table)
    schema = derive_feature_schema(stored, loan_table)
    X = features(stored, loan_table)
    return logistic_graph(X, target(stored, loan_table), schema), X, schema, stored


def test_an_exported_graph_is_saved_loaded_and_answers_as_onnxruntime_does(exported, tmp_path):
    graph, X, schema, stored = exported
    path = save_model(graph, tmp_path / "model.skops")  # whatever the product is called
    model = load_model_file(path)
    assert isinstance(model, OnnxModel)
    session = ort.InferenceSession(graph.SerializeToString())
    feed = {f.name: (X[f.name].astype(object).where(X[f.name].notna(), "").astype(str)
                     .to_numpy(dtype=object) if f.kind == "categorical"
                     else X[f.name].to_numpy(dtype=np.float32)).reshape(-1, 1)
            for f in schema.features}
    direct = session.run(["probability"], feed)[0][:, 0]
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], direct, rtol=0, atol=1e-7)
    assert model.predict_proba(X).shape == (len(X), 2)
    assert single_record_trial(model, schema, stored) is None
    record = describe(model)
    assert record["class"] == "onnx graph (tests.onnx_graph)"
    assert "onnxruntime" in record["libraries"]


def test_a_registered_onnx_model_is_stored_as_its_graph(exported, request):
    graph, X, _, _ = exported
    tag = register_model(request.node.name[:40], graph, {})
    artifact = get_model(tag).info.metadata["artifact"]
    assert artifact["format"] == "onnx" and artifact["file"] == "model.onnx"
    np.testing.assert_allclose(load_model(tag).predict_proba(X), OnnxModel(
        graph.SerializeToString()).predict_proba(X))


def test_a_graph_onnxruntime_cannot_run_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\x08\x07garbage that is no graph")
    with pytest.raises(ModelStoreError, match=r"model\.onnx: not a model onnxruntime can run"):
        load_model_file(bad)


def test_a_one_matrix_graph_refuses_text_columns_with_what_to_do(exported):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["X"], ["probability"])], "net",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [None, 1])])
    net = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    net.ir_version = 8
    onnx.checker.check_model(net)
    _, X, _, _ = exported
    with pytest.raises(ValueError, match=r"one matrix of numbers \(X\).*text"):
        OnnxModel(net.SerializeToString()).predict_proba(X)
    numbers = X[["age"]]
    proba = OnnxModel(net.SerializeToString()).predict_proba(numbers)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-numbers["age"].to_numpy())), rtol=1e-6)
