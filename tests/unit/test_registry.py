"""The registry against a real BentoML store in a temporary BENTOML_HOME."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from nbprod import ModelStoreError, get_model, load_model, register_model
from nbprod.registry import feature_schema


@pytest.fixture
def model():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return LogisticRegression().fit(X, [0, 0, 1, 1])


SCHEMA = {"features": [{"name": "x", "kind": "number", "min": 0, "max": 10}], "target": "y"}


def test_register_and_load_round_trip(bentoml_home, model_name, model):
    tag = register_model(model_name, model, {"metrics": {"roc_auc": 1.0}, "feature_schema": SCHEMA,
                                        "skipped": None}, labels={"estimator": "lr"})
    assert tag.startswith(f"{model_name}:")
    stored = get_model(tag)
    assert stored.info.metadata["metrics"] == {"roc_auc": 1.0}
    assert "skipped" not in stored.info.metadata
    assert stored.info.labels == {"estimator": "lr"}
    assert len(stored.info.metadata["artifact"]["sha256"]) == 64
    assert str(stored.path).startswith(str(bentoml_home))
    loaded = load_model(tag)
    np.testing.assert_allclose(loaded.predict_proba([[1.5]]), model.predict_proba([[1.5]]))
    assert feature_schema(tag).names == ["x"]
    assert str(get_model(model_name).tag) == tag  # the name alone means the latest


def test_a_tampered_artifact_is_refused(model_name, model):
    tag = register_model(model_name, model, {})
    artifact = get_model(tag).path_of("model.joblib")
    with open(artifact, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelStoreError, match="modified or truncated, refusing to load it"):
        load_model(tag)


def test_an_unknown_model_says_how_to_get_one():
    with pytest.raises(ModelStoreError, match=r"not in the store.*\(ploomber build\)"):
        get_model("nothing:here")


def test_a_model_without_schema_is_a_clear_error(model_name, model):
    tag = register_model(model_name, model, {})
    with pytest.raises(ModelStoreError, match="no feature_schema"):
        feature_schema(tag)
