"""Fixtures of the scale tier: a real model trained on the shipped data and registered
in a temporary store, and synthetic files to score. Small N keeps the tier fast.

The shipped file and its declared table are ``projectkit.RAW`` and ``projectkit.TABLE``; the
engines tier reuses these fixtures (``tests/engines/conftest.py``)."""

from __future__ import annotations

import pytest

import churn
from nbprod import derive_feature_schema, register_model
from nbprod.data import synth
from nbprod.data.dataset import features, target
from nbprod.model.modeling import build_model
from projectkit import RAW, TABLE


@pytest.fixture(scope="session")
def real():
    """The shipped customers, validated and cleaned: what the generator samples from."""
    return churn.clean(synth.real_rows(RAW, TABLE))


@pytest.fixture(scope="session")
def trained(real):
    """(model, feature schema) fitted on the real rows, as the pipeline would."""
    feature_schema = derive_feature_schema(real, TABLE)
    model = build_model(feature_schema, "logistic_regression", {}, seed=0)
    model.fit(features(real, TABLE), target(real, TABLE))
    return model, feature_schema


@pytest.fixture
def registered(bentoml_home, trained):
    """The tag of the trained model in a temporary BentoML store (threshold 0.4)."""
    model, feature_schema = trained
    metadata = {"feature_schema": feature_schema.to_dict(), "metrics": {"threshold": 0.4}}
    return register_model("telco_churn", model, metadata)


@pytest.fixture(scope="session")
def to_score(real, tmp_path_factory):
    """20,000 synthetic customers as the model scores them, in Parquet and gzipped CSV."""
    folder = tmp_path_factory.mktemp("to-score")
    parquet = synth.write(real, TABLE, folder / "customers.parquet", 20_000, seed=1,
                          chunk_rows=7_000)
    csv = synth.write(real, TABLE, folder / "customers.csv.gz", 20_000, seed=1, chunk_rows=7_000)
    return parquet, csv


