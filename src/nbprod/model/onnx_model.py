"""A model she exported to ONNX herself (from Keras, PyTorch or anything else), run by
onnxruntime behind the scikit-learn methods nbprod calls: ``predict`` and ``predict_proba``.

Loading an ONNX graph runs no Python code: onnxruntime parses the file and runs its
operators. The graph takes the feature columns in one of two ways:

- **one input per feature**, named as the feature, each ``[N, 1]`` (string tensors for text,
  numbers as the graph declares them): what skl2onnx exports, and what a graph that encodes
  text itself needs;
- **one 2-D input** ``[N, F]`` of numbers: every feature, in the declared order (a network
  exported from Keras or PyTorch). Text cannot go in; encode it inside the graph.

A graph nbprod compiled may take a categorical column as integer codes (its metadata lists
the categories, :mod:`nbprod.model.category_codes`); the values are turned into codes here.

Its output is read by the model kind: a classifier's probabilities are the output named
``probabilities``, ``output_probability`` or ``probs`` if there is one, else the last output of
numbers, ``[N, classes]`` in the declared order of the classes, or ``[N, 1]`` for the positive
class of a binary model; a regression's values are its first output of numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from ..errors import ModelStoreError
from .category_codes import codes, read_categories

FORMAT = "onnx"
FILE_NAME = "model.onnx"
#: Output names taken as a classifier's probabilities, before any other.
PROBABILITY_NAMES = ("probabilities", "output_probability", "probs", "probability")
#: ONNX element types -> numpy dtypes of the inputs nbprod feeds.
NUMPY = {"tensor(float)": np.float32, "tensor(double)": np.float64,
         "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(string)": object,
         "tensor(bool)": np.bool_}


#: What the graph is fed: a frame, or a mapping of column name to values.
Columns: TypeAlias = pd.DataFrame | Mapping[str, Sequence[Any]]


def rows(frame: Columns) -> int:
    """The number of rows of a frame or of a mapping of columns."""
    if isinstance(frame, pd.DataFrame):
        return len(frame)
    return len(next(iter(frame.values()))) if frame else 0


def _text(values: Any) -> np.ndarray:
    """``values`` as the strings of a string input, a blank as "" (no category): vectorised
    for a frame's column, a loop for the service's few rows."""
    if not isinstance(values, pd.Series):
        return np.array(["" if v is None or v != v else str(v) for v in values], dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        names = values.cat.categories.astype(str).to_numpy(dtype=object)
        return np.append(names, "")[values.cat.codes.to_numpy()]  # code -1, a blank: ""
    filled = values.fillna("")
    if not pd.api.types.is_string_dtype(filled.dtype) or filled.dtype == object:
        filled = filled.astype(str)
    return filled.to_numpy(dtype=object)


def _is_text(values: Any) -> bool:
    return np.asarray(values).dtype.kind in "OUS"


def is_onnx(value: Any) -> bool:
    """Whether ``value`` is an ONNX model: a ``ModelProto``, an :class:`OnnxModel`."""
    return isinstance(value, OnnxModel) or type(value).__name__ == "ModelProto"


def onnx_bytes(value: Any) -> bytes:
    """The serialized graph of an ``onnx.ModelProto`` or an :class:`OnnxModel`."""
    if isinstance(value, OnnxModel):
        return value.data
    return bytes(value.SerializeToString())


class OnnxModel:
    """An ONNX graph in onnxruntime, with ``predict`` and ``predict_proba`` on a frame."""

    def __init__(self, data: bytes, source: str = "ONNX model") -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelStoreError(f"{source}: an ONNX model needs onnxruntime: "
                                  "pip install 'nbprod[onnx]'") from None
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # One thread per call: a served record is too small to share, a batch chunk is
        # scored while a helper thread reads the next, and Dask runs a process per core.
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(data, options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime's own error types
            raise ModelStoreError(f"{source}: not a model onnxruntime can run "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
        self.data = data
        self.inputs = self.session.get_inputs()
        #: The inputs that take a category's code rather than its text, and their categories.
        self.categories = read_categories(
            self.session.get_modelmeta().custom_metadata_map)
        self.outputs = [o for o in self.session.get_outputs() if o.type in NUMPY
                        and o.type != "tensor(string)"]
        if not self.outputs:
            raise ModelStoreError(f"{source}: the graph has no output of numbers")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def fit(self, *args: Any, **kwargs: Any) -> OnnxModel:
        """An exported graph is trained where it came from; it is not refitted here."""
        raise ModelStoreError("an ONNX model is trained in the library it was exported from; "
                              "export it again to change it")

    def describe(self) -> dict[str, Any]:
        """What the lineage records of the graph: who exported it, its inputs and outputs."""
        meta = self.session.get_modelmeta()
        return {"class": f"onnx graph ({meta.producer_name or 'unknown producer'})",
                "estimator": f"onnx.{meta.graph_name or 'graph'}",
                "params": {"inputs": [f"{i.name}: {i.type}" for i in self.inputs],
                           "outputs": [f"{o.name}: {o.type}" for o in self.outputs]}}

    def feed(self, frame: Columns) -> dict[str, np.ndarray]:
        """The graph's inputs from ``frame`` (a DataFrame, or a mapping of column name to
        values, which the service passes without building a frame): a column per input, or
        all in one matrix."""
        columns = list(frame.columns) if isinstance(frame, pd.DataFrame) else list(frame)
        names = [i.name for i in self.inputs]
        if len(self.inputs) == 1 and names[0] not in columns:
            (only,) = self.inputs
            text = [c for c in columns if _is_text(frame[c])]
            if text:
                raise ValueError(f"the graph takes one matrix of numbers ({only.name}), and "
                                 f"{text} are text: export a graph with one input per column")
            dtype = NUMPY.get(only.type, np.float32)
            return {only.name: np.column_stack([np.asarray(frame[c], dtype=dtype)
                                                for c in columns])}
        missing = [n for n in names if n not in columns]
        if missing:
            raise ValueError(f"the graph's input(s) {missing} are not features of the model "
                             f"({columns})")
        out = {}
        for i in self.inputs:
            values = frame[i.name]
            dtype = NUMPY.get(i.type, np.float32)
            if i.name in self.categories:
                out[i.name] = codes(values, self.categories[i.name])
            elif dtype is object:
                out[i.name] = _text(values).reshape(-1, 1)
            else:
                out[i.name] = np.asarray(values, dtype=dtype).reshape(-1, 1)
        return out

    def _run(self, frame: Columns, name: str) -> np.ndarray:
        """Output ``name`` only: the graph skips what no asked output needs (the label)."""
        return self.session.run([name], self.feed(frame))[0]

    def predict_proba(self, frame: Columns) -> np.ndarray:
        names = [o.name for o in self.outputs]
        name = next((n for n in PROBABILITY_NAMES if n in names), names[-1])
        proba = np.asarray(self._run(frame, name), dtype="float64").reshape(rows(frame), -1)
        if proba.shape[1] == 1:
            proba = np.hstack([1.0 - proba, proba])
        return proba

    def predict(self, frame: Columns) -> np.ndarray:
        first = self._run(frame, self.outputs[0].name)
        return np.asarray(first, dtype="float64").reshape(rows(frame), -1)[:, 0]

    @property
    def classes_(self) -> np.ndarray:
        """The class indices nbprod labels a classifier's target with (0 .. classes - 1)."""
        shape = self.outputs[-1].shape
        width = shape[-1] if len(shape) > 1 and isinstance(shape[-1], int) else 2
        return np.arange(max(int(width), 2))
