"""The registry against a real BentoML store in a temporary BENTOML_HOME."""

import copy
import os
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
import yaml
from sklearn.linear_model import LogisticRegression

from nbprod import ModelStoreError, get_model, load_model, register_model
from nbprod.model.artifacts import load_model_file, save_model
from nbprod.registry.lineage import sha256_file
from nbprod.registry.store import check_servable, feature_schema


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
    artifact = get_model(tag).path_of("model.skops")
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


# -- what a writer of the store can do -------------------------------------

class Payload:
    """The red team's pickle: unpickling it runs code (here: touches a marker file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class NotTrusted:
    """A type skops stores as data but that no trusted list names."""


def rewrite_info(stored, change) -> None:
    """Edit a stored model's model.yaml as an attacker with write access would."""
    path = Path(stored.path) / "model.yaml"
    info = yaml.safe_load(path.read_text())
    change(info)
    path.write_text(yaml.safe_dump(info))


def plant(stored, name: str, data: bytes, fmt: str) -> None:
    """Put ``data`` in the model folder as ``name`` and record it with its true sha256."""
    target = Path(stored.path) / name
    target.write_bytes(data)

    def change(info):
        info["metadata"]["artifact"] = {"file": name, "format": fmt, "sha256": sha256_file(target)}
    rewrite_info(stored, change)


def pickled_payload(tmp_path: Path, marker: Path) -> bytes:
    joblib.dump(Payload(marker), tmp_path / "payload.joblib")
    return (tmp_path / "payload.joblib").read_bytes()


def test_red_team_pickle_with_rewritten_digest_does_not_run(model_name, model, tmp_path):
    marker = tmp_path / "payload-ran"
    tag = register_model(model_name, model, {"feature_schema": SCHEMA})
    plant(get_model(tag), "model.joblib", pickled_payload(tmp_path, marker), "joblib")
    with pytest.raises(ModelStoreError, match="stored as 'joblib'.*retrain"):
        load_model(tag)
    with pytest.raises(ModelStoreError, match="stored as 'joblib'"):
        check_servable(tag)
    assert not marker.exists()


def test_the_pickle_recorded_as_skops_is_refused_and_does_not_run(model_name, model, tmp_path):
    marker = tmp_path / "payload-ran"
    tag = register_model(model_name, model, {})
    plant(get_model(tag), "model.skops", pickled_payload(tmp_path, marker), "skops")
    with pytest.raises(ModelStoreError, match=r"model.skops: not a readable skops model file"):
        load_model(tag)
    assert not marker.exists()


def test_a_type_outside_the_trusted_list_is_refused_by_name(model_name, model, tmp_path):
    tag = register_model(model_name, model, {})
    plant(get_model(tag), "model.skops", sio.dumps({"model": NotTrusted()}), "skops")
    with pytest.raises(ModelStoreError, match=r"outside the trusted list: .*test_registry\.NotTrusted"):
        load_model(tag)
    holding = copy.deepcopy(model)
    holding.extra_ = NotTrusted()
    with pytest.raises(ModelStoreError, match=r"outside the trusted list: .*NotTrusted"):
        save_model(holding, tmp_path / "x.skops")
    assert not (tmp_path / "x.skops").exists()
    with pytest.raises(ModelStoreError, match=r"NotTrusted is not a scikit-learn-API model .*ONNX"):
        save_model(NotTrusted(), tmp_path / "x.skops")


def test_the_train_product_is_written_and_read_without_pickle(model, tmp_path):
    path = save_model(model, tmp_path / "model.skops")
    np.testing.assert_allclose(load_model_file(path).predict_proba([[1.5]]),
                               model.predict_proba([[1.5]]))
    marker = tmp_path / "payload-ran"
    path.write_bytes(pickled_payload(tmp_path, marker))
    with pytest.raises(ModelStoreError, match="not a readable skops model file"):
        load_model_file(path)
    assert not marker.exists()
    with pytest.raises(ModelStoreError, match="model file not found"):
        load_model_file(tmp_path / "absent.skops")


def test_gradient_boosting_round_trips(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = np.arange(40, dtype=float).reshape(-1, 1)
    gbm = HistGradientBoostingClassifier(max_iter=3).fit(X, [0] * 20 + [1] * 20)
    loaded = load_model_file(save_model(gbm, tmp_path / "gbm.skops"))
    np.testing.assert_allclose(loaded.predict_proba(X), gbm.predict_proba(X))


@pytest.mark.parametrize("corrupt, fault", [
    pytest.param(lambda text: text.replace("metadata:", "metadata: [", 1), "invalid YAML at line", id="yaml"),
    pytest.param(lambda text: text[: len(text) // 3], "invalid YAML|required field", id="cut"),
    pytest.param(lambda text: "", "empty or not a mapping|malformed", id="empty"),
])
def test_corrupt_model_yaml_named(model_name, model, corrupt, fault):
    from nbprod.registry.lifecycle import versions

    tag = register_model(model_name, model, {"feature_schema": SCHEMA})
    info = Path(get_model(tag).path) / "model.yaml"
    info.write_text(corrupt(info.read_text()))
    for call in (lambda: get_model(tag), lambda: versions(model_name), lambda: check_servable(tag)):
        with pytest.raises(ModelStoreError, match=fault) as raised:
            call()
        assert str(info) in str(raised.value) and "corrupt" in str(raised.value)
