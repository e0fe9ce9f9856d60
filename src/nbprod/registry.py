"""Registering models in the BentoML model store, and loading them back safely.

The BentoML store is the source of truth: a model is a folder holding the
artifact and a ``model.yaml`` whose metadata carries the lineage. The artifact's
sha256 is recorded at registration and verified before it is unpickled, since
loading a pickle runs code.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import joblib

from .errors import ModelStoreError
from .lineage import sha256_file
from .schema import FeatureSchema, _drop_none

log = logging.getLogger(__name__)

ARTIFACT = "model.joblib"
FILES = "files"


def register_model(
    name: str,
    model: Any,
    metadata: dict[str, Any],
    labels: dict[str, str] | None = None,
    files: dict[str, str | Path] | None = None,
) -> str:
    """Save ``model`` as a new version of ``name`` in the BentoML store; return its tag.

    ``metadata`` must be JSON-like (None values are dropped); the artifact's sha256
    is added under ``artifact``. ``files`` (name in the model -> path) are copied into
    the model's ``files/`` folder, e.g. the executed notebooks that produced it, so
    they stay readable after later builds overwrite them.
    """
    import bentoml

    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    with bentoml.models.create(name, labels=labels or {}, metadata={}) as bento_model:
        path = Path(bento_model.path) / ARTIFACT
        joblib.dump(model, path)
        meta = _drop_none(dict(metadata))
        meta["artifact"] = {"file": ARTIFACT, "sha256": sha256_file(path), "format": "joblib"}
        for key, src in (files or {}).items():
            dest = Path(bento_model.path) / FILES / key
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        bento_model.info.metadata.update(meta)
    tag = str(bento_model.tag)
    log.info("registered %s in %s", tag, bentoml_home())
    return tag


def get_model(tag: str):
    """The stored ``bentoml.Model`` for ``tag`` (``name`` alone means the latest)."""
    import bentoml

    try:
        return bentoml.models.get(tag)
    except bentoml.exceptions.NotFound:
        raise ModelStoreError(
            f"model {tag!r} is not in the store at {bentoml_home()}; "
            "run the pipeline (ploomber build) or check `bentoml models list`"
        ) from None


def load_model(tag: str) -> Any:
    """Load the artifact of ``tag`` after checking its recorded sha256."""
    return load_artifact(get_model(tag))


def load_artifact(stored: Any) -> Any:
    """Load the artifact of a stored model (from :func:`get_model`), sha256-checked."""
    artifact = stored.info.metadata.get("artifact")
    if not artifact:
        raise ModelStoreError(f"model {stored.tag}: no artifact record in its metadata")
    path = Path(stored.path) / artifact["file"]
    if not path.is_file():
        raise ModelStoreError(f"model {stored.tag}: artifact {path} is missing")
    actual = sha256_file(path)
    if actual != artifact["sha256"]:
        raise ModelStoreError(
            f"model {stored.tag}: artifact {path} has sha256 {actual[:12]}..., "
            f"registered as {artifact['sha256'][:12]}...; it was modified or truncated, "
            "refusing to load it"
        )
    return joblib.load(path)


def feature_schema(tag: str) -> FeatureSchema:
    """The feature schema stored with model ``tag``."""
    return schema_of(get_model(tag))


def schema_of(stored: Any) -> FeatureSchema:
    """The feature schema in a stored model's metadata."""
    try:
        return FeatureSchema.from_dict(stored.info.metadata["feature_schema"])
    except KeyError:
        raise ModelStoreError(f"model {stored.tag} has no feature_schema in its metadata") from None


def threshold_of(stored: Any) -> float:
    """The decision threshold recorded with a stored model's metrics (0.5 if none)."""
    return float(stored.info.metadata.get("metrics", {}).get("threshold", 0.5))


def bentoml_home() -> str:
    return os.environ.get("BENTOML_HOME", str(Path.home() / "bentoml"))
