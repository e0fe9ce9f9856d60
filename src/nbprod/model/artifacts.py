"""Model files whose loading runs no code outside an explicit list of trusted types.

A model is written with skops (``skops.io.dump``), which stores the object tree as
data: loading it rebuilds only types on a list, and refuses every other type before
creating anything. A pickle (joblib) runs whatever its ``__reduce__`` names, so a
file written by anyone who can write the model store or the products folder could run
code in the server or the build; this module never unpickles.

The trusted list is skops' own defaults (scikit-learn's estimators, numpy, scipy and
Python builtins) plus what :mod:`nbprod.model.trust` allows: nbprod's reviewed lists per
library, the project's own packages and the types of its trust file. It never comes from
the file or from the store, which an attacker could write.

:func:`save_model` keeps its promise that what it writes can be loaded back: it refuses,
naming the type or function and what to do, a model that is not a scikit-learn-API
estimator, one skops cannot store, one holding a function of the notebook itself
(``__main__``), one holding an untrusted type, and one that fails to load back.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ModelStoreError
from .onnx_model import FILE_NAME as ONNX_FILE
from .onnx_model import FORMAT as ONNX_FORMAT
from .onnx_model import OnnxModel, is_onnx, onnx_bytes
from .trust import MAIN, Trust, project_trust

log = logging.getLogger(__name__)

#: The format and file name new models are stored with (recorded in their metadata).
FORMAT = "skops"
FILE_NAME = "model.skops"
#: What a refusal tells to do with a model that is not a scikit-learn-API estimator.
EXPORT_ONNX = "export it to ONNX and hand nbprod the .onnx file (docs/own-model.md)"


def check_estimator_api(model: Any) -> None:
    """Refuse, in one line naming its type, a model without the scikit-learn API."""
    if is_onnx(model):
        return
    missing = [m for m in ("get_params", "predict") if not callable(getattr(model, m, None))]
    if missing:
        raise ModelStoreError(
            f"a {_type_name(model)} is not a scikit-learn-API model (it has no "
            f"{' or '.join(missing)}); {EXPORT_ONNX}"
        )


def dumps(model: Any) -> bytes:
    """``model`` in the skops format; what skops cannot store is named with where it is."""
    import skops.io as sio

    check_estimator_api(model)
    try:
        return sio.dumps(model)
    except RecursionError:
        raise ModelStoreError(
            f"a {_type_name(model)} cannot be stored in the skops format (its object graph "
            f"is too deep or circular); {EXPORT_ONNX}"
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        where = _unstorable(model)
        raise ModelStoreError(
            f"the model cannot be stored in the skops format: {where or _type_name(model)} "
            f"({exc}). Keep fitted attributes as lists, dicts, numbers, strings or numpy "
            "arrays (a pandas Index: .tolist())"
        ) from None


def held_types(data: bytes) -> set[str]:
    """Every type and function (``module.name``) a skops file's object tree holds."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    return {f"{node['__module__']}.{node['__class__']}" for node in _nodes(schema)
            if node.get("__module__") and node.get("__class__")}


def _nodes(value: Any) -> Iterator[dict]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def format_of(model: Any) -> tuple[str, str]:
    """The format and file name ``model`` is stored with: ONNX for a graph, else skops."""
    return (ONNX_FORMAT, ONNX_FILE) if is_onnx(model) else (FORMAT, FILE_NAME)


def save_model(model: Any, path: str | Path, trust: Trust | None = None) -> Path:
    """Write ``model`` to ``path`` in the skops format, once it is sure to load back; an
    ONNX model (an ``onnx.ModelProto``) as its graph, once onnxruntime loads it.

    Refused, with what to do: a model without the scikit-learn API, one skops cannot store,
    a function or class of the notebook itself, a type ``trust`` (the project's trust
    file) does not allow, a model that fails to load back.
    """
    path = Path(path)
    if is_onnx(model):
        data = onnx_bytes(model)
        OnnxModel(data, str(path))  # loads back, or says why not
        return _write(data, path)
    import skops.io as sio

    trust = trust if trust is not None else project_trust()
    data = dumps(model)
    found = sio.get_untrusted_types(data=data)
    main = sorted(t for t in held_types(data) if t.split(".")[0] == MAIN)
    refused = sorted({*trust.refused(found), *main})
    if refused:
        raise ModelStoreError(
            f"{path}: the model holds type(s) outside the trusted list: {', '.join(refused)}; "
            f"it could not be loaded back:\n  {trust.advice(refused)}"
        )
    try:
        sio.loads(data, trusted=found)
    except Exception as exc:  # noqa: BLE001 - whatever rebuilding the model raised
        raise ModelStoreError(f"{path}: the model does not load back from the skops format "
                              f"({type(exc).__name__}: {exc})") from None
    return _write(data, path)


def _write(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    log.debug("saved the model to %s", path)
    return path


def load_model_file(path: str | Path, trust: Trust | None = None) -> Any:
    """Load a model written by :func:`save_model`, refusing any type ``trust`` (the
    project's trust file) does not allow.

    Raises :class:`ModelStoreError` naming the file and the fault: missing, not a skops
    file (a pickle, a truncated or damaged archive), holding untrusted type(s), or
    needing a module that is not installed.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelStoreError(f"{path}: model file not found; run the pipeline (make run)")
    if not zipfile.is_zipfile(path) and _looks_like_onnx(path):
        return OnnxModel(path.read_bytes(), str(path))
    trust = trust if trust is not None else project_trust()
    try:
        found = sio.get_untrusted_types(file=path)
        refused = trust.refused(found)
        if refused:
            raise ModelStoreError(
                f"{path}: refusing to load type(s) outside the trusted list: "
                f"{', '.join(refused)}; loading them could run code.\n  {trust.advice(refused)}"
            )
        return sio.load(path, trusted=found)
    except ModuleNotFoundError as exc:
        raise ModelStoreError(
            f"{path}: the model needs module {exc.name!r}, which is not installed here; "
            "install the project (make install) or the library it was trained with"
        ) from None
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError) as exc:
        raise ModelStoreError(
            f"{path}: not a readable {FORMAT} model file ({type(exc).__name__}: {exc}); "
            "it is truncated, damaged or in another format (a pickle?): retrain (make run)"
        ) from None


def _looks_like_onnx(path: Path) -> bool:
    """An ONNX file is a protobuf whose first field is ``ir_version`` (tag 0x08); a pickle
    starts with 0x80, a skops file is a zip."""
    with path.open("rb") as f:
        return f.read(1) == b"\x08"


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _unstorable(model: Any, where: str = "model", depth: int = 0) -> str | None:
    """The attribute path of the first value skops cannot store, e.g.
    ``model.steps[0][1].columns_ (pandas.Index)``."""
    import skops.io as sio

    children: list[tuple[str, Any]]
    if isinstance(model, dict):
        children = [(f"{where}[{k!r}]", v) for k, v in model.items()]
    elif isinstance(model, list | tuple):
        children = [(f"{where}[{i}]", v) for i, v in enumerate(model)]
    elif callable(getattr(model, "get_params", None)) and hasattr(model, "__dict__"):
        children = [(f"{where}.{k}", v) for k, v in vars(model).items()]
    else:
        children = []
    for name, value in children:
        try:
            sio.dumps(value)
        except Exception:  # noqa: BLE001 - any failure: look inside
            inner = _unstorable(value, name, depth + 1) if depth < 20 else None
            return inner or f"{name} ({_type_name(value)})"
    return None
