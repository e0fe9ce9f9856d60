"""What the bento carries beyond nbprod: the libraries trust.yaml turns on, at the installed
version, which must be the trained one; and a wheel of the project's own package."""

from importlib.metadata import version
from pathlib import Path

import pytest

from nbprod import ConfigError, ModelStoreError
from nbprod.model.trust import Trust
from nbprod.registry.bento import packaged

BENTOFILE = {"name": "churn", "python": {"packages": ["scikit-learn==1.9.1"], "wheels": []}}


def test_the_trusted_libraries_are_pinned_and_her_package_is_a_wheel(tmp_path):
    out = packaged(BENTOFILE, tmp_path, Trust(libraries=("sklearn", "xgboost", "lightgbm"),
                                             packages=("churn",)), {})
    packages = out["python"]["packages"]
    assert f"xgboost-cpu=={version('xgboost-cpu')}" in packages
    assert f"lightgbm=={version('lightgbm')}" in packages
    assert packages[0] == "scikit-learn==1.9.1" and len(packages) == 3
    (wheel,) = out["python"]["wheels"]
    assert wheel.startswith("build/wheels/nbprod_reference_churn-") and (tmp_path / wheel).is_file()
    assert BENTOFILE["python"]["packages"] == ["scikit-learn==1.9.1"], "the project's is unchanged"


def test_onnx_adds_onnxruntime_and_nothing_else_comes_from_the_store(tmp_path):
    trained = {"evil-package": "6.6.6", "onnxruntime": version("onnxruntime")}
    out = packaged(BENTOFILE, tmp_path, Trust(), trained, onnx=True)
    assert out["python"]["packages"] == ["scikit-learn==1.9.1",
                                         f"onnxruntime=={version('onnxruntime')}"]


def test_a_model_trained_with_another_version_is_refused_naming_both(tmp_path):
    with pytest.raises(ModelStoreError, match=r"trained with xgboost-cpu 0\.9\.0, and this "
                                              r"environment has \d"):
        packaged(BENTOFILE, tmp_path, Trust(libraries=("sklearn", "xgboost")),
                 {"xgboost-cpu": "0.9.0"})


def test_a_package_that_is_not_installed_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"package 'no_such_pkg' .* is not installed"):
        packaged(BENTOFILE, tmp_path, Trust(packages=("no_such_pkg",)), {})
    assert not (Path(tmp_path) / "build").exists()
