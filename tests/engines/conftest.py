"""The engines tier: the exported pipeline run by real engines (Airflow 3, kfp, hera's Argo
models) and batch scoring on a real Dask cluster. `make test-engines` builds the engines'
own environments (build/engines/<engine>/, pinned by engines/<engine>.lock.txt) and runs it.

It reuses the scale tier's model fixtures (a model trained on the shipped data)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from scale.conftest import real, registered, trained

from nbprod import register_model
from nbprod.data.dataset import features
from nbprod.model.compiling import compile_model
from projectkit import TABLE

sys.path.append(str(Path(__file__).resolve().parent))

__all__ = ["real", "registered", "trained"]  # the scale tier's fixtures, used here


@pytest.fixture
def compiled(bentoml_home, trained, real):
    """The tag of the trained model registered with its compiled graph, as the pipeline's
    register step does (parity checked on the shipped rows; threshold 0.4)."""
    model, feature_schema = trained
    graph = compile_model(model, feature_schema, features(real, TABLE), 0.4)
    assert graph.usable, graph.record
    metadata = {"feature_schema": feature_schema.to_dict(), "metrics": {"threshold": 0.4}}
    return register_model("telco_churn", model, metadata, compiled=graph)
