"""The compiled form of a fitted model: an ONNX graph, checked against the model itself.

At registration the fitted model is converted to ONNX (skl2onnx; XGBoost and LightGBM
through onnxmltools' converters), one graph input per feature, and both are run on the
whole held-out set. The parity (the largest difference, the labels that change, the rows
within 1e-6 of the threshold) is recorded. A model that cannot be converted, or whose graph
differs by more than :data:`TOLERANCE` or changes a label away from the threshold, keeps
its skops path, with the reason recorded: nothing is silently different.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data.frames import input_dtype
from ..data.model_kinds import BINARY, is_classifier
from ..data.schema import FeatureSchema
from .category_codes import encode_categories
from .onnx_model import OnnxModel

log = logging.getLogger(__name__)

#: Largest difference allowed between the graph's answer and the model's (probability, or
#: value relative to the values' spread for a regression).
TOLERANCE = 1e-5
#: A label that changes within this distance of the threshold is a tie, not a difference.
NEAR_THRESHOLD = 1e-6
#: ONNX operator sets the graphs are written for (what onnxruntime and the converters share).
OPSETS = {"": 17, "ai.onnx.ml": 3}


@dataclass(frozen=True)
class Compiled:
    """A compiled graph (None when there is none) and the record of how it was judged."""

    graph: bytes | None
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.graph is not None and bool(self.record.get("parity", {}).get("passed"))


def input_types(schema: FeatureSchema) -> list[tuple[str, Any]]:
    """One graph input per feature, ``[N, 1]``, of the type the model sees the feature as
    (:func:`nbprod.data.frames.input_dtype`): strings for text, integers for whole numbers,
    floats for the rest."""
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

    tensor = {"str": StringTensorType, "object": StringTensorType, "int64": Int64TensorType}
    return [(f.name, tensor.get(input_dtype(f.kind, f.categories, f.nullable),
                                FloatTensorType)([None, 1])) for f in schema.features]


def _register_converters() -> None:
    """Teach skl2onnx the gradient-boosting libraries that are installed (onnxmltools for
    XGBoost and LightGBM, CatBoost's own export)."""
    try:
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from xgboost import XGBClassifier, XGBRegressor
    except ImportError:
        pass
    else:
        _register_pair("XGBoost", XGBClassifier, XGBRegressor, convert_xgboost)
    try:
        from lightgbm import LGBMClassifier, LGBMRegressor
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    except ImportError:
        pass
    else:
        _register_pair("LightGbm", LGBMClassifier, LGBMRegressor, convert_lightgbm)
    try:
        from catboost import CatBoostClassifier, CatBoostRegressor
    except ImportError:
        pass
    else:
        _register_pair("CatBoost", CatBoostClassifier, CatBoostRegressor, _convert_catboost,
                       parser=_parse_catboost_classifier)


def _register_pair(library: str, classifier: type, regressor: type, convert: Any,
                   parser: Any = None) -> None:
    """Register ``convert`` for a library's classifier and regressor classes (``parser``:
    the classifier's, where skl2onnx has none of its own)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    extra = {"parser": parser} if parser is not None else {}
    update_registered_converter(classifier, f"{library}{classifier.__name__}",
                                calculate_linear_classifier_output_shapes, convert,
                                options=options, **extra)
    update_registered_converter(regressor, f"{library}{regressor.__name__}",
                                calculate_linear_regressor_output_shapes, convert)


def _parse_catboost_classifier(scope: Any, model: Any, inputs: Any,
                               custom_parsers: Any = None) -> Any:
    """A label and a probability tensor for CatBoost's classifier (skl2onnx knows its own
    classifiers only), as a tensor: nbprod converts without ZipMap."""
    from skl2onnx._parse import _get_sklearn_operator_name
    from skl2onnx.common.data_types import Int64TensorType, guess_tensor_type

    operator = scope.declare_local_operator(_get_sklearn_operator_name(type(model)), model)
    operator.inputs = inputs
    operator.outputs.append(scope.declare_local_variable("label", Int64TensorType()))
    operator.outputs.append(scope.declare_local_variable("probabilities",
                                                         guess_tensor_type(inputs[0].type)))
    return operator.outputs


def _convert_catboost(scope: Any, operator: Any, container: Any) -> None:
    """CatBoost's own ONNX export of its model, as one node of the pipeline's graph."""
    from catboost.utils import convert_to_onnx_object
    from onnx.helper import get_attribute_value

    graph = convert_to_onnx_object(operator.raw_operator)
    opsets = {d.domain: d.version for d in graph.opset_import}
    node = graph.graph.node[0]
    container.add_node(node.op_type, [operator.inputs[0].full_name],
                       [output.full_name for output in operator.outputs],
                       op_domain=node.domain, op_version=opsets.get(node.domain),
                       **{a.name: get_attribute_value(a) for a in node.attribute})


def for_conversion(model: Any) -> Any:
    """A copy of ``model`` the converters take: an imputer of text whose blank is NaN gets
    the empty string as its blank instead, which is what the graph is fed for a missing text
    value (skl2onnx converts only text imputers with a text blank). The parity check runs
    the original model, so a difference this made would show."""
    import copy

    from sklearn.impute import SimpleImputer

    converted = copy.deepcopy(model)
    for value in _estimators(converted):
        if (isinstance(value, SimpleImputer) and getattr(value, "statistics_", None) is not None
                and value.statistics_.dtype == object and _is_nan(value.missing_values)):
            value.missing_values = ""
    return converted


def _estimators(model: Any) -> list[Any]:
    found = [model]
    params = model.get_params(deep=True) if callable(getattr(model, "get_params", None)) else {}
    found += [v for v in params.values() if callable(getattr(v, "get_params", None))]
    for name in ("transformers_", "steps", "best_estimator_"):
        value = getattr(model, name, None)
        if name == "best_estimator_" and value is not None:
            found += _estimators(value)
        elif isinstance(value, list):
            found += [e for item in value for e in _estimators(item[1])
                      if callable(getattr(item[1], "get_params", None))]
    return found


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def convert(model: Any, schema: FeatureSchema) -> bytes:
    """``model`` as an ONNX graph (probabilities as a tensor, not a list of maps), its text
    categories fed as integer codes (:mod:`nbprod.model.category_codes`)."""
    from skl2onnx import to_onnx

    from ..compat import skl2onnx as skl2onnx_fixes
    from .description import final_estimator

    skl2onnx_fixes.patch()
    _register_converters()
    model = for_conversion(model)
    final = final_estimator(model)
    options = {id(final): {"zipmap": False}} if is_classifier(schema.model_kind) else None
    graph = to_onnx(model, initial_types=input_types(schema), options=options,
                    target_opset=OPSETS)
    return bytes(encode_categories(graph).SerializeToString())


def parity(model: Any, compiled: OnnxModel, frame: pd.DataFrame, kind: str,
           threshold: float = 0.5) -> dict[str, Any]:
    """How the graph's answers on ``frame`` differ from the model's."""
    if is_classifier(kind):
        expected = np.asarray(model.predict_proba(frame), dtype="float64")
        got = compiled.predict_proba(frame)
        difference = float(np.max(np.abs(got - expected))) if len(frame) else 0.0
        if kind == BINARY:
            was, now = expected[:, 1] >= threshold, got[:, 1] >= threshold
            near = np.abs(expected[:, 1] - threshold) <= NEAR_THRESHOLD
        else:
            was, now = expected.argmax(axis=1), got.argmax(axis=1)
            top = np.sort(expected, axis=1)
            near = (top[:, -1] - top[:, -2]) <= NEAR_THRESHOLD
        changed = was != now
    else:
        expected = np.asarray(model.predict(frame), dtype="float64").ravel()
        got = compiled.predict(frame)
        spread = float(np.std(expected)) or 1.0
        difference = float(np.max(np.abs(got - expected)) / spread) if len(frame) else 0.0
        changed = near = np.zeros(len(frame), dtype=bool)
    away = int(np.sum(changed & ~near))
    return {"rows": len(frame), "max_difference": difference,
            "labels_changed": int(np.sum(changed)), "near_threshold": int(np.sum(near)),
            "passed": difference <= TOLERANCE and away == 0}


def compile_model(model: Any, schema: FeatureSchema, frame: pd.DataFrame,
                  threshold: float = 0.5) -> Compiled:
    """The compiled graph of ``model`` and its parity on ``frame`` (the held-out rows), or
    no graph and the reason."""
    if isinstance(model, OnnxModel):
        return Compiled(None, {"compiled": False, "reason": "the model is an ONNX graph already"})
    try:
        with warnings.catch_warnings():  # a converter reading a deprecated attribute
            warnings.simplefilter("ignore")
            graph = convert(model, schema)
        runtime = OnnxModel(graph, "the compiled graph")
        checked = parity(model, runtime, frame, schema.model_kind, threshold)
    except ModuleNotFoundError as exc:  # the converters are an extra
        reason = (f"the converters are not installed ({exc.name} is missing): "
                  "pip install 'nbprod[compile]'")
        log.warning("the model is not compiled: %s", reason)
        return Compiled(None, {"compiled": False, "reason": reason})
    except Exception as exc:  # noqa: BLE001 - any converter's or runtime's failure is a reason
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        log.info("the model is not compiled: %s", reason)
        return Compiled(None, {"compiled": False, "reason": reason})
    record = {"compiled": True, "format": "onnx", "parity": checked}
    if not checked["passed"]:
        record["reason"] = (f"parity failed: largest difference {checked['max_difference']:.3g} "
                            f"(allowed {TOLERANCE:g}), {checked['labels_changed']} label(s) "
                            f"changed, {checked['near_threshold']} row(s) at the threshold")
    return Compiled(graph, record)


def summary(record: dict[str, Any]) -> str:
    """Which form answers for a model, in one line: its ONNX graph and the graph's parity,
    or its stored artifact and why not the graph."""
    if not record:
        return "not compiled (registered before nbprod compiled models)"
    parity = record.get("parity") or {}
    measured = (f"largest difference {parity['max_difference']:.2g} on {parity['rows']} held-out "
                f"rows, {parity['labels_changed']} label(s) changed, {parity['near_threshold']} "
                "at the threshold") if parity else ""
    if parity.get("passed"):
        return f"its ONNX graph ({measured})"
    return f"its stored artifact: {record.get('reason', 'not compiled')}"
