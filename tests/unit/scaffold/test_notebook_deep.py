"""Deep-learning notebooks are refused in two lines: an import of a library not installed
here (its cell and line), or a model variable of Keras, TensorFlow or PyTorch (its type),
each saying to export the model to ONNX."""

import importlib.util

import pytest

from nbprod.errors import ConfigError
from nbprod.scaffold.adoption import _check_model, choose_model
from nbprod.scaffold.notebook_deep import (
    deep_library,
    model_refusal,
    refuse_missing_deep_imports,
)
from nbprod.scaffold.notebook_flow import fitted_variables
from nbprod.scaffold.notebook_run import RunResult
from nbprod.scaffold.notebook_source import Cell

KERAS_NB = [Cell(2, "import pandas as pd"),
            Cell(3, "import numpy as np\n\nfrom tensorflow.keras.layers import Dense"),
            Cell(5, "history = model.fit(X_train.values, y_cat, epochs=5)")]


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None, reason="installed")
def test_an_import_of_a_missing_deep_learning_library_names_its_cell_and_line():
    with pytest.raises(ConfigError) as caught:
        refuse_missing_deep_imports(KERAS_NB)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cell 3, line 3: imports 'tensorflow', which is not installed "
                               "here"), lines
    assert "not TensorFlow ones" in lines[0]
    assert "export her model to ONNX in the notebook (tf2onnx.convert.from_keras)" in lines[1]
    assert "docs/own-model.md" in lines[1]


def test_a_notebook_without_deep_learning_imports_passes():
    refuse_missing_deep_imports([Cell(1, "import pandas as pd\nfrom sklearn import svm"),
                                 Cell(2, "from . import x")])


def test_the_model_is_fitted_as_well_as_what_its_fit_returns():
    assert fitted_variables(KERAS_NB) == ["history", "model"]
    assert choose_model(KERAS_NB, "model") == "model"


def _fake(module: str, name: str) -> object:
    """An object whose type says it comes from ``module`` (no deep-learning library here)."""
    return type(name, (), {"__module__": module})()


def test_a_keras_model_is_refused_with_what_to_do():
    model = _fake("keras.src.models.sequential", "Sequential")
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    run = RunResult({"model": kind}, "", 0, [], {})
    with pytest.raises(ConfigError) as caught:
        _check_model(run, "model")
    lines = str(caught.value).splitlines()
    assert lines[0] == ("model is a Keras model (keras.src.models.sequential.Sequential): "
                        "nbprod new --notebook adopts scikit-learn-API models")
    assert lines[1].strip().startswith("export it to ONNX in the notebook "
                                       "(tf2onnx.convert.from_keras)")
    assert len(lines) == 2


def test_each_library_names_its_exporter():
    assert "torch.onnx.export" in model_refusal("net", "torch.nn.modules.container.Sequential")
    assert "a PyTorch model" in model_refusal("net", "torch.nn.modules.container.Sequential")
    assert deep_library("tensorflow.python.keras.engine.Model") == "tensorflow"
    assert deep_library("sklearn.ensemble._forest.RandomForestClassifier") is None
    assert deep_library("torchvision_like.Model") is None
