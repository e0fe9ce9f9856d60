"""Categories fed to the compiled graph as integer codes: the rewritten graph answers exactly
as the graph that took them as text, for known, unknown and blank values, and refuses an
unknown value where the encoder refused it."""

import warnings

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from nbprod.model.category_codes import METADATA_KEY, codes, encode_categories
from nbprod.model.onnx_model import OnnxModel

TRAIN = pd.DataFrame({"plan": ["basic", "pro", "team", "pro", "basic", "team"] * 5,
                      "seats": [1.0, 5.0, 20.0, 3.0, 2.0, 15.0] * 5})
LABELS = np.array([0, 1, 1, 0, 0, 1] * 5)


def _graph(handle_unknown: str):
    """A fitted one-hot + logistic pipeline and its ONNX graph taking ``plan`` as text."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    model = make_pipeline(ColumnTransformer([
        ("plan", OneHotEncoder(handle_unknown=handle_unknown), ["plan"]),
        ("seats", "passthrough", ["seats"])]), LogisticRegression()).fit(TRAIN, LABELS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = to_onnx(model, initial_types=[("plan", StringTensorType([None, 1])),
                                              ("seats", FloatTensorType([None, 1]))],
                        options={id(model[-1]): {"zipmap": False}}, target_opset=17)
    return model, graph


def _text_answers(graph, plans, seats):
    session = ort.InferenceSession(graph.SerializeToString())
    feed = {"plan": np.array(plans, dtype=object).reshape(-1, 1),
            "seats": np.array(seats, dtype=np.float32).reshape(-1, 1)}
    return session.run(["probabilities"], feed)[0]


def test_the_coded_graph_answers_exactly_as_the_text_graph_known_unknown_and_blank():
    model, graph = _graph("ignore")
    plans = ["basic", "pro", "team", "enterprise", ""]
    seats = [1.0, 5.0, 20.0, 7.0, 3.0]
    expected = _text_answers(graph, plans, seats)
    coded = OnnxModel(encode_categories(graph).SerializeToString())
    assert [i.type for i in coded.inputs] == ["tensor(int64)", "tensor(float)"]
    assert coded.categories == {"plan": ["basic", "pro", "team"]}
    assert "OneHotEncoder" not in [n.op_type for n in graph.graph.node]
    blank = [None if p == "" else p for p in plans]
    for frame in ({"plan": blank, "seats": seats},  # the service's rows
                  pd.DataFrame({"plan": pd.Series(blank, dtype="str"), "seats": seats}),
                  pd.DataFrame({"plan": pd.Series(blank, dtype="category"), "seats": seats})):
        np.testing.assert_array_equal(coded.predict_proba(frame)[:, 1], expected[:, 1])
    known = pd.DataFrame({"plan": plans[:3], "seats": seats[:3]})
    np.testing.assert_allclose(coded.predict_proba(known), model.predict_proba(known), atol=1e-6)


def test_an_encoder_that_refused_unknown_values_still_refuses_them():
    _, graph = _graph("error")
    assert _text_answers(graph, ["pro"], [2.0]).shape == (1, 2)
    with pytest.raises(Exception, match="(?i)unknown category"):
        _text_answers(graph, ["enterprise"], [2.0])
    coded = OnnxModel(encode_categories(graph).SerializeToString())
    assert coded.predict_proba({"plan": ["pro"], "seats": [2.0]}).shape == (1, 2)
    with pytest.raises(Exception, match="(?i)out of bounds|indices"):
        coded.predict_proba({"plan": ["enterprise"], "seats": [2.0]})


def test_a_text_input_read_by_another_node_too_stays_text():
    from onnx import TensorProto, helper

    _, graph = _graph("ignore")
    graph.graph.output.append(helper.make_tensor_value_info("plan_copy", TensorProto.STRING,
                                                            [None, 1]))
    graph.graph.node.append(helper.make_node("Identity", ["plan"], ["plan_copy"]))
    rewritten = encode_categories(graph)
    assert [p.key for p in rewritten.metadata_props if p.key == METADATA_KEY] == []
    assert "OneHotEncoder" in [n.op_type for n in rewritten.graph.node]


def test_codes_from_a_category_column_follow_the_encoders_order_not_the_columns():
    column = pd.Series(["team", None, "basic", "gold", "team"],
                       dtype=pd.CategoricalDtype(["team", "gold", "basic"]))
    got = codes(column, ["basic", "pro", "team"])
    assert got.dtype == np.int64 and got.shape == (5, 1)
    assert got.ravel().tolist() == [2, 3, 0, 3, 2]
    long = pd.Series(["pro", None, "x"] * 30, dtype="str")
    assert codes(long, ["basic", "pro"]).ravel().tolist()[:3] == [1, 2, 2]
    assert codes(["pro", None, 3], ["basic", "pro"]).ravel().tolist() == [1, 2, 2]
