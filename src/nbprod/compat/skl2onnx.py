"""Two converters of skl2onnx that give a wrong graph or none, written for skl2onnx 1.20.0.

1. **HistGradientBoosting does not convert.** skl2onnx passes each node's "missing values go
   left" flag to ONNX as a Python or NumPy boolean (a leaf gets ``False``), and protobuf 7
   refuses a boolean in an integer list: ``Unable to create node 'TreeEnsembleClassifier'``
   (``TypeError: Field onnx.AttributeProto.ints: Expected an int, got a boolean``). The patch
   passes the flag as ``0`` or ``1``.
2. **SimpleImputer(add_indicator=True) loses its indicator columns.** skl2onnx's converter
   and shape calculator ignore ``add_indicator``: the graph's imputer gives one column per
   feature where scikit-learn gives those plus one 0/1 column per feature that had blanks at
   fit. A scaler after it then fails (``Mismatch between expected shape [None, 1] and model
   (., 2)``), and a model right after it reads its features shifted. The patch adds the
   indicator columns (``IsNaN`` of those features, as floats) after the imputed ones.

:func:`patch` applies both, once; :mod:`nbprod.model.compiling` calls it before converting.
Both can go when skl2onnx fixes them (the canaries in ``tests/unit/compat/test_compat_skl2onnx.py``
fail on that day); either way the parity check of every compiled model would show a graph
that answers otherwise.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from . import written_for

VERSION = "1.20.0"
_PATCHED: list[bool] = []


def patch() -> None:
    """Apply both fixes to the imported skl2onnx (idempotent)."""
    if _PATCHED:
        return
    written_for("skl2onnx", VERSION, "the tree-flag and imputer-indicator fixes")
    _patch_tree_flags()
    _patch_imputer_indicator()
    _PATCHED.append(True)


def _patch_tree_flags() -> None:
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node

    def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        return original(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true),
                        **kwargs)

    tree_ensemble.add_node = add_node


def _indicator_features(imputer: Any) -> list[int]:
    """The features whose indicator columns ``imputer`` adds (none without add_indicator)."""
    indicator = getattr(imputer, "indicator_", None)
    if not getattr(imputer, "add_indicator", False) or indicator is None:
        return []
    return [int(i) for i in indicator.features_]


def _patch_imputer_indicator() -> None:
    from skl2onnx.common._registration import (
        _converter_pool,
        _shape_calculator_pool,
        register_converter,
        register_shape_calculator,
    )
    from skl2onnx.common.data_types import StringTensorType

    convert = _converter_pool["SklearnSimpleImputer"]
    calculate = _shape_calculator_pool["SklearnSimpleImputer"]

    def shapes(operator: Any) -> None:
        calculate(operator)
        added = len(_indicator_features(operator.raw_operator))
        shape = operator.outputs[0].type.shape
        if added and shape[1] is not None:
            operator.outputs[0].type.shape = [shape[0], shape[1] + added]

    def converter(scope: Any, operator: Any, container: Any) -> None:
        features = _indicator_features(operator.raw_operator)
        if not features or isinstance(operator.inputs[0].type, StringTensorType):
            convert(scope, operator, container)
            return
        _convert_with_indicator(scope, operator, container, convert, features)

    register_shape_calculator("SklearnSimpleImputer", shapes, overwrite=True)
    register_converter("SklearnSimpleImputer", converter, overwrite=True)


def _convert_with_indicator(scope: Any, operator: Any, container: Any, convert: Any,
                            features: list[int]) -> None:
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.proto import onnx_proto

    imputed = scope.get_unique_variable_name("imputed")
    convert(scope, SimpleNamespace(inputs=operator.inputs, raw_operator=operator.raw_operator,
                                   outputs=[SimpleNamespace(full_name=imputed)]), container)
    values = concatenate_variables(scope, operator.inputs, container)
    columns = scope.get_unique_variable_name("indicator_columns")
    container.add_initializer(columns, onnx_proto.TensorProto.INT64, [len(features)], features)
    picked, missing, flags = (scope.get_unique_variable_name(n)
                              for n in ("indicated", "isnan", "indicator"))
    container.add_node("Gather", [values, columns], [picked], axis=1)
    container.add_node("IsNaN", [picked], [missing])
    container.add_node("Cast", [missing], [flags], to=onnx_proto.TensorProto.FLOAT)
    container.add_node("Concat", [imputed, flags], [operator.outputs[0].full_name], axis=1)
