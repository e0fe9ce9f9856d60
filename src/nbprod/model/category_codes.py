"""Categories as integer codes: the compiled graph's text one-hot encoding taken out of its
hot path.

skl2onnx encodes a categorical column with an ``ai.onnx.ml`` ``OneHotEncoder`` over a string
input: every value is copied into the runtime as a string and looked up by string, which was
half of the graph's time on the reference model. :func:`encode_categories` rewrites each such
node whose input is a graph input read by nothing else: the input becomes ``int64`` codes
(the position of the value among the encoder's categories) and the node a ``Gather`` of the
one-hot rows, which gives the same floats. The categories are kept in the graph's metadata
(:data:`METADATA_KEY`), so the graph alone says how to feed it.

A value that is not one of the categories (a blank included) gets the code ``len(categories)``:
the row of zeros where the encoder ignored unknown values, out of bounds (the runtime's
error) where it refused them, as before.

:func:`codes` turns a column into those codes: from a pandas ``category`` column (what batch
scoring reads from a dictionary-encoded Parquet file) by its few categories, else value by
value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: The graph's metadata entry: JSON ``{input name: [category, ...]}``.
METADATA_KEY = "nbprod.category_codes"


def codes(values: Any, categories: Sequence[str]) -> np.ndarray:
    """``values`` as ``int64`` positions in ``categories``, ``[N, 1]``; a value not among
    them (a blank included) as ``len(categories)``."""
    unknown = len(categories)
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        positions = pd.Index(categories).get_indexer(values.cat.categories.astype(str))
        table = np.append(np.where(positions < 0, unknown, positions), unknown)
        found = table[values.cat.codes.to_numpy()]  # code -1, a blank: the last entry
    elif isinstance(values, pd.Series) and len(values) > 64:
        positions = pd.Index(categories).get_indexer(values.astype(object))
        found = np.where(positions < 0, unknown, positions)
    else:
        position = {c: i for i, c in enumerate(categories)}
        found = np.array([position.get(v, unknown) if isinstance(v, str) else unknown
                          for v in values])
    return np.asarray(found, dtype=np.int64).reshape(-1, 1)


def read_categories(metadata: Mapping[str, str]) -> dict[str, list[str]]:
    """The inputs fed as codes and their categories, from a graph's metadata (onnxruntime's
    ``custom_metadata_map``); empty for a graph that takes its text as strings."""
    found = json.loads(metadata.get(METADATA_KEY) or "{}")
    return {str(name): [str(c) for c in names] for name, names in found.items()}


def encode_categories(graph: Any) -> Any:
    """``graph`` (an ``onnx.ModelProto``, changed in place and returned) with each string
    input read only by one ``OneHotEncoder`` (directly, or through the ``Gather`` of its one
    column) taken as codes."""
    from onnx import TensorProto, helper, numpy_helper

    inputs = {i.name: i for i in graph.graph.input
              if i.type.tensor_type.elem_type == TensorProto.STRING}
    readers: dict[str, int] = {}
    for node in graph.graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    columns = {n.output[0]: n.input[0] for n in graph.graph.node if _selects_a_column(n)}
    categories: dict[str, list[str]] = {}
    nodes = []
    for node in graph.graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        source = node.input[0] if node.input else ""
        root = columns.get(source, source)
        if (node.op_type != "OneHotEncoder" or root not in inputs or readers[root] != 1
                or readers[source] != 1 or not attributes.get("cats_strings")):
            nodes.append(node)
            continue
        names = [c.decode() for c in attributes["cats_strings"]]
        rows = np.eye(len(names), dtype=np.float32)
        if attributes.get("zeros", 1):  # unknown values ignored: their row is zeros
            rows = np.vstack([rows, np.zeros((1, len(names)), dtype=np.float32)])
        table = f"{root}_one_hot_rows"
        graph.graph.initializer.append(numpy_helper.from_array(rows, table))
        nodes.append(helper.make_node("Gather", [table, source], list(node.output), axis=0,
                                      name=f"{node.name or root}_one_hot"))
        inputs[root].type.tensor_type.elem_type = TensorProto.INT64
        categories[root] = names
    if categories:
        del graph.graph.node[:]
        graph.graph.node.extend(nodes)
        helper.set_model_props(graph, {**{e.key: e.value for e in graph.metadata_props},
                                       METADATA_KEY: json.dumps(categories)})
    return graph


def _selects_a_column(node: Any) -> bool:
    """Whether ``node`` is the ``Gather`` on axis 1 by which skl2onnx takes one column of an
    input (it passes codes as it passed text)."""
    from onnx import helper

    axis = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), 0)
    return node.op_type == "Gather" and axis == 1 and len(node.input) == 2
