"""Deep-learning notebooks: what adoption says when her notebook imports TensorFlow, Keras or
PyTorch and that library is not installed, or when the model she names is one of theirs.

``nbprod new --notebook`` adopts scikit-learn-API models; a network is served from the ONNX
graph she exports in her notebook, handed to ``save_model`` in a train task
(docs/own-model.md). Each refusal is two lines: where, and what to do.
"""

from __future__ import annotations

import ast
import importlib.util

from ..errors import ConfigError
from .notebook_source import Cell

__all__ = ["DEEP", "deep_imports", "deep_library", "model_refusal", "refuse_missing_deep_imports"]

#: top-level module -> (the library's name, her exporter to ONNX)
DEEP = {"keras": ("Keras", "tf2onnx.convert.from_keras"),
        "tensorflow": ("TensorFlow", "tf2onnx.convert.from_keras"),
        "torch": ("PyTorch", "torch.onnx.export")}
_WHAT_TO_DO = ("export it to ONNX in the notebook ({exporter}) and serve the graph with "
               "save_model in a train task: see docs/own-model.md, 'A model exported to ONNX'")


def deep_library(type_name: str) -> str | None:
    """``keras.src.models.sequential.Sequential`` -> ``keras``; None for any other type."""
    root = type_name.split(".")[0]
    return root if root in DEEP else None


def model_refusal(model: str, type_name: str) -> str:
    """The refusal of a model variable whose type (``module.Class``) is a deep-learning one."""
    library, exporter = DEEP[deep_library(type_name) or "keras"]
    return (f"{model} is a {library} model ({type_name}): nbprod new --notebook adopts "
            "scikit-learn-API models\n  " + _WHAT_TO_DO.format(exporter=exporter))


def deep_imports(cells: list[Cell]) -> list[tuple[Cell, int, str]]:
    """(cell, line, top-level module) of each deep-learning import of her notebook."""
    out = []
    for cell in cells:
        for node in ast.walk(cell.tree()):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            out += [(cell, node.lineno, n.split(".")[0]) for n in names
                    if n.split(".")[0] in DEEP]
    return sorted(out, key=lambda found: (found[0].number, found[1]))


def refuse_missing_deep_imports(cells: list[Cell]) -> None:
    """Refuse her notebook at its first import of a deep-learning library not installed here:
    installing it would not help, since its models are served through ONNX."""
    for cell, line, module in deep_imports(cells):
        if importlib.util.find_spec(module) is None:
            library, exporter = DEEP[module]
            raise ConfigError(
                f"cell {cell.number}, line {line}: imports {module!r}, which is not installed "
                f"here, and nbprod new --notebook adopts scikit-learn-API models, not {library} "
                "ones\n  " + _WHAT_TO_DO.format(exporter=exporter).replace("export it",
                                                                           "export her model"))
