"""An ONNX model as she would export it from another library, built here with the ``onnx``
package alone: one input per feature (strings for text), text one-hot encoded and blanks
imputed inside the graph, then a logistic layer whose weights a scikit-learn logistic
regression learnt on the same encoding. Tests of the ONNX route import it (a plain module)."""

from __future__ import annotations

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression

from nbprod.data.schema import FeatureSchema


def encoded(frame: pd.DataFrame, schema: FeatureSchema) -> tuple[np.ndarray, list[float]]:
    """The graph's encoding in numpy (to fit the weights): one-hot text, imputed numbers;
    and each numeric feature's imputed value."""
    parts, fills = [], []
    for f in schema.features:
        column = frame[f.name]
        if f.kind == "categorical":
            parts += [(column.astype(object) == c).to_numpy(dtype="float64") for c in f.categories]
        else:
            fill = float(np.nanmedian(column.to_numpy(dtype="float64")))
            fills.append(fill)
            parts.append(column.to_numpy(dtype="float64", na_value=np.nan))
            parts[-1] = np.where(np.isnan(parts[-1]), fill, parts[-1])
    return np.column_stack(parts), fills


def logistic_graph(frame: pd.DataFrame, y: pd.Series, schema: FeatureSchema) -> onnx.ModelProto:
    """A binary classifier as an ONNX graph; its output ``probability`` is [N, 1]."""
    X, fills = encoded(frame, schema)
    fitted = LogisticRegression(max_iter=2000).fit((X - X.mean(0)) / (X.std(0) + 1e-9), y)
    scale = 1.0 / (X.std(0) + 1e-9)
    weights = (fitted.coef_[0] * scale).astype(np.float32).reshape(-1, 1)
    bias = np.array([fitted.intercept_[0] - float((fitted.coef_[0] * scale) @ X.mean(0))],
                    dtype=np.float32)
    inputs, nodes, columns = [], [], []
    numbers = iter(fills)
    for f in schema.features:
        if f.kind == "categorical":
            inputs.append(helper.make_tensor_value_info(f.name, TensorProto.STRING, [None, 1]))
            nodes.append(helper.make_node("OneHotEncoder", [f.name], [f"{f.name}_hot"],
                                          domain="ai.onnx.ml",
                                          cats_strings=[str(c) for c in f.categories], zeros=1))
            nodes.append(helper.make_node("Flatten", [f"{f.name}_hot"], [f"{f.name}_enc"], axis=1))
        else:
            inputs.append(helper.make_tensor_value_info(f.name, TensorProto.FLOAT, [None, 1]))
            nodes.append(helper.make_node("Imputer", [f.name], [f"{f.name}_enc"],
                                          domain="ai.onnx.ml", imputed_value_floats=[next(numbers)],
                                          replaced_value_float=float("nan")))
        columns.append(f"{f.name}_enc")
    nodes += [
        helper.make_node("Concat", columns, ["encoded"], axis=1),
        helper.make_node("Cast", ["encoded"], ["encoded_float"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["encoded_float", "weights"], ["logit_raw"]),
        helper.make_node("Add", ["logit_raw", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes, "logistic", inputs,
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [None, 1])],
        initializer=[numpy_helper.from_array(weights, "weights"),
                     numpy_helper.from_array(bias, "bias")])
    model = helper.make_model(graph, producer_name="tests.onnx_graph", opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
