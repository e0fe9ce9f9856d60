"""Registering models in the BentoML model store, and loading them back safely.

The BentoML store is the source of truth: a model is a folder holding the
artifact and a ``model.yaml`` whose metadata carries the lineage. The artifact is
written in the skops format (:mod:`nbprod.model.artifacts`), whose loading runs no code
outside a list of trusted types, or, for a model she exported to ONNX, as its graph, whose
loading runs no Python code at all (:mod:`nbprod.model.onnx_model`); its file name, format and sha256 are recorded in
the metadata (``artifact``), and the sha256 is checked before loading, against
accidental damage (a truncated copy, a full disk).

Models stored as a pickle (``format: joblib``, before skops) are refused with a
message saying to retrain: loading a pickle runs code, and whoever can write the
store can also rewrite its recorded sha256.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from ..data.schema import FeatureSchema, _drop_none
from ..errors import ModelStoreError
from ..model import artifacts
from ..model.compiling import Compiled
from ..model.onnx_model import OnnxModel
from ..model.trust import Trust
from .lineage import sha256_file

log = logging.getLogger(__name__)

ARTIFACT = artifacts.FILE_NAME
#: The compiled graph's file in a stored model's folder (:mod:`nbprod.model.compiling`).
COMPILED = "compiled.onnx"
#: Set to 0 to serve and score with the stored artifact even where a compiled graph passed.
COMPILED_ENV = "NBPROD_COMPILED"
FILES = "files"
INFO_FILE = "model.yaml"


def register_model(
    name: str,
    model: Any,
    metadata: dict[str, Any],
    labels: dict[str, str] | None = None,
    files: dict[str, str | Path] | None = None,
    compiled: Compiled | None = None,
) -> str:
    """Save ``model`` as a new version of ``name`` in the BentoML store; return its tag.

    ``metadata`` must be JSON-like (None values are dropped); the artifact's file name,
    format and sha256 are added under ``artifact``. ``files`` (name in the model -> path)
    are copied into the model's ``files/`` folder, e.g. the executed notebooks that
    produced it, so they stay readable after later builds overwrite them. ``compiled`` is
    the model's compiled form (:mod:`nbprod.model.compiling`): its record goes under
    ``compiled`` and, when it passed its parity check, its graph beside the artifact as
    ``compiled.onnx`` with its sha256.
    """
    import bentoml

    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    with bentoml.models.create(name, labels=labels or {}, metadata={}) as bento_model:
        fmt, file = artifacts.format_of(model)
        path = artifacts.save_model(model, Path(bento_model.path) / file)
        meta = _drop_none(dict(metadata))
        meta["artifact"] = {"file": file, "sha256": sha256_file(path), "format": fmt}
        if compiled is not None:
            meta["compiled"] = dict(compiled.record)
        if compiled is not None and compiled.usable and compiled.graph is not None:
            graph = Path(bento_model.path) / COMPILED
            graph.write_bytes(compiled.graph)
            meta["compiled"].update(file=COMPILED, sha256=sha256_file(graph))
        for key, src in (files or {}).items():
            dest = Path(bento_model.path) / FILES / key
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        bento_model.info.metadata.update(meta)
    tag = str(bento_model.tag)
    log.info("registered %s in %s", tag, bentoml_home())
    return tag


def get_model(tag: str):
    """The stored ``bentoml.Model`` for ``tag`` (``name`` alone means the latest), its
    ``model.yaml`` read and checked (a corrupt one is named with its fault)."""
    import bentoml

    try:
        model = bentoml.models.get(tag)
    except bentoml.exceptions.NotFound:
        raise ModelStoreError(
            f"model {tag!r} is not in the store at {bentoml_home()}; "
            "run the pipeline (ploomber build) or check `bentoml models list`"
        ) from None
    except Exception as exc:  # noqa: BLE001 - BentoML parses model.yaml here for 'latest'
        raise _corrupt_info(tag.partition(":")[0], exc) from None
    read_info(model)
    return model


def read_info(model: Any) -> Any:
    """``model.info``, or a :class:`ModelStoreError` naming its ``model.yaml`` and the fault.

    BentoML reads ``model.yaml`` lazily and lets a YAML, key or type error escape from
    wherever the first attribute is read (the service's import, a listing).
    """
    try:
        return model.info
    except Exception as exc:  # noqa: BLE001 - YAMLError, KeyError, cattrs' ExceptionGroup, ...
        raise ModelStoreError(
            f"{Path(model.path) / INFO_FILE}: {_fault(exc)}; the file is corrupt. Restore it "
            f"from a backup, or delete the version (bentoml models delete {model.tag})"
        ) from None


def _corrupt_info(name: str, exc: Exception) -> ModelStoreError:
    """Find which ``model.yaml`` of model ``name`` broke a listing of the store."""
    import yaml

    for info in sorted((Path(bentoml_home()) / "models" / name).glob(f"*/{INFO_FILE}")):
        try:
            data = yaml.safe_load(info.read_text())
            if not isinstance(data, dict):
                raise ValueError("it is empty or not a mapping")
            missing = sorted({"name", "version", "creation_time", "labels", "metadata"} - set(data))
            if missing:
                raise ValueError(f"required field(s) {', '.join(missing)} missing")
        except (yaml.YAMLError, ValueError, OSError) as inner:
            return ModelStoreError(f"{info}: {_fault(inner)}; the file is corrupt. Restore it "
                                   "from a backup, or delete that version's folder")
    return ModelStoreError(f"the model store at {bentoml_home()} cannot be read for {name!r}: "
                           f"{_fault(exc)}")


def _fault(exc: BaseException) -> str:
    """One line describing a parse error (YAML's problem and position, or the exception)."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_fault(e) for e in exc.exceptions)
    if isinstance(exc, KeyError):
        return f"required field {exc} is missing"
    if isinstance(exc, ValueError) and str(exc):
        return str(exc).splitlines()[0]
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def load_model(tag: str, trust: Trust | None = None) -> Any:
    """Load the artifact of ``tag`` after checking its recorded sha256 (``trust``: what it
    may hold; the project's trust file by default)."""
    return load_artifact(get_model(tag), trust)


def artifact_path(stored: Any) -> Path:
    """The checked path of a stored model's artifact: recorded, in a known format, present
    and with its recorded sha256. Raises :class:`ModelStoreError` naming the fault."""
    artifact = read_info(stored).metadata.get("artifact")
    if not artifact:
        raise ModelStoreError(f"model {stored.tag}: no artifact record in its metadata")
    fmt = artifact.get("format")
    if fmt not in (artifacts.FORMAT, artifacts.ONNX_FORMAT):
        raise ModelStoreError(
            f"model {stored.tag}: stored as {fmt!r}, not {artifacts.FORMAT!r}. Loading a pickle "
            "can run code, so nbprod no longer loads it: retrain and register it again (make run)"
        )
    return _checked_file(stored, artifact, "artifact")


def _checked_file(stored: Any, record: dict[str, Any], what: str) -> Path:
    """The file ``record`` names in a stored model's folder, present and with the sha256
    ``record`` holds, else :class:`ModelStoreError` naming ``what`` and the fault."""
    path = Path(stored.path) / Path(str(record.get("file", ""))).name
    if not path.is_file():
        raise ModelStoreError(f"model {stored.tag}: {what} {path} is missing")
    actual = sha256_file(path)
    if actual != record.get("sha256"):
        raise ModelStoreError(
            f"model {stored.tag}: {what} {path} has sha256 {actual[:12]}..., "
            f"registered as {str(record.get('sha256'))[:12]}...; it was modified or truncated, "
            "refusing to load it"
        )
    return path


def load_artifact(stored: Any, trust: Trust | None = None) -> Any:
    """Load the artifact of a stored model (from :func:`get_model`), sha256-checked, skops
    only, holding only what ``trust`` allows (the project's trust file by default)."""
    return artifacts.load_model_file(artifact_path(stored), trust)


def compiled_enabled() -> bool:
    """Whether compiled graphs answer here: not when ``$NBPROD_COMPILED`` is ``0``."""
    return os.environ.get(COMPILED_ENV, "1").strip() != "0"


def load_compiled(stored: Any, enabled: bool | None = None) -> OnnxModel | None:
    """The compiled graph of a stored model when it passed its parity check (sha256-checked,
    like the artifact), else None; None too when ``enabled`` is False (by default: when
    ``$NBPROD_COMPILED`` is ``0``, :func:`compiled_enabled`)."""
    record = read_info(stored).metadata.get("compiled") or {}
    if not (compiled_enabled() if enabled is None else enabled) or not record.get("file"):
        return None
    if not (record.get("parity") or {}).get("passed"):
        raise ModelStoreError(f"model {stored.tag}: its compiled graph is recorded without a "
                              "passed parity check; the metadata was modified")
    path = _checked_file(stored, record, "compiled graph")
    return OnnxModel(path.read_bytes(), f"model {stored.tag}: compiled graph {path}")


def serving_model(stored: Any, trust: Trust | None = None, compiled: bool | None = None) -> Any:
    """What answers for a stored model: its compiled graph where one passed parity and
    ``compiled`` allows it (:func:`load_compiled`), else its artifact (:func:`load_artifact`)."""
    return load_compiled(stored, compiled) or load_artifact(stored, trust)


def feature_schema(tag: str) -> FeatureSchema:
    """The feature schema stored with model ``tag``."""
    return schema_of(get_model(tag))


def schema_of(stored: Any) -> FeatureSchema:
    """The feature schema in a stored model's metadata."""
    try:
        return FeatureSchema.from_dict(read_info(stored).metadata["feature_schema"])
    except KeyError:
        raise ModelStoreError(f"model {stored.tag} has no feature_schema in its metadata") from None


def threshold_of(stored: Any) -> float:
    """The decision threshold recorded with a stored model's metrics (0.5 if none)."""
    return float(stored.info.metadata.get("metrics", {}).get("threshold", 0.5))


def bentoml_home() -> str:
    return os.environ.get("BENTOML_HOME", str(Path.home() / "bentoml"))


def check_servable(tag: str, trust: Trust | None = None) -> None:
    """Raise :class:`ModelStoreError` unless model ``tag`` can be served: its ``model.yaml``
    parses, its artifact is a skops file with its recorded sha256, holding only trusted
    types, and it loads; so does its compiled graph, if it has one; its feature schema is
    readable."""
    stored = get_model(tag)
    schema_of(stored)
    load_artifact(stored, trust)
    load_compiled(stored)


def verify_servable(tag: str, trust: Trust | None = None) -> None:
    """Stop the process with one clear line (exit status 1) unless ``tag`` can be served.

    A service module calls it at import: ``bentoml serve`` imports the service in the
    server process before it starts any worker, so a broken stored model ends the server
    with ``error: <what and where>`` instead of workers crash-looping on it.
    """
    try:
        check_servable(tag, trust)
    except ModelStoreError as exc:
        raise SystemExit(f"error: cannot serve {tag}: {exc}") from None
    log.debug("model %s is servable", tag)
